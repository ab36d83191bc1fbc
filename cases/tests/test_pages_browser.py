"""The case pages in Chromium: WCAG 2.1 AA (axe-core), no CSP refusals, a step taken from its form."""
import pytest

from cases.models import Case
from core.browser_testing import axe_violations, format_violations, log_in


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_case_pages_accessible_and_a_step_from_the_page(browser_page, live_server, users, file_case, walk):
    page = browser_page
    case = walk(file_case(), "review")
    log_in(page, live_server.url, "leader_s1")
    page.goto(f"{live_server.url}/cases/")
    assert case.number in page.inner_text("main")
    assert not axe_violations(page), format_violations(axe_violations(page))
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert not axe_violations(page), format_violations(axe_violations(page))
    page.click("#act-approve button[type=submit]")
    page.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    assert Case.objects.get(pk=case.pk).status == "approved"
    anonymous = page.new_user_page()
    anonymous.goto(f"{live_server.url}/disclosures/")
    assert not axe_violations(anonymous), format_violations(axe_violations(anonymous))
    assert not page.console_errors and not page.outside_requests, (page.console_errors, page.outside_requests)
