"""The list, user and import pages in a real browser: axe-core finds no WCAG 2.1 AA violation on them, and the
supermarket's filters keep what has been picked."""
import pytest

from core.browser_testing import axe_violations, format_violations, log_in
from grids import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listed(catalog, users, categories):
    services.insert_subject(None, name="老王面馆", category=categories["restaurant"], contact_phone="13812345678",
                            address="文一路1号", lat=30.2, lng=120.2)
    services.insert_subject(None, name="东区商场", category=categories["building_site"], lat=30.2, lng=121.2)
    return users


def _check(page, url, found):
    page.goto(url)
    page.wait_for_load_state("load")
    violations = axe_violations(page)
    if violations:
        found.append(f"{url}\n{format_violations(violations)}")


def test_pages_have_no_axe_violations(browser_page, live_server, listed):
    page = browser_page
    base = live_server.url
    found = []
    _check(page, f"{base}/credit/ranking/public/", found)
    log_in(page, base, "bureau")
    officer = listed["officer_s1"].pk
    for path in ("/subjects/", "/credit/ranking/", "/catalog/", "/catalog/?tab=delegations&street=S1",
                 "/catalog/versions/", "/catalog/supermarket/", "/users/", "/users/new/", f"/users/{officer}/",
                 "/subjects/import/", "/catalog/import/"):
        _check(page, f"{base}{path}", found)
    assert not found, "\n".join(found)
    assert not page.console_errors, page.console_errors
    assert not page.outside_requests, page.outside_requests


def test_supermarket_filters_keep_the_picks(browser_page, live_server, listed):
    page = browser_page
    base = live_server.url
    log_in(page, base, "bureau")
    page.goto(f"{base}/catalog/supermarket/")
    page.fill("input[name=name]", "无证经营整治")
    page.check("input[name=matter][value=SR-001]")
    page.select_option("#f-department", "SCJG")
    page.click("#pick-filters button[type=submit]")
    assert page.url == f"{base}/catalog/supermarket/"  # no reload
    assert page.is_hidden("input[name=matter][value=SR-001]") and page.is_visible("input[name=matter][value=SC-001]")
    page.check("input[name=matter][value=SC-001]")
    assert page.input_value("input[name=name]") == "无证经营整治"
    assert page.inner_text("[data-count=items]") == "2" and page.inner_text("[data-count=departments]") == "2"
    page.select_option("#f-department", "")
    assert page.is_checked("input[name=matter][value=SR-001]")
    page.click("#compose button[type=submit]")
    page.wait_for_url(f"{base}/catalog/scenarios/**")
    from enforcement.models import Scenario

    scenario = Scenario.objects.get(name="无证经营整治")
    assert sorted(i.matter_code for i in scenario.items.all()) == ["SC-001", "SR-001"]
    assert not page.console_errors, page.console_errors
