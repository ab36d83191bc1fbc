"""The map page in a real browser (Debian's Chromium through Playwright): boundaries drawn with no tile
server (the offline base map under them), subjects clustered, names rendered as text, no asset from outside."""
import pytest

from core.browser_testing import log_in
from grids import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_map_draws_boundaries_and_subjects_without_tiles(browser_page, live_server, users, categories, settings):
    page = browser_page
    settings.MAP_TILE_URL = ""
    services.update_area(None, users["bureau"].area_memberships.get().area.children.get(code="S1"),
                         name="<img src=x onerror=alert(1)>西街道")
    services.insert_subject(None, name="老王面馆", category=categories["restaurant"],
                            contact_phone="13812345678", lat=30.2, lng=120.2)
    log_in(page, live_server.url, "dispatcher")
    page.goto(f"{live_server.url}/map/")
    try:
        page.wait_for_function("document.getElementById('map-status').textContent.indexOf('1 ') === 0", timeout=15000)
    except Exception:
        raise AssertionError((page.inner_text("#map-status"), page.console_errors, page.outside_requests, page.content()[:3000]))
    # The street outlines are drawn on the plain background (on a canvas: preferCanvas).
    painted = page.evaluate("""() => {
        const c = document.querySelector('.leaflet-overlay-pane canvas');
        if (!c) return 0;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
        return n;
    }""")
    assert painted > 1000
    assert page.locator(".leaflet-tile").count() == 0
    # Under them the offline base map (no tile server): its own canvas, painted, and its landmarks named.
    page.wait_for_selector(".leaflet-basemap-pane canvas", state="attached", timeout=5000)
    base_painted = page.evaluate("""() => {
        const c = document.querySelector('.leaflet-basemap-pane canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
        return n;
    }""")
    page.evaluate("window.scrollTo(0, 0)")
    assert base_painted > 0
    assert page.locator(".leaflet-basemapLabels-pane .basemap-label").count() >= 1
    # A hostile area name stays text.
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert not page.console_errors, page.console_errors
    assert not page.outside_requests, page.outside_requests
