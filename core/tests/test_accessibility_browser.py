"""Every page of the site through axe-core (WCAG 2.0/2.1 A and AA: core.browser_testing.WCAG_AA_TAGS) in a
real browser, signed in as the role that uses it: 0 violations. The desk (/command/) is checked with an
event's drawer open (its details, candidates and action forms), in Chinese and in English.

The pages are those of config/urls.py that render HTML. Left out, and why: the Django admin (/admin/) and
the API's docs (/api/docs/, /api/redoc/) are third-party pages; /catalog/export/ is a file;
/catalog/delegations/<pk>/revoke/ and /logout/ answer POSTs only; /i18n/ is a redirect.
"""
import pytest

from command_center.testing import S1_POINT
from core.browser_testing import axe_violations, format_violations, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    # (who signs in, path; {scenario} and {version} are filled from the data below)
    ("anonymous", "/login/"),
    ("anonymous", "/credit/ranking/public/"),
    ("bureau", "/"),
    ("dispatcher", "/command/"),
    ("dispatcher", "/command/screen/"),
    ("leader_s1", "/command/"),
    ("bureau", "/map/"),
    ("bureau", "/subjects/"),
    ("bureau", "/subjects/import/"),
    ("bureau", "/credit/ranking/"),
    ("bureau", "/catalog/"),
    ("bureau", "/catalog/scenarios/{scenario}/"),
    ("bureau", "/catalog/versions/"),
    ("bureau", "/catalog/versions/{version}/diff/"),
    ("bureau", "/catalog/supermarket/"),
    ("bureau", "/catalog/import/"),
    ("bureau", "/audit/"),
    ("bureau", "/users/"),
    ("dispatcher", "/reports/"),
    ("leader_s1", "/reports/warnings/"),
    ("bureau", "/reports/assessment/"),
    ("officer_s1", "/m/"),
    ("officer_s1", "/command/"),          # the refusal: the 403 page
    ("bureau", "/no-such-page/"),         # the 404 page
]


@pytest.fixture
def site(users, officers, categories, catalog, report):
    """A little of everything the pages show: a subject, a scenario, events (one overdue), officers."""
    from datetime import timedelta

    from django.utils import timezone

    from command_center.models import Deadline
    from enforcement.models import CatalogVersion
    from enforcement.services import scenarios as scenario_services
    from grids import services as grid_services
    from grids.choices import DutyStatus

    grid_services.insert_subject(None, name="老王面馆", category=categories["restaurant"], contact_phone="13812345678",
                                 lat=30.2, lng=120.2)
    scenario = scenario_services.create_scenario(None, code="SC1", name="开餐馆一件事", areas=[users["bureau"].area_memberships.get().area],
                                                 items=[{"kind": "enforcement", "matter_code": "M-ZD"}])
    officer = officers["s1"]
    officer.duty_status, officer.last_lat, officer.last_lng = DutyStatus.AVAILABLE, S1_POINT[0], S1_POINT[1] + 0.001
    officer.last_position_at, officer.last_heading = timezone.now(), 45.0
    officer.save()
    first = report(address="测试路1号")
    report(problem_type="YYCB", address="测试路2号", point=(S1_POINT[0] + 0.01, S1_POINT[1]))
    Deadline.objects.filter(event=first, met_at__isnull=True).update(due_at=timezone.now() - timedelta(minutes=5))
    return {"scenario": scenario.pk, "version": CatalogVersion.objects.order_by("-number").first().pk}


def _check(page, where):
    violations = axe_violations(page)
    assert violations == [], f"{where}:\n{format_violations(violations)}"


@pytest.mark.parametrize("who, path", PAGES)
def test_page_has_no_wcag_aa_violations(site, browser_page, asgi_live_server, settings, who, path):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    if who != "anonymous":
        log_in(page, base, who, then="/m/" if who.startswith("officer") else "/")  # officers land on their phone page
    url = base + path.format(**site)
    page.goto(url)
    if path == "/command/" and who != "officer_s1":
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15000)
        page.wait_for_selector(".cc-row", timeout=5000)
        _check(page, f"{path} as {who}")
        page.click(".cc-row")
        page.wait_for_selector("#cc-drawer-body .cc-timeline li", timeout=5000)
        _check(page, f"{path} as {who}, the drawer open")
    elif path == "/command/screen/":
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15000)
        page.wait_for_selector(".screen-queue .cc-row", timeout=5000)
        _check(page, f"{path} as {who}")
    else:
        page.wait_for_load_state("networkidle")
        _check(page, f"{path} as {who}")


@pytest.mark.parametrize("path", ["/command/", "/command/screen/", "/map/"])
def test_desk_screen_and_map_in_english_have_no_violations(site, browser_page, asgi_live_server, settings, path):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
    log_in(page, base, "dispatcher")
    page.goto(base + path)
    assert page.get_attribute("html", "lang") == "en"
    if path == "/command/":
        page.wait_for_selector(".cc-row", timeout=15000)
        page.click(".cc-row")
        page.wait_for_selector("#cc-drawer-body .cc-timeline li", timeout=5000)
    elif path == "/command/screen/":
        page.wait_for_selector(".screen-queue .cc-row", timeout=15000)
    else:
        page.wait_for_load_state("networkidle")
    _check(page, f"{path} in English")
