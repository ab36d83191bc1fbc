"""The dispatcher's dashboard in a real browser (Debian's Chromium through Playwright), live over a real
websocket: an event posted through the API appears on the map and in the queue without a reload, is
dispatched from the drawer, counts down, and its breach raises the alert; another street's team leader
never sees it; the page survives the link going down.

The server is the project's ASGI application under uvicorn (`asgi_live_server`, command_center's conftest).
"""
import re
import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from command_center.models import Deadline, Event, TimelineEntry
from command_center.services import escalation, sweep
from command_center.testing import S1_POINT, S2_POINT, open_dashboard
from core.browser_testing import ARTIFACTS, in_thread, log_in
from grids.choices import DutyStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def post_event(page, **fields):
    """POST /api/v1/events/ from the page, as any API client would (session + CSRF token)."""
    return page.evaluate("""async (body) => {
        const r = await fetch('/api/v1/events/', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                      'X-CSRFToken': document.querySelector('input[name=csrfmiddlewaretoken]').value},
            body: JSON.stringify(body)});
        return {status: r.status, body: await r.json()};
    }""", fields)


def test_live_dashboard_event_dispatch_countdown_breach_and_scoping(browser_page, asgi_live_server, users, catalog,
                                                                      officers, settings):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    officer = officers["s1"]
    officer.duty_status, officer.last_lat, officer.last_lng = DutyStatus.AVAILABLE, S1_POINT[0], S1_POINT[1] + 0.001
    officer.last_position_at, officer.last_heading = timezone.now(), 90.0
    officer.save()

    log_in(page, base, "dispatcher")
    open_dashboard(page, base)
    # The officer's dot carries a tick the way they were heading.
    page.wait_for_function("window.ccDebug.state().headings >= 1", timeout=3000)

    # 1. An event posted through the API shows up, marker and queue row, without a reload, within 2 s.
    started = time.monotonic()
    answer = post_event(page, source="citizen", problem_type="ZDJY", description="路口流动摊贩占道经营",
                        lat=S1_POINT[0], lng=S1_POINT[1], address="测试路1号")
    assert answer["status"] == 201, answer
    event_id = answer["body"]["id"]
    row = f".cc-row[data-id='{event_id}']"
    page.wait_for_selector(row, timeout=2000)
    page.wait_for_function(f"window.ccDebug.hasMarker({event_id})", timeout=2000)
    assert time.monotonic() - started < 2.0
    assert "测试路1号" in page.inner_text(row)

    # 2. The countdown runs: the nearest deadline, in m:ss, changing every second.
    first = page.inner_text(f"{row} .cc-cd")
    assert re.fullmatch(r"-?\d+:\d\d", first), first
    page.wait_for_function(f"document.querySelector(\"{row} .cc-cd\").textContent !== {first!r}", timeout=3000)

    # 3. Dispatch from the drawer: the ranked candidate's button, through the API with If-Match.
    page.click(row)
    button = f"#cc-drawer .cc-dispatch[data-officer='{officer.pk}']"
    page.wait_for_selector(button, timeout=5000)
    assert page.inner_text("#cc-drawer .cc-reasons").strip()  # each candidate says why
    messages = page.evaluate("window.ccStats.messages")
    page.click(button)
    # The answer, then the push of the same change (assignment.changed) and the drawer's refresh.
    page.wait_for_function(f"window.ccDebug.event({event_id}).status === 'dispatched' && "
                           f"window.ccStats.messages > {messages} && window.ccDebug.idle()", timeout=5000)
    event = Event.objects.get(pk=event_id)
    assert event.status == "dispatched" and event.officer_id == officer.pk
    assert page.is_hidden("#cc-drawer-error")
    # Times read as the district's: Chinese date order, 24-hour, Asia/Shanghai (Chromium here runs en-US, UTC).
    shown = page.inner_text("#cc-drawer time")
    local = timezone.localtime(TimelineEntry.objects.filter(event_id=event_id).order_by("at").first().at)
    assert local.strftime("%Y/%m/%d") in shown and re.search(r"\b\d{2}:\d{2}:\d{2}\b", shown), shown
    assert "AM" not in shown and "PM" not in shown

    # A stale ETag is refused (412) and said so, nothing is written: someone else's change, committed
    # a moment ago and not yet on this page, moved the version on.
    Event.objects.filter(pk=event_id).update(version=F("version") + 1)
    page.fill("#cc-actions form[data-action='escalate'] input[name=reason]", "需要队长到场")
    page.click("#cc-actions form[data-action='escalate'] button")
    page.wait_for_selector("#cc-drawer-error:not([hidden])", timeout=5000)
    assert Event.objects.get(pk=event_id).escalation_level == 0

    # 4. The breach: a stage made due a moment ago, the sweep fires it, the alert flashes on the page.
    Deadline.objects.filter(event_id=event_id, met_at__isnull=True, cancelled_at__isnull=True).update(
        due_at=timezone.now() - timedelta(seconds=1))
    assert in_thread(sweep.sweep_due_deadlines) >= 1
    page.wait_for_selector(f".cc-alert-breach[data-event='{event_id}']", timeout=5000)
    assert page.evaluate("document.querySelector('.cc-header').classList.contains('cc-flash')")
    page.wait_for_selector(f"{row}.late", timeout=3000)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"))

    # 5. The link goes down: the banner shows, the page reconnects and resyncs from the snapshot.
    snapshots = page.evaluate("window.ccStats.snapshots")
    page.evaluate("window.ccDebug.drop()")
    page.wait_for_selector("#cc-banner:not([hidden])", state="attached", timeout=3000)
    page.wait_for_selector("body[data-link='live']", state="attached", timeout=8000)
    assert page.is_hidden("#cc-banner")
    assert page.evaluate("window.ccStats.snapshots") > snapshots
    assert page.locator(row).count() == 1

    assert not page.console_errors, page.console_errors
    assert not page.outside_requests, page.outside_requests

    # 6. The team leader of the other street sees neither the event nor its alert.
    other = page.new_user_page()
    log_in(other, base, "leader_s2")
    open_dashboard(other, base)
    assert other.locator(row).count() == 0
    assert other.evaluate(f"window.ccDebug.hasEvent({event_id})") is False
    version = page.evaluate(f"window.ccDebug.event({event_id}).version")
    in_thread(escalation.escalate, users["dispatcher"], Event.objects.get(pk=event_id), "区级督办")
    page.wait_for_function(f"window.ccDebug.event({event_id}).version > {version}", timeout=3000)
    assert other.locator(row).count() == 0 and other.locator(".cc-alert").count() == 0


