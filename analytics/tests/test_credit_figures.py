"""Credit figures by hand: colours now by area and category, and the changes of a period."""
import pytest

from analytics.testing import at
from credit.choices import HistoryCause
from credit.models import CreditHistory, CreditScore
from credit.testing import build_subjects

pytestmark = pytest.mark.django_db

CREDIT = "/api/v1/stats/credit/"
NOV = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def scored(district, categories):
    """S1: a red restaurant, a never-scored restaurant (green), a yellow building site; S2: a green restaurant.
    In November the red one went yellow then red again, and S2's went yellow and back; one change in October."""
    s = build_subjects(district, categories)
    for key, color in (("s1", "red"), ("site", "yellow"), ("s2", "green")):
        CreditScore.objects.create(subject=s[key], color=color, computed_color=color, computed_at=at(2026, 11, 20))

    def change(key, from_color, to_color, when):
        CreditHistory.objects.create(subject=s[key], from_color=from_color, to_color=to_color, changed_at=when,
                                     cause=HistoryCause.FACT_POSTED)

    change("s1", "red", "yellow", at(2026, 11, 3, 10))
    change("s1", "yellow", "red", at(2026, 11, 20, 10))
    change("s2", "green", "yellow", at(2026, 11, 4, 9))
    change("s2", "yellow", "green", at(2026, 11, 30, 23, 59))
    change("site", "green", "yellow", at(2026, 10, 31, 23, 59))  # before the period
    return s


def test_colours_now_and_changes_by_street(api, users, district, scored):
    body = api(users["dispatcher"]).get(CREDIT, {**NOV, "group_by": "street"}).json()
    rows = {r["label"]: r for r in body["rows"]}
    s1, s2 = rows[district["S1"].name], rows[district["S2"].name]
    assert s1["colors"] == {"green": 1, "yellow": 1, "red": 1} and s1["total"] == 3
    assert s1["by_category"] == {"餐饮": {"green": 1, "yellow": 0, "red": 1}, "建设工地": {"green": 0, "yellow": 1, "red": 0}}
    assert s1["changes"] == {"to_green": 0, "to_yellow": 1, "to_red": 1} and s1["subjects_changed"] == 1
    assert s2["colors"] == {"green": 1, "yellow": 0, "red": 0}
    assert s2["changes"] == {"to_green": 1, "to_yellow": 1, "to_red": 0} and s2["subjects_changed"] == 1
    assert "未评分" in body["definitions"]["colors"]


def test_changes_over_time_by_local_week(api, users, scored):
    body = api(users["dispatcher"]).get(CREDIT, {**NOV, "group_by": "week"}).json()
    weeks = {r["key"]: (r["changes"], r["subjects_changed"]) for r in body["rows"]}
    assert weeks == {
        "2026-11-02": ({"to_green": 0, "to_yellow": 2, "to_red": 0}, 2),
        "2026-11-16": ({"to_green": 0, "to_yellow": 0, "to_red": 1}, 1),
        "2026-11-30": ({"to_green": 1, "to_yellow": 0, "to_red": 0}, 1),  # 23:59 local on the 30th
    }


def test_scoped_and_refused(api, users, scored):
    [row] = api(users["leader_s2"]).get(CREDIT, NOV).json()["rows"]
    assert row["total"] == 1 and row["colors"]["green"] == 1
    assert api(users["leader_s2"]).get(CREDIT, {**NOV, "area": "S1"}).status_code == 404
    assert api(users["dispatcher"]).get(CREDIT, {**NOV, "group_by": "officer"}).status_code == 400
    assert api(users["officer_s1"]).get(CREDIT).status_code == 403
