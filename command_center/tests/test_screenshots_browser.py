"""Screenshots of the desk (/command/), the big screen (/command/screen/) and the map (/map/) on the demo
district (load_demo, the session's one load replayed: its streets, subjects, officers, open events; no
tile server, so the offline base map), at 1366×768 and 1920×1080, in Chinese and English, into test-artifacts/ for a person to look at;
and what can be checked on them by machine: the page fills the window without overlaps, the big screen's
title stays on one line, its list of red and overdue events is filled."""
import pytest

from command_center import testing as cc_testing
from core.browser_testing import ARTIFACTS
from core.browser_testing import log_in
from grids.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = ((1366, 768), (1920, 1080))
LANGUAGES = ("zh-hans", "en")


@pytest.fixture
def demo(transactional_db, demo_snapshot, settings):
    """The demo committed (the live server reads it from its own connection); the test's flush removes it."""
    settings.MAP_TILE_URL = ""
    return cc_testing.restore_demo(demo_snapshot)


def _overlaps(page, a, b):
    return page.evaluate("""([a, b]) => {
        const r = document.querySelector(a).getBoundingClientRect(), s = document.querySelector(b).getBoundingClientRect();
        return !(r.right <= s.left || s.right <= r.left || r.bottom <= s.top || s.bottom <= r.top);
    }""", [a, b])


def test_screenshots_of_the_desk_the_screen_and_the_map(demo, browser_page, asgi_live_server, settings):
    base, page = asgi_live_server, browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, base, "dispatcher", password=DEMO_PASSWORD)
    for lang in LANGUAGES:
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": base}])
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            # The desk: the header under the top bar, never over the user's name or the log-out button.
            page.goto(f"{base}/command/")
            page.wait_for_selector(".cc-row", timeout=15000)
            page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane canvas').length > 0", timeout=5000)
            for mine in (".cc-header", ".cc-counters"):
                for theirs in (".topbar .who", ".topbar .logout", ".topbar nav"):
                    assert not _overlaps(page, mine, theirs), (lang, width, mine, theirs)
            # The whole desk in the window: the queue reaches the bottom, the page does not scroll.
            assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1"), (lang, width)
            page.screenshot(path=str(ARTIFACTS / f"command-{lang}-{width}x{height}.png"))
            page.click(".cc-row")
            page.wait_for_selector("#cc-drawer-body .cc-timeline li", timeout=5000)
            page.screenshot(path=str(ARTIFACTS / f"command-drawer-{lang}-{width}x{height}.png"))

            page.goto(f"{base}/command/screen/")
            page.wait_for_selector(".screen-queue .cc-row", timeout=15000)
            page.wait_for_selector("#fig-source li", timeout=15000)
            # The title on one line: its height is one line's.
            assert page.evaluate("""() => { const h = document.querySelector('.screen-head h1');
                return h.getBoundingClientRect().height < parseFloat(getComputedStyle(h).fontSize) * 1.8; }"""), (lang, width)
            assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1"), (lang, width)
            page.screenshot(path=str(ARTIFACTS / f"screen-{lang}-{width}x{height}.png"))

            page.goto(f"{base}/map/")
            page.wait_for_function("/\\d/.test(document.getElementById('map-status').textContent)", timeout=15000)
            page.wait_for_selector(".marker-cluster", timeout=15000)
            assert not _overlaps(page, "#map", ".topbar"), (lang, width)
            page.screenshot(path=str(ARTIFACTS / f"map-{lang}-{width}x{height}.png"))
    assert not page.console_errors, page.console_errors
    assert not page.outside_requests, page.outside_requests
