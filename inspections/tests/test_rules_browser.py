"""The pages this issue's last gaps added, in a real browser with axe (WCAG 2.1 AA): the bureau's plan
rules, the plan page's unscheduled table, the visit page's refer / re-inspect forms."""
import pytest
from django.utils import timezone

from core.browser_testing import axe_violations, format_violations
from grids.models import Area
from inspections import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, url, username):
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-1")
    page.click("button[type=submit]")
    page.wait_for_url(url)


def assert_accessible(page):
    violations = axe_violations(page, exclude=(".leaflet-container",))  # the map is an image with a label
    assert not violations, format_violations(violations)


def test_rules_page_by_keyboard(browser_pages, live_server, world):
    page = browser_pages(local_origins=(live_server.url,))
    sign_in(page, f"{live_server.url}/inspections/rules/", "bureau")
    assert_accessible(page)
    page.focus("#daily-cap")
    page.keyboard.type("3")
    page.fill("#item-0-key", "F1")
    page.fill("#item-0-days", "4")
    with page.expect_navigation():
        page.locator("#item-0-days").press("Enter")
    assert services.daily_cap() == 3 and services.comply_by_days(1, "F1") == 4
    page.fill("#daily-cap", "0")
    with page.expect_navigation():
        page.locator("#daily-cap").evaluate("e => e.form.submit()")  # past the browser's own min check
    page.wait_for_selector(".errorlist")
    assert_accessible(page)
    assert page.outside_requests == [] and page.console_errors == []


def test_unscheduled_table_and_visit_actions_are_accessible(browser_pages, live_server, world, users):
    services.save_rules(None, daily_cap=1)
    first = world["month"]
    days = services.working_days(first)
    plan = services._draft(None, Area.objects.get(code="S1"), first, [s.pk for s in world["subjects"]],
                           since=days[-1])
    assert plan.unscheduled
    page = browser_pages(local_origins=(live_server.url, "data:", "blob:"))
    sign_in(page, f"{live_server.url}/inspections/plans/?plan={plan.pk}", "leader_s1")
    page.wait_for_selector("#unscheduled-h")
    assert_accessible(page)
    visit = services.create_visit(users["leader_s1"], street="S1", subject=world["subjects"][0].pk,
                                  date=timezone.localdate(), officers=[world["o1"].pk], kind="one_off",
                                  one_off_reason="complaint")
    services.record_finding(users["leader_s1"], visit.pk, client_id="b-1", item="F1", result="fail",
                            rectification="deadline")
    page.goto(f"{live_server.url}/inspections/{visit.pk}/")
    page.wait_for_selector("#reinspect-h")
    assert_accessible(page)
    assert page.console_errors == []
