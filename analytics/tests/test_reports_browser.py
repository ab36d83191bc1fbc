"""/reports/ in Chromium: the charts draw (offline, under the CSP), and the page passes axe."""
import pytest

from analytics.testing import at, meet
from core.browser_testing import axe_violations, format_violations, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_charts_draw_and_the_page_is_accessible(live_server, browser_page, users, event_at, visits, cases):
    for day in (3, 10, 17):
        e = event_at(at(2026, 11, day, 9, 0), accepted=40, resolved=500)
        meet(e, "respond", after_s=40)
    page = browser_page
    log_in(page, live_server.url, "dispatcher")
    page.goto(f"{live_server.url}/reports/?date_from=2026-11-01&date_to=2026-11-30&group_by=day&interval=week")
    page.wait_for_function("document.querySelectorAll('.chart svg').length === 6")
    assert page.locator("#chart-trends svg path").count() > 0
    assert page.locator("#chart-inspections svg path").count() > 0 and page.locator("#chart-cases svg path").count() > 0
    assert page.console_errors == [] and page.outside_requests == []
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
