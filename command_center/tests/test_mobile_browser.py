"""The officers' phone page in a real browser (Debian's Chromium through Playwright) on a 360 × 740 screen:
an officer with a dispatched task signs for it, arrives, resolves it with a photo and a note; the page
sends GPS pings; a refusal from the API is shown; nothing comes from outside."""
import io
import threading

import pytest
from django.db import connections
from django.utils import timezone
from PIL import Image

from command_center.models import Event, EventPhoto
from command_center.services import transitions
from core import roles
from grids import accounts
from grids.models import Officer, OfficerPosition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HERE = {"latitude": 30.21, "longitude": 120.21}  # inside S1 grid 1


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MOBILE_PING_SECONDS = 1


@pytest.fixture
def phone(browser_pages, live_server):
    page = browser_pages(local_origins=(live_server.url, "data:"), viewport={"width": 360, "height": 740},
                         is_mobile=True, has_touch=True, geolocation=HERE, permissions=["geolocation"], locale="zh-CN")
    page.on("dialog", lambda d: d.accept())
    return page


def png_bytes():
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def status_of(page, event_id):
    return page.get_attribute(f"#task-{event_id}", "data-status")


def off_loop(fn):
    """Run fn in another thread: Playwright's sync API keeps an event loop in this one, where the live
    push (async_to_sync) refuses to run."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        finally:
            connections.close_all()  # this thread's own connection, or the test database cannot be dropped

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return out["value"]


@pytest.fixture
def tasks(users, officers, report, teams, departments):
    """Created before the browser starts (outside its event loop)."""
    event = transitions.dispatch(users["dispatcher"], report(description="学校门口流动摊贩"), officers["s1"])
    # A second task, which the dispatcher gives to someone else while the page is open.
    taken = transitions.dispatch(users["dispatcher"], report(description="被改派的任务"), officers["s1"])
    user, _ = accounts.add_user(None, username="wang5", role=roles.OFFICER, area_codes=["S1"], password="pass-word-1")
    other_officer = Officer.objects.create(user=user, name="王五", badge_no="B003", team=teams["S1"],
                                           home_department=departments["ZHZF"], duty_status="available",
                                           last_lat=30.2, last_lng=120.2, last_position_at=timezone.now())
    return event, taken, other_officer


def test_officer_signs_for_arrives_and_resolves_with_a_photo(tasks, phone, live_server, users, officers, tmp_path):
    page = phone
    event, taken, other_officer = tasks

    page.goto(f"{live_server.url}/m/")
    page.wait_for_url(f"{live_server.url}/login/?next=/m/")
    page.fill("input[name=username]", "officer_s1")
    page.fill("input[name=password]", "pass-word-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/m/")
    assert "学校门口流动摊贩" in page.inner_text(f"#task-{event.pk}")
    # Countdown running, the layout fits the narrow screen, buttons are big enough to hit.
    page.wait_for_function(f"document.querySelector('#task-{event.pk} .countdown').textContent.indexOf('·') > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = page.locator(f"#task-{event.pk} button[data-action=accept]").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 280

    page.screenshot(path=str(tmp_path / "mobile-tasks.png"), full_page=True)  # artifact, not committed
    # GPS: the page reports where the phone is.
    page.wait_for_function("document.getElementById('gps').classList.contains('ok')", timeout=15000)
    ping = OfficerPosition.objects.filter(officer=officers["s1"], source="mobile").latest("recorded_at")
    assert (round(ping.lat, 4), round(ping.lng, 4)) == (30.21, 120.21)

    # A refusal is shown: the task was given to someone else after the page loaded.
    off_loop(lambda: transitions.dispatch(users["dispatcher"], taken, other_officer, reassign=True, reason="就近改派"))
    page.click(f"#task-{taken.pk} button[data-action=accept]")
    page.wait_for_selector(f"#task-{taken.pk} .msg.err", timeout=10000)
    assert page.inner_text(f"#task-{taken.pk} .msg.err").strip()

    page.click(f"#task-{event.pk} button[data-action=accept]")
    page.wait_for_function(f"(document.getElementById('task-{event.pk}') || {{}}).dataset?.status === 'accepted'")
    page.click(f"#task-{event.pk} button[data-action=arrive]")
    page.wait_for_function(f"(document.getElementById('task-{event.pk}') || {{}}).dataset?.status === 'on_site'")

    # Resolve without a note: refused on the page; with the note and a photo: done.
    page.click(f"#task-{event.pk} button[data-action=resolve]")
    assert "处置结果" in page.inner_text(f"#task-{event.pk} .msg")
    page.fill(f"#task-{event.pk} textarea[name=result]", "已劝离摊贩，现场恢复通行")
    page.set_input_files(f"#task-{event.pk} input[name=photos]",
                         files=[{"name": "after.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.click(f"#task-{event.pk} button[data-action=resolve]")
    page.wait_for_selector(f"#task-{event.pk}", state="detached", timeout=15000)
    page.wait_for_selector("#flash:not([hidden])")
    page.screenshot(path=str(tmp_path / "mobile.png"), full_page=True)  # artifact, not committed

    event = Event.objects.get(pk=event.pk)
    assert event.status == "resolved" and event.result == "已劝离摊贩，现场恢复通行"
    photo = EventPhoto.objects.get(event=event)
    assert (photo.kind, photo.content_type, photo.uploaded_by_label) == ("result", "image/png", "officer_s1")
    assert list(event.timeline.values_list("action", flat=True))[-4:] == ["accept", "arrive", "resolve", "photo"]
    assert not page.console_errors, page.console_errors
    assert not page.outside_requests, page.outside_requests
