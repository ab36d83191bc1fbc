"""The desk when dispatch runs dry, in a real browser: the header counts who can be dispatched beside who
is signed on; an event whose street's officers all have stale positions shows why in the drawer, and the
dispatcher picks one anyway, confirming and giving a reason, which the timeline keeps."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center.models import Event, TimelineEntry
from command_center.testing import open_dashboard
from core.browser_testing import axe_violations, in_thread, log_in
from grids.models import Officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_drawer_shows_why_nobody_qualifies_and_dispatches_anyway(browser_page, asgi_live_server, users,
                                                                  officers, report, settings):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    zhang = officers["s1"]  # S1's only officer: on duty, his phone silent for half an hour
    Officer.objects.filter(pk=zhang.pk).update(last_position_at=timezone.now() - timedelta(minutes=30))
    event = in_thread(report, description="消防通道被占用")

    log_in(page, base, "dispatcher")
    open_dashboard(page, base)
    # The header: 李四 (S2, fresh position) can be dispatched; both are signed on.
    page.wait_for_function("document.querySelector('[data-count=dispatchable]').textContent === '1' && "
                           "document.querySelector('[data-count=on-duty]').textContent === '2'", timeout=5000)

    page.click(f".cc-row[data-id='{event.pk}']")
    reason = "#cc-drawer .cc-excluded li[data-reason='stale_position']"
    page.wait_for_selector(reason, timeout=5000)
    assert page.inner_text(reason).strip() == "1 人定位超过 5 分钟未更新"
    assert page.is_visible("#cc-drawer .cc-none-eligible")
    assert page.query_selector("#cc-drawer .cc-dispatch") is None  # nobody ranked
    # The street's on-duty officer is offered, with the reason he was left out as a warning.
    assert page.input_value("#cc-drawer .cc-override select") == str(zhang.pk)
    assert "定位超过 5 分钟未更新" in page.inner_text("#cc-drawer .cc-override-why")
    assert axe_violations(page, exclude=["#cc-map"]) == []  # the drawer, the header and the queue

    # The browser asks for the reason and the confirmation before anything is sent.
    page.click("#cc-drawer .cc-override button")
    assert Event.objects.get(pk=event.pk).status == "new"
    page.fill("#cc-drawer .cc-override input[name=reason]", "电话联系确认其在现场附近")
    page.check("#cc-drawer .cc-override input[name=override]")
    page.click("#cc-drawer .cc-override button")
    page.wait_for_function(f"window.ccDebug.event({event.pk}).status === 'dispatched' && window.ccDebug.idle()",
                           timeout=5000)
    assert page.is_hidden("#cc-drawer-error")
    event.refresh_from_db()
    assert event.status == "dispatched" and event.officer_id == zhang.pk
    line = TimelineEntry.objects.get(event=event, action="dispatch")
    assert line.data["override"] is True and line.data["excluded"][0]["reason"] == "stale_position"
    page.wait_for_function("document.querySelector('#cc-drawer .cc-timeline').textContent.includes('电话联系确认其在现场附近')",
                           timeout=5000)
