"""The monthly assessment by hand: indicators, the weighted score, weights set by bureau staff (audited)."""
import pytest

from analytics.testing import at, meet
from core.models import AuditLog

pytestmark = pytest.mark.django_db

URL = "/api/v1/assessments/"
WEIGHTS = "/api/v1/assessments/weights/"


@pytest.fixture
def november(event_at):
    e1 = event_at(at(2026, 11, 10, 10, 0), accepted=30, resolved=600, satisfaction=5)
    meet(e1, "respond", after_s=30)
    e2 = event_at(at(2026, 11, 12, 10, 0), accepted=50, resolved=1200, satisfaction=3)
    meet(e2, "respond", after_s=50)
    meet(e2, "handle", after_s=1200, late=True)
    return e1, e2


def test_team_score_by_hand(api, users, teams, november):
    card = api(users["dispatcher"]).get(URL, {"month": "2026-11"}).json()
    assert card["weights"] == {"on_time_closure": 40.0, "stage_on_time": 20.0, "satisfaction": 20.0, "front_line": 20.0}
    [row] = card["rows"]
    assert row["key"] == str(teams["S1"].pk) and row["rank"] == 1 and row["received"] == 2
    # closure 1 of 2; stages 2 of 3 on time; rated 4–5: 1 of 2; front line 2 of 2
    assert row["indicators"] == {"on_time_closure": 50.0, "stage_on_time": 66.7, "satisfaction": 50.0, "front_line": 100.0}
    assert row["score"] == pytest.approx((40 * 50 + 20 * 66.7 + 20 * 50 + 20 * 100) / 100, abs=0.05)


def test_weights_by_bureau_staff_only_and_audited(api, users, november):
    assert api(users["leader_s1"]).put(WEIGHTS, {"satisfaction": 0}, format="json").status_code == 403
    assert api(users["bureau_s1"]).put(WEIGHTS, {"satisfaction": 0}, format="json").status_code == 403  # one street only
    assert api(users["bureau"]).put(WEIGHTS, {"satisfaction": 101}, format="json").status_code == 400
    assert api(users["bureau"]).put(WEIGHTS, {"on_time_closure": 0, "stage_on_time": 0, "satisfaction": 0,
                                              "front_line": 0}, format="json").status_code == 400
    ok = api(users["bureau"]).put(WEIGHTS, {"satisfaction": 0, "front_line": 40}, format="json")
    assert ok.status_code == 200 and ok.json()["satisfaction"] == 0.0
    log = AuditLog.objects.get(action="assessment.weights_changed")
    assert log.changes == {"satisfaction": [20.0, 0.0], "front_line": [20.0, 40.0]}
    [row] = api(users["dispatcher"]).get(URL, {"month": "2026-11"}).json()["rows"]
    assert row["score"] == pytest.approx((40 * 50 + 20 * 66.7 + 40 * 100) / 100, abs=0.05)


def test_bad_month_level_and_refusals(api, users, november):
    assert api(users["dispatcher"]).get(URL, {"month": "2026-13"}).status_code == 400
    assert api(users["dispatcher"]).get(URL).status_code == 400
    assert api(users["dispatcher"]).get(URL, {"month": "2026-11", "level": "grid"}).status_code == 400
    assert api(users["leader_s2"]).get(URL, {"month": "2026-11", "area": "S1"}).status_code == 404
    assert api(users["leader_s2"]).get(URL, {"month": "2026-11"}).json()["rows"] == []
    assert api(users["officer_s1"]).get(URL, {"month": "2026-11"}).status_code == 403
