"""Inspection figures against values computed by hand on small fixed data (calendar days of the visits)."""
import pytest

pytestmark = pytest.mark.django_db

STATS = "/api/v1/stats/inspections/"
NOV = {"from": "2026-11-01", "to": "2026-11-30"}


def test_the_whole_period_by_hand(api, users, visits):
    body = api(users["dispatcher"]).get(STATS, NOV).json()
    [row] = body["rows"]
    assert row == {
        "key": None, "label": None, "visits": 4, "joint_visits": 3, "subjects_inspected": 3,
        "findings": 4,  # the corrected one is no longer a problem; passes are not problems
        "rectified_on_the_spot": 1, "rectified_by_deadline": 1, "rectification_overdue": 1, "rectification_open": 1,
        "separate_visits_replaced": 4,  # v1: two departments; v2: none, counts one; v4: one
        "reduction_percent": 25.0,  # (4 − 3) / 4
        "reduction_percent_previous_month": None, "reduction_percent_year_before": None,  # only by month
    }
    assert "部门" in body["definitions"]["separate_visits_replaced"]


def test_by_street_and_by_week(api, users, district, visits):
    rows = {r["label"]: r for r in api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "street"}).json()["rows"]}
    s1, s2 = rows[district["S1"].name], rows[district["S2"].name]
    assert (s1["visits"], s1["joint_visits"], s1["subjects_inspected"], s1["findings"]) == (3, 2, 2, 4)
    assert (s1["separate_visits_replaced"], s1["reduction_percent"]) == (3, 33.3)
    assert (s2["visits"], s2["findings"], s2["separate_visits_replaced"], s2["reduction_percent"]) == (1, 0, 1, 0.0)
    weeks = {r["key"]: (r["visits"], r["findings"])
             for r in api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "week"}).json()["rows"]}
    assert weeks == {"2026-11-02": (1, 3), "2026-11-09": (1, 0), "2026-11-16": (1, 0), "2026-11-30": (1, 1)}
    [month] = api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "month"}).json()["rows"]
    assert (month["key"], month["visits"]) == ("2026-11-01", 4)


def test_an_empty_period_and_a_grid(api, users, visits):
    [row] = api(users["dispatcher"]).get(STATS, {"from": "2025-01-01", "to": "2025-01-31"}).json()["rows"]
    assert row["visits"] == 0 and row["findings"] == 0 and row["reduction_percent"] is None
    assert api(users["dispatcher"]).get(STATS, {"from": "2025-01-01", "to": "2025-01-31", "group_by": "day"}).json()["rows"] == []
    [grid] = api(users["dispatcher"]).get(STATS, {**NOV, "area": "S1G2"}).json()["rows"]  # v2's subject's grid
    assert (grid["visits"], grid["findings"], grid["rectification_open"]) == (1, 1, 1)


def test_scoped_and_refused(api, users, visits):
    [row] = api(users["leader_s2"]).get(STATS, NOV).json()["rows"]
    assert (row["visits"], row["joint_visits"]) == (1, 1)
    assert api(users["leader_s2"]).get(STATS, {**NOV, "area": "S1"}).status_code == 404
    assert api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "problem_type"}).status_code == 400
    bad = api(users["dispatcher"]).get(STATS, {"from": "2026-11-31"})
    assert bad.status_code == 400 and "from" in bad.json()
    assert api(users["officer_s1"]).get(STATS, NOV).status_code == 403
    assert api().get(STATS).status_code in (401, 403)
    assert api(users["platform"]).get(STATS, NOV).status_code == 200


def test_month_over_month_and_the_year_before(api, users, district, departments, visits):
    from datetime import date

    from analytics.testing import visit_at

    visit_at(district, visits["s1"], date(2025, 11, 20), departments=(departments["ZHZF"], departments["SCJG"],
                                                                     departments["XF"]))
    body = api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "month"}).json()
    [month] = body["rows"]
    # October: the visit of the 31st, of no department (1 separate, 1 joint): 0 %; November 2025: (3 − 1) / 3
    assert (month["reduction_percent"], month["reduction_percent_previous_month"],
            month["reduction_percent_year_before"]) == (25.0, 0.0, 66.7)
    [october] = api(users["dispatcher"]).get(STATS, {"from": "2026-10-01", "to": "2026-10-31", "group_by": "month"}).json()["rows"]
    assert (october["reduction_percent_previous_month"], october["reduction_percent_year_before"]) == (None, None)


def test_by_grid_of_the_subject(api, users, visits):
    rows = {r["label"]: r for r in api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "grid"}).json()["rows"]}
    assert (rows["网格1-2"]["visits"], rows["网格1-2"]["findings"], rows["网格1-2"]["rectification_open"]) == (1, 1, 1)
    assert sum(r["visits"] for r in rows.values()) == 4 and sum(r["findings"] for r in rows.values()) == 4


def test_by_officer_and_by_team(api, users, teams, departments, officers, visits):
    """A visit counts for each of its inspectors, and once for their team however many of it were there."""
    from analytics.testing import staff_records

    staff_records(users, teams, departments, officers)
    figures = ("visits", "joint_visits", "subjects_inspected", "findings", "rectified_on_the_spot",
               "rectified_by_deadline", "rectification_overdue", "rectification_open", "separate_visits_replaced",
               "reduction_percent")

    def rows(group_by):
        body = api(users["dispatcher"]).get(STATS, {**NOV, "group_by": group_by}).json()
        return {r["label"]: tuple(r[f] for f in figures) for r in body["rows"]}

    assert rows("officer") == {
        "张三": (2, 2, 2, 4, 1, 1, 1, 1, 3, 33.3),  # v1 (two departments) and v2 (none: one)
        "王五": (2, 1, 1, 3, 1, 1, 1, 0, 2, 50.0),  # v1 and the one-off v3, both at s1
        "李四": (1, 1, 1, 0, 0, 0, 0, 0, 1, 0.0),
    }
    assert rows("team") == {
        "S1综合行政执法队": (3, 2, 2, 4, 1, 1, 1, 1, 3, 33.3),  # v1 once, though two of the team were there
        "S2综合行政执法队": (1, 1, 1, 0, 0, 0, 0, 0, 1, 0.0),
    }
    [s2] = api(users["leader_s2"]).get(STATS, {**NOV, "group_by": "officer"}).json()["rows"]
    assert (s2["label"], s2["visits"]) == ("李四", 1)  # another street's visits stay out of scope
