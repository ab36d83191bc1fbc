"""The desk map's layer of today's inspection visits (issue 15): a visit that reaches the officers today
shows as a hexagon marker named by its text; a draft plan's visit and another day's do not; the layer's
toggle is labelled and works from the keyboard; the page keeps 0 axe violations."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center.testing import S1_POINT, open_dashboard
from core.browser_testing import axe_violations, format_violations, log_in
from grids.models import Subject
from inspections.models import InspectionPlan, Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _visit(subject, street, day, **extra):
    fields = {"kind": "one_off", "one_off_reason": "complaint", "reason": "one_off"}
    fields.update(extra)
    return Visit.objects.create(street=street, subject=subject, date=day, month=day.replace(day=1), **fields)


def test_todays_visits_layer(browser_page, asgi_live_server, users, district, categories, officers, settings):
    settings.MAP_TILE_URL = ""
    base, page = asgi_live_server, browser_page
    today = timezone.localdate()
    shop = Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=S1_POINT[0],
                                  lng=S1_POINT[1], grid=district["S1G1"])
    other = Subject.objects.create(name="小李面馆", category=categories["restaurant"], lat=S1_POINT[0] + 0.01,
                                   lng=S1_POINT[1], grid=district["S1G1"])
    planned = _visit(shop, district["S1"], today)
    planned.officers.add(officers["s1"])
    draft = InspectionPlan.objects.create(street=district["S1"], month=today.replace(day=1), draw_seed="x")
    in_draft = _visit(other, district["S1"], today, plan=draft, kind="concentrated", one_off_reason="",
                      reason="manual")
    tomorrow = _visit(other, district["S1"], today + timedelta(days=1))

    log_in(page, base, "dispatcher")
    open_dashboard(page, base)
    page.wait_for_function(f"window.ccDebug.hasVisit({planned.pk})", timeout=5000)
    assert not page.evaluate(f"window.ccDebug.hasVisit({in_draft.pk}) || window.ccDebug.hasVisit({tomorrow.pk})")
    marker = page.locator(".cc-visit[title*='老王面馆']")
    assert marker.count() == 1
    assert "待检查" in marker.get_attribute("title")
    assert officers["s1"].name in marker.get_attribute("title")
    assert marker.get_attribute("tabindex") == "0"  # the marker is reachable by keyboard
    assert page.locator("#cc-legend .lg.visit").count() == 1

    # The toggle: found by its label, switched with the keyboard.
    toggle = page.get_by_label("今日检查", exact=True)
    toggle.focus()
    page.keyboard.press("Space")
    page.wait_for_function(f"!window.ccDebug.hasVisit({planned.pk})", timeout=3000)
    assert page.locator(".cc-visit").count() == 0
    page.keyboard.press("Space")
    page.wait_for_function(f"window.ccDebug.hasVisit({planned.pk})", timeout=5000)

    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
