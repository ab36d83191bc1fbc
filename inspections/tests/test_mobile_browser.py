"""The phone flow in a real browser: a visit opened online, the network lost mid-visit, items recorded
(one failed with a photo), the representative signs on the canvas, the visit completed; back online,
everything arrives once (the queue resends by client id), and nothing comes from outside."""
import hashlib
import io

import pytest
from django.utils import timezone
from PIL import Image

from core.browser_testing import axe_violations, format_violations
from inspections import services
from inspections.models import Finding, FindingPhoto, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def today_visit(world, users):
    return services.create_visit(users["leader_s1"], street="S1", subject=world["subjects"][0].pk,
                                 date=timezone.localdate(), officers=[world["o1"].pk], kind="one_off",
                                 one_off_reason="complaint")


def test_offline_visit_arrives_once(browser_pages, live_server, today_visit, tmp_path):
    page = browser_pages(local_origins=(live_server.url, "data:", "blob:"), viewport={"width": 360, "height": 740},
                         is_mobile=True, has_touch=True, locale="zh-CN")
    page.goto(f"{live_server.url}/m/inspections/")
    page.fill("input[name=username]", "officer_s1")
    page.fill("input[name=password]", "pass-word-1")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/m/inspections/")
    page.click(f'[data-open="{today_visit.pk}"]')
    page.wait_for_selector('fieldset.item[data-item="F2"]')
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
    page.context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    first = page.locator('fieldset.item[data-item="F1"]')
    first.locator('input[value="fail"]').check()
    first.locator("select").select_option("deadline")
    first.locator("textarea").fill("未公示证照")
    photo = tmp_path / "p.png"
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, "PNG")
    photo.write_bytes(buf.getvalue())
    first.locator('input[type="file"]').set_input_files(str(photo))
    first.locator(".save").click()
    second = page.locator('fieldset.item[data-item="F2"]')
    second.locator('input[value="pass"]').check()
    second.locator(".save").click()
    page.fill("#rep-name", "刘老板")
    box = page.locator("#sig").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 80, steps=8)
    page.mouse.up()
    page.click("#complete")
    page.wait_for_function("() => document.getElementById('net').dataset.pending === '4'")
    assert Finding.objects.count() == 0 and Visit.objects.get().status == "planned"
    page.context.set_offline(False)
    page.wait_for_function("() => document.getElementById('net').dataset.pending === '0'", timeout=15000)
    visit = Visit.objects.get()
    assert visit.status == "completed" and visit.representative_name == "刘老板" and visit.signature
    assert sorted(Finding.objects.values_list("item_code", "result")) == [("F1", "fail"), ("F2", "pass")]
    assert FindingPhoto.objects.count() == 1
    stored = FindingPhoto.objects.get()  # the file as taken (multipart from the queue), not a base64 copy
    assert stored.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest() and stored.size == photo.stat().st_size
    assert stored.name == "p.png" and stored.image.read() == photo.read_bytes()
    # A resend of the whole queue (the answers lost on the way back) creates nothing twice.
    page.evaluate("""async () => {
      const q = await import('/static/js/inspections/queue.js');
      for (const f of %s) { await q.enqueue(f.url, f.body); }
      await q.flush(document.getElementById('csrf').value);
    }""" % _replay(visit))
    assert Finding.objects.count() == 2 and FindingPhoto.objects.count() == 1
    assert page.outside_requests == [] and page.console_errors == []


def _replay(visit):
    import json
    base = f"/api/v1/inspections/{visit.pk}/"
    return json.dumps([{"url": base + "findings/", "body": {"client_id": f.client_id, "item": f.item_code,
                                                            "result": f.result, "note": f.note,
                                                            "rectification": f.rectification}}
                       for f in Finding.objects.all()])


def test_plan_page_calendar_move_and_approve(browser_pages, live_server, world, users):
    """The leader's plan page: the calendar and figure render, the keyboard move form moves a visit, the
    plan is approved; WCAG 2.1 AA holds (axe)."""
    plan = services.draft_plan(users["leader_s1"], street="S1", month=f"{world['month']:%Y-%m}",
                               subjects=[s.pk for s in world["subjects"][:2]])
    visit = plan.visits.order_by("id").first()
    target = services.working_days(world["month"])[-1]
    page = browser_pages(local_origins=(live_server.url, "data:", "blob:"))
    page.goto(f"{live_server.url}/inspections/plans/?plan={plan.pk}")
    page.fill("input[name=username]", "leader_s1")
    page.fill("input[name=password]", "pass-word-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#saved-figure")
    assert "%" in page.inner_text("#saved-figure")
    violations = axe_violations(page, exclude=(".leaflet-container",))  # the map is an image with a label
    assert not violations, format_violations(violations)
    # Drag: the second visit, from the first officer's row to another day in the second officer's row.
    other = plan.visits.order_by("id").last()
    o1, o2 = world["o1"], world["o2"]
    day2 = services.working_days(world["month"])[-2]
    with page.expect_navigation(timeout=10000):
        # The drag's events as the browser sends them (Playwright's mouse drag does not reach HTML5 DnD
        # across the scrolled calendar reliably).
        page.evaluate("""([chip, cell]) => {
            const dt = new DataTransfer();
            const from = document.querySelector(chip), to = document.querySelector(cell);
            from.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
            to.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));
            to.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));
        }""", [f'.chip[data-visit="{other.pk}"][data-officer="{o1.pk}"]',
               f'td.drop[data-day="{day2.isoformat()}"][data-officer="{o2.pk}"]'])
    other.refresh_from_db()
    assert other.date == day2 and list(other.officers.values_list("pk", flat=True)) == [o2.pk]
    page.fill(f"#d-{visit.pk}", target.isoformat())
    page.locator(f"#d-{visit.pk}").press("Enter")
    page.wait_for_selector(".messages")
    visit.refresh_from_db()
    assert visit.date == target
    page.click("text=批准计划")
    page.wait_for_selector(".messages")
    plan.refresh_from_db()
    assert plan.status == "approved"
    assert page.outside_requests == [] and page.console_errors == []
