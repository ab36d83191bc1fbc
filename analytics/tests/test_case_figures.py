"""Case figures against values computed by hand on small fixed data (Asia/Shanghai days; a decision made
exactly at its legal due time is on time)."""
import pytest

pytestmark = pytest.mark.django_db

STATS = "/api/v1/stats/cases/"
NOV = {"from": "2026-11-01", "to": "2026-11-30"}


def test_the_whole_period_by_hand(api, users, cases):
    body = api(users["dispatcher"]).get(STATS, NOV).json()
    [row] = body["rows"]
    assert row == {
        "key": None, "label": None, "filed": 2, "closed": 3, "closed_on_time": 2,  # c5 decided at its due time
        "on_time_rate": 66.7,
        "outcomes": {"penalty": 1, "reduced": 1, "no_penalty": 2},
        "lenient_grounds": {"minor": 0, "first": 1, "mediated": 1},
        "legal_reviews": 2, "legal_reviews_returned": 1,
        "appeals": 2, "appeal_results": {"upheld": 1, "revoked": 0, "changed": 0, "pending": 1},
        "quality_reviews": 2, "quality_score_avg": 77.5,  # (80 + 75) / 2
    }
    assert "首违不罚" in body["definitions"]["lenient_grounds"]


def test_by_street_and_by_day(api, users, district, cases):
    rows = {r["label"]: r for r in api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "street"}).json()["rows"]}
    s1, s2 = rows[district["S1"].name], rows[district["S2"].name]
    assert (s1["filed"], s1["closed"], s1["closed_on_time"], s1["on_time_rate"]) == (1, 2, 1, 50.0)
    assert s1["outcomes"] == {"penalty": 1, "reduced": 1, "no_penalty": 1} and s1["quality_score_avg"] == 77.5
    assert (s2["filed"], s2["closed"], s2["on_time_rate"], s2["lenient_grounds"]["mediated"]) == (1, 1, 100.0, 1)
    assert s2["appeals"] == 0 and s2["quality_score_avg"] is None
    days = {r["key"]: r for r in api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "day"}).json()["rows"]}
    assert days["2026-11-02"]["filed"] == 1 and days["2026-11-02"]["legal_reviews_returned"] == 1  # 23:59:59 local
    assert days["2026-11-30"]["filed"] == 1 and "2026-11-01" not in days
    assert days["2026-11-10"]["outcomes"]["no_penalty"] == 1 and days["2026-11-10"]["filed"] == 0


def test_an_empty_period(api, users, cases):
    [row] = api(users["dispatcher"]).get(STATS, {"from": "2025-01-01", "to": "2025-01-31"}).json()["rows"]
    assert row["filed"] == 0 and row["closed"] == 0 and row["on_time_rate"] is None
    assert row["quality_score_avg"] is None and row["appeal_results"]["pending"] == 0


def test_scoped_and_refused(api, users, cases):
    [row] = api(users["leader_s2"]).get(STATS, NOV).json()["rows"]
    assert (row["filed"], row["closed"], row["legal_reviews"]) == (1, 1, 0)
    assert api(users["leader_s2"]).get(STATS, {**NOV, "area": "S1"}).status_code == 404
    assert api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "problem_type"}).status_code == 400
    bad = api(users["dispatcher"]).get(STATS, {"to": "soon"})
    assert bad.status_code == 400 and "to" in bad.json()
    assert api(users["officer_s1"]).get(STATS, NOV).status_code == 403
    assert api(users["platform"]).get(STATS, NOV).status_code == 200


def test_schema_documents_both(api, users):
    schema = api(users["dispatcher"]).get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/stats/inspections/" in schema["paths"] and "/api/v1/stats/cases/" in schema["paths"]
    props = schema["components"]["schemas"]["CaseFiguresRow"]["properties"]
    assert "法定决定期限" in props["closed_on_time"]["description"]
    props = schema["components"]["schemas"]["InspectionFiguresRow"]["properties"]
    assert "分散检查" in props["reduction_percent"]["description"]


def test_by_grid_of_the_subject_adds_up(api, users, cases):
    rows = api(users["dispatcher"]).get(STATS, {**NOV, "group_by": "grid"}).json()["rows"]
    assert sum(r["filed"] for r in rows) == 2 and sum(r["closed"] for r in rows) == 3
    assert sum(r["closed_on_time"] for r in rows) == 2 and sum(r["appeals"] for r in rows) == 2


def test_by_officer_and_by_team(api, users, teams, departments, officers, cases):
    """A case counts for each of its handlers, and once for their team however many of it handle it."""
    from analytics.testing import staff_records

    staff_records(users, teams, departments, officers)

    def rows(group_by):
        body = api(users["dispatcher"]).get(STATS, {**NOV, "group_by": group_by}).json()
        return {r["label"]: r for r in body["rows"]}

    def figures(r):
        return (r["filed"], r["closed"], r["closed_on_time"], r["on_time_rate"], r["outcomes"]["penalty"],
                r["outcomes"]["reduced"], r["outcomes"]["no_penalty"], r["lenient_grounds"]["first"],
                r["lenient_grounds"]["mediated"], r["legal_reviews"], r["legal_reviews_returned"], r["appeals"],
                r["appeal_results"]["pending"], r["quality_reviews"], r["quality_score_avg"])

    zhang = (1, 2, 1, 50.0, 1, 1, 1, 1, 0, 2, 1, 2, 1, 2, 77.5)   # c1 and c2
    li = (1, 2, 1, 50.0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 75.0)      # c2, c3 (filed), c5 (on time at its due time)
    wang = (1, 1, 1, 100.0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 80.0)  # c1 only
    assert {k: figures(r) for k, r in rows("officer").items()} == {"张三": zhang, "王五": wang, "李四": li}
    # S1's team: c1 once (two of its handlers; not 2 filed, nor (80 + 80 + 75) / 3) and c2.
    assert {k: figures(r) for k, r in rows("team").items()} == {"S1综合行政执法队": zhang, "S2综合行政执法队": li}
