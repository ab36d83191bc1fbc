"""A hot-area warning raised while the desk is open appears on its map as a hatched grid (an SVG pattern
fill) labelled with the problem type and count, says so once acknowledged, and goes when it expires (as does one that was open when
the page opened); the page keeps 0 axe violations."""
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import services
from analytics.testing import warning_in
from command_center.models import Event
from command_center.testing import open_dashboard
from core.browser_testing import axe_violations, format_violations, in_thread, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_warning_raised_while_the_desk_is_open_is_hatched_and_labelled(browser_page, asgi_live_server, users,
                                                                         district, report, settings):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    before = warning_in(district, "S1G2", code="YYCB", name="餐饮油烟", count=4)  # open before the page
    elsewhere = warning_in(district, "S2G1", code="YYCB", name="餐饮油烟", count=6)
    log_in(page, base, "leader_s1")
    open_dashboard(page, base)
    page.wait_for_function(f"window.ccDebug.hasWarning({before.pk})", timeout=5000)
    assert not page.evaluate(f"window.ccDebug.hasWarning({elsewhere.pk})")  # another street's

    # Five reports of street vending in S1's grid 1 within the hour: the check raises a warning, pushed live.
    events = [in_thread(report, point=(30.2 + i * 0.01, 120.2)) for i in range(5)]
    Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=timezone.now() - timedelta(hours=1))
    checked = in_thread(services.check_hotspots)
    [raised] = checked["raised"]
    assert set(checked["expired"]) == {before.pk, elsewhere.pk}  # no events there: they cool down at once
    polygon = page.locator(f"path.cc-warning[data-warning='{raised}']")
    polygon.wait_for(state="attached", timeout=5000)
    assert polygon.get_attribute("fill") == "url(#cc-hatch)"
    assert page.locator("pattern#cc-hatch line").count() == 1  # the hatching itself
    label = page.locator(f".cc-warning-label[data-warning='{raised}']")
    assert "占道经营" in label.inner_text() and "5" in label.inner_text() and "热点预警" in label.inner_text()
    assert page.locator("#cc-legend .lg.hatch").count() == 1
    page.wait_for_function(f"!window.ccDebug.hasWarning({before.pk})", timeout=5000)  # expired: off the map

    violations = axe_violations(page)
    assert violations == [], format_violations(violations)

    # Acknowledged (from the page, as the warnings list does): the label says so, the grid stays hatched.
    status = page.evaluate("""async (id) => {
        const r = await fetch('/api/v1/warnings/' + id + '/acknowledge/', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.querySelector('[name=csrfmiddlewaretoken]').value},
            body: JSON.stringify({note: '已安排巡查'})});
        return r.status; }""", raised)
    assert status == 200
    page.wait_for_function(f"document.querySelector(\".cc-warning-label[data-warning='{raised}']\")"
                           ".textContent.includes('已确认')", timeout=5000)
    assert page.locator(f"path.cc-warning[data-warning='{raised}']").get_attribute("fill") == "url(#cc-hatch)"

    # The rush is over: the warning expires and leaves the map.
    Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=timezone.now() - timedelta(days=30))
    assert in_thread(services.check_hotspots)["expired"] == [raised]
    page.wait_for_function(f"!window.ccDebug.hasWarning({raised})", timeout=5000)
    assert page.locator("path.cc-warning").count() == 0
    page.wait_for_function("!document.querySelector('.cc-warning-label')", timeout=3000)  # its label fades out
