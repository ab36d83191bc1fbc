"""Case deadlines in a real browser (Debian's Chromium, a real websocket): the deadline check's
`case.deadline` push raises a toast linking to the case on the street leader's desk, and a line on the
leader's review page; another street's leader sees neither."""
from datetime import timedelta

import pytest

from cases import services as case_services
from cases.testing import deadline_pages
from command_center.testing import person_case_in_s1
from core.browser_testing import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_case_deadline_toast_on_the_desk_and_the_review_page(browser_page, asgi_live_server, users, catalog, teams,
                                                            departments, settings):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    case = person_case_in_s1(users, teams, departments, prefix="bd")
    page, review, other = deadline_pages(page, base)

    in_thread(case_services.check_deadlines, now=case.step_due_at - timedelta(hours=1))
    toast = page.wait_for_selector(f"a.cc-alert[data-case='{case.pk}']", timeout=5000)
    assert case.number in toast.inner_text() and toast.get_attribute("href") == f"/cases/{case.pk}/"
    line = review.wait_for_selector(f"#case-alerts a[data-case='{case.pk}']", timeout=5000)
    assert case.number in line.inner_text() and not review.is_hidden("#case-alerts")
    in_thread(case_services.check_deadlines, now=case.step_due_at + timedelta(minutes=1))
    page.wait_for_selector(f"a.cc-alert-breach[data-case='{case.pk}']", timeout=5000)
    review.wait_for_selector(f"#case-alerts a.case-alert-overdue[data-case='{case.pk}']", timeout=5000)
    assert other.locator(".cc-alert").count() == 0
    assert not page.console_errors, page.console_errors
    assert not review.console_errors, review.console_errors
