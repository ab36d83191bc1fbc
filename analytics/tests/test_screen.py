"""The big screen's figures come from the analytics functions: the same numbers as GET /api/v1/stats/events/
for the same area and days; its parameters and refusals like every figure's."""
import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.testing import meet
from command_center.testing import S2_POINT

pytestmark = pytest.mark.django_db

SCREEN = "/api/v1/stats/screen/"
EVENTS = "/api/v1/stats/events/"


@pytest.fixture
def today_events(report):
    """Today: S1 four events (a sensor one, a red one, one of another type), one response in time and one
    late; S2 one."""
    a = report()
    b = report(source="sensor")
    report(severity="red")
    report(problem_type="YYCB", point=(30.3, 120.3))
    report(point=S2_POINT, source="hotline_12345")
    meet(a, "respond", after_s=30)
    meet(b, "respond", after_s=24 * 3600, late=True)
    return a, b


@pytest.mark.parametrize("area", ["S1", ""])
def test_the_screen_shows_the_stats_apis_figures_for_the_same_area_and_day(api, users, today_events, area):
    client = api(users["dispatcher"])
    today = timezone.localdate().isoformat()
    query = {"area": area, "from": today, "to": today}
    screen = client.get(SCREEN, {"area": area}).json()  # today by default
    [total] = client.get(EVENTS, query).json()["rows"]
    by_severity = {r["key"]: r["received"] for r in client.get(EVENTS, {**query, "group_by": "severity"}).json()["rows"]}
    by_type = {r["key"]: r["received"] for r in client.get(EVENTS, {**query, "group_by": "problem_type"}).json()["rows"]}

    assert screen["date_from"] == screen["date_to"] == today
    assert screen["received"] == total["received"] == (4 if area else 5)
    assert {s["source"]: s["count"] for s in screen["by_source"] if s["count"]} == total["by_source"]
    assert {s["severity"]: s["count"] for s in screen["by_severity"] if s["count"]} == by_severity
    assert {t["code"]: t["count"] for t in screen["top_problem_types"]} == by_type
    stages = {s["stage"]: {k: s[k] for k in ("decided", "on_time", "on_time_rate")} for s in screen["on_time"]["stages"]}
    assert stages == total["stages"] and stages["respond"] == {"decided": 2, "on_time": 1, "on_time_rate": 50.0}
    assert screen["on_time"]["rate"] == 50.0
    assert screen["on_time_closure_rate"] == total["on_time_closure_rate"]
    assert screen["satisfaction_good_rate"] == total["satisfaction_good_rate"]


def test_the_screen_of_a_street_leader_counts_their_street_only(api, users, today_events):
    assert api(users["leader_s2"]).get(SCREEN).json()["received"] == 1
    assert api(users["leader_s1"]).get(SCREEN).json()["received"] == 4


def test_screen_figures_refusals(api, users, district):
    assert api(users["leader_s1"]).get(SCREEN, {"area": "S2"}).status_code == 404
    assert api(users["dispatcher"]).get(SCREEN, {"group_by": "street"}).status_code == 400
    assert "from" in api(users["dispatcher"]).get(SCREEN, {"from": "2026-02-30"}).json()
    assert api(users["officer_s1"]).get(SCREEN).status_code == 403
    assert api().get(SCREEN).status_code in (401, 403)


def test_an_empty_day_shows_zeros_and_no_rates(api, users, district):
    body = api(users["dispatcher"]).get(SCREEN, {"from": "2026-11-01", "to": "2026-11-01"}).json()
    assert body["received"] == 0 and body["top_problem_types"] == [] and body["on_time"] == {"rate": None, "stages": []}
    assert all(s["count"] == 0 for s in body["by_source"])


def test_the_screen_page_reads_the_analytics_figures(client, users, district):
    client.force_login(users["dispatcher"])
    page = client.get(reverse("command-screen"))
    assert page.context["config"]["screenFiguresUrl"] == SCREEN