def _boxes_overlap(page, a, b):
    return page.evaluate("""([a, b]) => {
        const r = document.querySelector(a).getBoundingClientRect(), s = document.querySelector(b).getBoundingClientRect();
        return r.width > 0 && s.width > 0 && !(r.right <= s.left || s.right <= r.left || r.bottom <= s.top || s.bottom <= r.top);
    }""", [a, b])


def test_desk_layout_filters_search_legend_errors_and_keyboard(report, browser_pages, asgi_live_server, users, officers,
                                                                settings):
    """Issue 14, item 10 and the keyboard: at 1366 px in English the header stays clear of the user's name and
    the log-out button; the legend is there; a street's name finds its events; the filters survive a reload;
    an action's refusal shows beside its buttons; the disconnect banner never covers the search box; the
    skip link reaches the queue, Enter opens the drawer with focus in it, Escape brings focus back."""
    settings.MAP_TILE_URL = ""
    s1_event = in_thread(report, address="测试路1号")
    s2_event = in_thread(report, address="测试路2号", point=S2_POINT)
    base = asgi_live_server
    page = browser_pages(viewport={"width": 1366, "height": 768})
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
    log_in(page, base, "dispatcher")
    open_dashboard(page, base)
    s1_row, s2_row = f".cc-row[data-id='{s1_event.pk}']", f".cc-row[data-id='{s2_event.pk}']"
    page.wait_for_selector(s2_row, timeout=5000)

    # Keyboard: the skip link is the first stop and lands on the queue; the next stop is the first row.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "cc-queue"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('cc-row')")
    focused_id = page.evaluate("document.activeElement.getAttribute('data-id')")
    # The focused row shows it: an outline of at least 2 px.
    assert page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)") >= 2
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'cc-drawer-title'", timeout=5000)
    page.keyboard.press("Escape")
    assert page.is_hidden("#cc-drawer")
    assert page.evaluate("document.activeElement.getAttribute('data-id')") == focused_id

    for mine in (".cc-header", ".cc-counters", "#cc-filters"):
        for theirs in (".topbar .who", ".topbar .logout"):
            assert not _boxes_overlap(page, mine, theirs), (mine, theirs)
    # The legend: each severity by its word and shape, officers and subjects.
    legend = page.inner_text("#cc-legend")
    for word in ("Red event (triangle)", "Orange event (diamond)", "Yellow event (square)", "Blue event (down triangle)",
                 "Officer", "Subject"):
        assert word in legend, legend

    # A street's name finds its events (the test district's streets: 街道1, 街道2).
    page.fill("#cc-filters input[name=q]", "街道2")
    page.wait_for_selector(s1_row, state="detached", timeout=3000)
    assert page.locator(s2_row).count() == 1
    page.fill("#cc-filters input[name=q]", "")
    page.wait_for_selector(s1_row, timeout=3000)

    # The filters are remembered over a reload.
    page.select_option("#cc-filters select[name=street]", str(s2_event.street_id))
    page.wait_for_selector(s1_row, state="detached", timeout=3000)
    page.reload()
    open_dashboard(page, base)
    page.wait_for_selector(s2_row, timeout=5000)
    assert page.input_value("#cc-filters select[name=street]") == str(s2_event.street_id)
    assert page.locator(s1_row).count() == 0
    page.click("#cc-filters .cc-reset")
    page.wait_for_selector(s1_row, timeout=3000)

    # An action refused (a stale ETag: someone else changed the event): the message beside the buttons,
    # in view, with the drawer scrolled down to them.
    page.click(s1_row)
    page.wait_for_selector("#cc-drawer-body .cc-timeline li", timeout=5000)
    Event.objects.filter(pk=s1_event.pk).update(version=F("version") + 1)
    page.fill("#cc-actions form[data-action='escalate'] input[name=reason]", "需要队长到场")
    page.click("#cc-actions form[data-action='escalate'] button")
    page.wait_for_selector("#cc-drawer-error:not([hidden])", timeout=5000)
    assert page.evaluate("document.getElementById('cc-actions').contains(document.getElementById('cc-drawer-error'))")
    assert page.evaluate("""() => {
        const e = document.getElementById('cc-drawer-error').getBoundingClientRect();
        const d = document.getElementById('cc-drawer').getBoundingClientRect();
        return e.top >= d.top && e.bottom <= d.bottom;
    }""")

    # The link goes down: the banner pushes the desk down, it never covers the search box.
    page.keyboard.press("Escape")
    page.evaluate("window.ccDebug.drop()")
    page.wait_for_function("""() => {
        const b = document.getElementById('cc-banner');
        if (b.hidden) return false;
        const r = b.getBoundingClientRect(), s = document.querySelector('#cc-filters input[name=q]').getBoundingClientRect();
        return r.height > 0 && r.bottom <= s.top;
    }""", timeout=3000)
    assert not page.console_errors, page.console_errors
    assert not page.outside_requests, page.outside_requests
