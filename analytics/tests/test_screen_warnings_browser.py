"""The big screen shows its user's open hot-area warnings: on its map (hatched grid, label, legend entry, as
on the desk) and in its list (grid, count in the window, since when, acknowledged or not in words); one
raised while the screen is open appears, says so once acknowledged, and goes when it expires. Another
street's warning never shows. 0 axe violations; a screenshot into test-artifacts/ for a person to look at."""
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import services
from analytics.models import HotspotWarning
from analytics.testing import warning_in
from command_center.models import Event
from core.browser_testing import ARTIFACTS, axe_violations, format_violations, in_thread, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _row(page, warning_id):
    return page.locator(f"#cc-warning-list tr[data-warning='{warning_id}']")


def test_the_screen_shows_a_raised_warning_and_drops_it_when_it_expires(browser_page, asgi_live_server, users,
                                                                        district, report, settings):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    # Open before the page: one in the leader's street, one in the other street.
    before, elsewhere = (warning_in(district, grid, code="YYCB", name="餐饮油烟", count=n)
                         for grid, n in (("S1G2", 4), ("S2G1", 6)))
    log_in(page, base, "leader_s1")
    page.goto(f"{base}/command/screen/")
    page.wait_for_selector("body[data-ready='1'][data-link='live']", state="attached", timeout=15000)
    page.wait_for_function(f"window.ccDebug.hasWarning({before.pk})", timeout=5000)
    assert "餐饮油烟" in _row(page, before.pk).inner_text() and "未确认" in _row(page, before.pk).inner_text()
    assert not page.evaluate(f"window.ccDebug.hasWarning({elsewhere.pk})")  # another street's
    assert _row(page, elsewhere.pk).count() == 0
    assert page.locator("#cc-legend .lg.hatch").count() == 1

    # Five reports of street vending in S1's grid 1 within the hour: the check raises a warning, pushed live.
    events = [in_thread(report, point=(30.2 + i * 0.01, 120.2)) for i in range(5)]
    Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=timezone.now() - timedelta(hours=1))
    checked = in_thread(services.check_hotspots)
    [raised] = checked["raised"]
    polygon = page.locator(f"path.cc-warning[data-warning='{raised}']")
    polygon.wait_for(state="attached", timeout=5000)
    assert polygon.get_attribute("fill") == "url(#cc-hatch)"
    label = page.locator(f".cc-warning-label[data-warning='{raised}']")
    assert "占道经营" in label.inner_text() and "5" in label.inner_text() and "热点预警" in label.inner_text()
    row = _row(page, raised)
    row.wait_for(timeout=5000)
    cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
    assert district["S1G1"].name in cells[0] and "占道经营" in cells[0]
    assert cells[1] == "7 天内 5 起" and cells[3] == "! 未确认"  # the detector's window (7 days by default)
    assert cells[2] == page.evaluate("""(iso) => new Date(iso).toLocaleString('zh-hans', {timeZone: 'Asia/Shanghai',
        hour12: false, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'})""",
                                     HotspotWarning.objects.get(pk=raised).raised_at.isoformat())
    page.wait_for_function(f"!window.ccDebug.hasWarning({before.pk})", timeout=5000)  # it cooled down: gone
    assert _row(page, before.pk).count() == 0

    # Acknowledged at the desk: the screen's row and label say so in words.
    in_thread(services.acknowledge_warning, users["leader_s1"], HotspotWarning.objects.get(pk=raised), note="已安排巡查")
    page.wait_for_function(f"document.querySelector(\"#cc-warning-list tr[data-warning='{raised}'] .state\")"
                           ".textContent === '✓ 已确认'", timeout=5000)
    page.wait_for_function(f"document.querySelector(\".cc-warning-label[data-warning='{raised}']:last-of-type\")"
                           ".textContent.includes('已确认')", timeout=5000)  # redrawn (the old label fades out)
    assert page.locator("#cc-warning-count").inner_text() == "1"

    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screen-warnings-zh-hans-1920x1080.png"))

    # The rush is over: the warning expires and leaves the map and the list.
    Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=timezone.now() - timedelta(days=30))
    assert in_thread(services.check_hotspots)["expired"] == [raised]
    page.wait_for_function(f"!window.ccDebug.hasWarning({raised})", timeout=5000)
    assert _row(page, raised).count() == 0 and page.locator("path.cc-warning").count() == 0
    assert page.locator("#cc-warning-list .cc-warning-none").inner_text() == "暂无热点预警"
    assert page.locator("#cc-warning-count").inner_text() == "0"
    assert not page.console_errors, page.console_errors


def test_a_warning_raised_while_the_link_was_down_shows_after_the_reconnect(browser_page, asgi_live_server, users,
                                                                            district, settings):
    """A push lost while the link was down: the snapshot after the reconnect brings the warnings again. In
    English, on the smaller screen (1366×768), with a screenshot."""
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    log_in(page, base, "leader_s1")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{base}/command/screen/")
    page.wait_for_selector("body[data-ready='1'][data-link='live']", state="attached", timeout=15000)
    page.wait_for_selector("#cc-warning-list .cc-warning-none", timeout=5000)
    assert page.locator("#cc-warning-list .cc-warning-none").inner_text() == "No hot-area warnings"
    page.evaluate("window.ccDebug.drop()")
    missed = in_thread(warning_in, district, "S1G1")  # written straight in: no push at all
    page.wait_for_function(f"window.ccDebug.hasWarning({missed.pk})", timeout=15000)
    cells = [c.strip() for c in _row(page, missed.pk).locator("th, td").all_inner_texts()]
    assert cells[1] == "5 in 167 h" and cells[3] == "! Not acknowledged"  # warning_in's window: not whole days
    assert "Hot-area warning" in page.locator(f".cc-warning-label[data-warning='{missed.pk}']").inner_text()
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    page.screenshot(path=str(ARTIFACTS / "screen-warnings-en-1366x768.png"))
    assert not page.console_errors, page.console_errors
