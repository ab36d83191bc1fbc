"""The figures' API: parameters checked (400), other areas 404, roles 403, definitions in the answer and
the schema."""
import pytest

from analytics.testing import at, meet

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/stats/events/"
TRENDS = "/api/v1/stats/trends/"


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"group_by": "planet"}, "group_by"),
    ({"from": "2026-11-30", "to": "2026-11-01"}, "from"), ({"from": "2020-01-01", "to": "2026-11-01"}, "to"),
])
def test_bad_parameters_are_400_with_the_field(api, users, query, field):
    answer = api(users["dispatcher"]).get(EVENTS, query)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()


def test_areas_and_roles(api, users, district):
    assert api(users["leader_s1"]).get(EVENTS, {"area": "S2"}).status_code == 404  # another street: as if absent
    assert api(users["leader_s1"]).get(EVENTS, {"area": "NOPE"}).status_code == 404
    assert api(users["leader_s1"]).get(EVENTS, {"area": "S1G1"}).status_code == 200
    assert api(users["officer_s1"]).get(EVENTS).status_code == 403
    assert api().get(EVENTS).status_code in (401, 403)
    assert api(users["platform"]).get(EVENTS).status_code == 200


def test_the_answer_carries_its_definitions(api, users, event_at):
    e = event_at(at(2026, 11, 10, 10, 0), accepted=30)
    meet(e, "respond", after_s=30)
    body = api(users["dispatcher"]).get(EVENTS, {"from": "2026-11-01", "to": "2026-11-30", "group_by": "problem_type"}).json()
    assert body["group_by"] == "problem_type" and body["date_from"] == "2026-11-01"
    assert "中位数" in body["definitions"]["response_median_s"]
    [row] = body["rows"]
    assert (row["key"], row["label"], row["received"], row["response_median_s"]) == ("ZDJY", "占道经营", 1, 30.0)


def test_english_definitions(api, users, settings):
    client = api(users["dispatcher"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch's choice
    body = client.get(EVENTS).json()
    assert "median" in body["definitions"]["response_median_s"].lower()


def test_trends_by_week_with_moving_average_and_the_year_before(api, users, event_at):
    for day in (2, 3, 9):  # Mon 2 Nov, Tue 3 Nov, Mon 9 Nov 2026
        event_at(at(2026, 11, day, 12, 0))
    event_at(at(2025, 11, 4, 12, 0))  # a year before, in the week of Mon 3 Nov 2025
    body = api(users["dispatcher"]).get(TRENDS, {"from": "2026-11-02", "to": "2026-11-15", "group_by": "week"}).json()
    assert body["interval"] == "week" and body["buckets"] == ["2026-11-02", "2026-11-09"]
    [series] = body["series"]
    assert series["problem_type"] == "ZDJY" and series["counts"] == [2, 1] and series["total"] == 3
    assert series["moving_average"] == [2.0, 1.5]
    assert series["year_before"] == [1, 0]
    assert api(users["dispatcher"]).get(TRENDS, {"group_by": "street"}).status_code == 400


def test_schema_documents_the_figures(api, users):
    schema = api(users["dispatcher"]).get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/stats/events/", "/api/v1/stats/trends/", "/api/v1/warnings/",
                 "/api/v1/warnings/{id}/acknowledge/"):
        assert path in schema["paths"], path
    row = schema["components"]["schemas"]["EventFiguresRow"]["properties"]
    assert "按期办结率" in row["on_time_closure_rate"]["description"]


@pytest.mark.parametrize("path", ["events", "inspections", "cases", "credit", "trends", "screen"])
def test_every_figures_endpoint_refuses_alike(api, users, district, path):
    url = f"/api/v1/stats/{path}/"
    assert api(users["leader_s1"]).get(url, {"area": "S2"}).status_code == 404  # another street: as if absent
    bad = api(users["dispatcher"]).get(url, {"from": "2026-02-30"})
    assert bad.status_code == 400 and "from" in bad.json()
    assert api(users["dispatcher"]).get(url, {"group_by": "planet"}).status_code == 400
    assert api(users["officer_s1"]).get(url).status_code == 403
    assert api(users["leader_s1"]).get(url, {"area": "S1"}).status_code == 200


def test_schema_documents_the_screen_and_the_complaints(api, users):
    schema = api(users["dispatcher"]).get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/stats/screen/" in schema["paths"]
    row = schema["components"]["schemas"]["EventFiguresRow"]["properties"]
    assert "前期" in row["complaints_change_percent"]["description"]
    screen = schema["components"]["schemas"]["ScreenFigures"]["properties"]
    assert "高发问题" in screen["top_problem_types"]["description"]
