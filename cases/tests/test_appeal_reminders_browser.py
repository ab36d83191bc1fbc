"""Appeal deadlines in a real browser (Debian's Chromium, a real websocket): the deadline check's pushes
for an appeal and a colour appeal raise toasts naming the kind on S1's leader's desk and lines on the
review page, linking to the case and to the colour appeal; S2's leader sees none."""
from datetime import timedelta

import pytest

from cases import services
from cases.testing import deadline_pages
from core.browser_testing import in_thread
from credit.choices import FactKind
from credit.services import facts as credit_facts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_appeal_deadline_toasts_on_the_desk_and_lines_on_the_review_page(browser_page, asgi_live_server, users,
                                                                        file_case, walk, shop, settings):
    settings.MAP_TILE_URL = ""
    case = walk(file_case(), "closed")
    credit_facts.post_fact(shop.pk, FactKind.COMPLAINT, source_app="test", source_model="report", source_pk=1,
                           confirmed=True, source_text="投诉")
    appeal = services.appeal(users["leader_s1"], case, kind="reconsideration", grounds="不服")
    color = services.appeal_color(users["leader_s1"], shop.pk, kind="complaint", grounds="颜色不公")
    desk, review, other = deadline_pages(browser_page, asgi_live_server)

    in_thread(services.check_deadlines, now=appeal.due_at - timedelta(hours=1))
    toast = desk.wait_for_selector(f"a.cc-alert[data-appeal='{appeal.pk}']", timeout=5000)
    assert "复议/申诉即将到期" in toast.inner_text() and case.number in toast.inner_text()
    assert toast.get_attribute("href") == f"/cases/{case.pk}/"
    toast = desk.wait_for_selector(f"a.cc-alert[data-color-appeal='{color.pk}']", timeout=5000)
    assert "信用颜色复议/申诉即将到期" in toast.inner_text() and shop.name in toast.inner_text()
    assert toast.get_attribute("href") == f"/color-appeals/#appeal-{color.pk}"
    line = review.wait_for_selector(f"#case-alerts a[data-appeal='{appeal.pk}']", timeout=5000)
    assert "办理期限" in line.inner_text() and not review.is_hidden("#case-alerts")
    review.wait_for_selector(f"#case-alerts a[data-color-appeal='{color.pk}']", timeout=5000)
    in_thread(services.check_deadlines, now=max(appeal.due_at, color.due_at) + timedelta(minutes=1))
    desk.wait_for_selector(f"a.cc-alert-breach[data-appeal='{appeal.pk}']", timeout=5000)
    review.wait_for_selector(f"#case-alerts a.case-alert-overdue[data-color-appeal='{color.pk}']", timeout=5000)
    assert other.locator(".cc-alert").count() == 0
    assert not desk.console_errors, desk.console_errors
    assert not review.console_errors, review.console_errors
