"""The review queue, the history and the subject's file in a real browser under the strict CSP: the
leader returns a handled event with a reason and approves another from /review/ with the keyboard; the
three pages pass axe's WCAG 2.1 AA rules; nothing comes from outside."""
import pytest

from command_center.models import Event
from command_center.services import review, transitions
from core.browser_testing import axe_violations, format_violations, log_in
from grids.models import Area, Subject

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def handled(report, users, officers, **fields):
    e = transitions.dispatch(users["dispatcher"], report(**fields), officers["s1"], override=True, reason="指定张三（测试）")
    e = transitions.accept(users["officer_s1"], e)
    e = transitions.arrive(users["officer_s1"], e)
    return transitions.resolve(users["officer_s1"], e, "已劝离摊贩")


def test_leader_reviews_in_the_browser(browser_page, live_server, report, users, officers, categories):
    review.install_default_rules()
    shop = Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=30.2, lng=120.2,
                                  grid=Area.objects.get(code="S1G1"), contact_phone="13911112222")
    first = handled(report, users, officers, problem_type="YYCB", subject=shop.pk)
    second = handled(report, users, officers)
    page = browser_page
    log_in(page, live_server.url, "leader_s1")
    page.goto(f"{live_server.url}/review/")
    assert page.inner_text("nav .count") == "2"
    page.fill(f"#reason-{first.pk}", "照片不清晰，请补拍")
    page.press(f"#reason-{first.pk}", "Enter")
    page.wait_for_selector(".messages li.success")
    assert Event.objects.get(pk=first.pk).return_reason == "照片不清晰，请补拍"
    assert page.inner_text("nav .count") == "1"
    page.focus(f"#event-{second.pk} form button")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=没有待审核的事项。")
    assert Event.objects.get(pk=second.pk).status == "closed"
    assert axe_violations(page) == [], format_violations(axe_violations(page))
    for url in ("/events/", f"/subjects/{shop.pk}/"):
        page.goto(f"{live_server.url}{url}")
        violations = axe_violations(page)
        assert violations == [], f"{url}: {format_violations(violations)}"
    assert "老王面馆" in page.inner_text("h1")
    assert page.console_errors == [] and page.outside_requests == []
