"""/api/v1/officers/, teams and departments: scoping, filters, and position pings kept as a track."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditLog
from grids import accounts
from grids.models import Officer, OfficerPosition

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db
URL = "/api/v1/officers/"


def badges(response):
    assert response.status_code == 200, response.content
    return [o["badge_no"] for o in response.json()["results"]]


def ping(client, officer, when, extra=None, **kw):
    body = {"lat": 30.2, "lng": 120.2, "accuracy": 5, "recorded_at": when.isoformat(), **kw}
    return client.post(f"{URL}{officer.pk}/position/", body, format="json", **(extra or {}))


# --- Reading ----------------------------------------------------------------------------------

def test_detail_shape(users, api, officers):
    r = api(users["dispatcher"]).get(f"{URL}{officers['s1'].pk}/")
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("name", "badge_no", "team_code", "street_code", "home_department", "rank",
                                 "duty_status", "phone", "position")} == {
        "name": "张三", "badge_no": "B001", "team_code": "T-S1", "street_code": "S1", "home_department": "ZHZF",
        "rank": 1, "duty_status": "off_duty", "phone": "13800001111", "position": None}


def test_scoping(users, api, officers):
    assert badges(api(users["dispatcher"]).get(URL)) == ["B001", "B002"]
    assert badges(api(users["leader_s1"]).get(URL)) == ["B001"]
    assert badges(api(users["leader_s2"]).get(URL)) == ["B002"]
    # S2's leader doesn't learn that S1's officer exists.
    r = api(users["leader_s2"]).get(f"{URL}{officers['s1'].pk}/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert api(users["leader_s2"]).get(f"{URL}999999/").status_code == 404


@pytest.mark.parametrize("params,expected", [
    ({"street": "S1"}, ["B001"]), ({"department": "SCJG"}, ["B002"]), ({"duty_status": "off_duty"}, ["B001", "B002"]),
    ({"duty_status": "busy"}, []), ({"rank": 1}, ["B001", "B002"]), ({"rank": 4}, []), ({"search": "李"}, ["B002"]),
    ({"search": "B001"}, ["B001"]), ({"ordering": "-name"}, ["B002", "B001"]), ({"ordering": "-id"}, ["B002", "B001"]),
])
def test_filters_and_ordering(users, api, officers, params, expected):
    assert badges(api(users["bureau"]).get(URL, params)) == expected


def test_filter_by_team_id(users, api, officers, teams):
    assert badges(api(users["bureau"]).get(URL, {"team": teams["S2"].pk})) == ["B002"]
    assert api(users["bureau"]).get(URL, {"team": "x"}).status_code == 400
    assert api(users["bureau"]).get(URL, {"duty_status": "asleep"}).status_code == 400


@pytest.mark.parametrize("who,phone", [("dispatcher", "13800001111"), ("leader_s1", "13800001111"),
                                       ("officer_s1", "138****1111"), ("platform", "138****1111")])
def test_phone_masking(users, api, officers, who, phone):
    assert api(users[who]).get(f"{URL}{officers['s1'].pk}/").json()["phone"] == phone


def test_list_query_count_is_bounded(users, api, officers, teams, departments, django_assert_max_num_queries):
    for i in range(20):
        user, _ = accounts.add_user(None, username=f"o{i}", role="officer", area_codes=["S1"])
        o = Officer.objects.create(user=user, name=f"队员{i}", badge_no=f"X{i:03d}", team=teams["S1"],
                                   home_department=departments["SCJG"])
        o.skill_departments.set([departments["ZHZF"], departments["XF"]])
    client = api(users["dispatcher"])
    with django_assert_max_num_queries(6):
        r = client.get(URL, {"page_size": 100})
    assert r.json()["count"] == 22
    assert sorted(r.json()["results"][-1]["skill_departments"]) == ["XF", "ZHZF"]


def test_teams_and_departments(users, api, teams, departments):
    r = api(users["leader_s1"]).get("/api/v1/teams/")
    assert [t["code"] for t in r.json()["results"]] == ["T-S1"]
    r = api(users["bureau"]).get("/api/v1/teams/", {"ordering": "-code"})
    assert [t["code"] for t in r.json()["results"]] == ["T-S2", "T-S1"]
    r = api(users["officer_s1"]).get("/api/v1/departments/", {"kind": "supervising"})
    assert [d["code"] for d in r.json()["results"]] == ["XF"]
    r = api(users["officer_s1"]).get("/api/v1/departments/", {"search": "市场"})
    assert [d["code"] for d in r.json()["results"]] == ["SCJG"]


def test_categories(users, api, categories):
    r = api(users["officer_s1"]).get("/api/v1/subject-categories/", {"parent__code": "FOOD"})
    assert [(c["code"], c["parent_code"]) for c in r.json()["results"]] == [("FOOD-R", "FOOD")]


# --- Position pings ---------------------------------------------------------------------------

def test_officer_posts_own_position(users, api, officers):
    officer = officers["s1"]
    when = timezone.now() - timedelta(seconds=30)
    r = ping(api(users["officer_s1"]), officer, when, heading=90, source="phone")
    assert r.status_code == 201, r.content
    assert r.json()["created"] is True and r.json()["moved"] is True
    officer.refresh_from_db()
    assert (officer.last_lat, officer.last_lng, officer.last_accuracy, officer.last_heading) == (30.2, 120.2, 5, 90)
    assert officer.last_position_at == when
    detail = api(users["dispatcher"]).get(f"{URL}{officer.pk}/").json()
    assert detail["position"]["lat"] == 30.2 and detail["position"]["recorded_at"].endswith("+08:00")


def test_same_ping_twice_is_idempotent(users, api, officers):
    client, officer = api(users["officer_s1"]), officers["s1"]
    when = timezone.now() - timedelta(seconds=10)
    assert ping(client, officer, when).status_code == 201
    r = ping(client, officer, when, lat=30.9)  # a retry (even a garbled one) of the same instant
    assert r.status_code == 200
    assert r.json() == {"officer": officer.pk, "recorded_at": r.json()["recorded_at"], "created": False, "moved": False}
    assert OfficerPosition.objects.filter(officer=officer).count() == 1
    officer.refresh_from_db()
    assert officer.last_lat == 30.2


def test_older_ping_kept_in_track_but_does_not_move(users, api, officers):
    client, officer = api(users["officer_s1"]), officers["s1"]
    now = timezone.now()
    assert ping(client, officer, now - timedelta(seconds=10), lat=30.3).json()["moved"] is True
    r = ping(client, officer, now - timedelta(seconds=60), lat=30.1)  # arrived late (offline buffer)
    assert r.status_code == 201 and r.json() == {**r.json(), "created": True, "moved": False}
    officer.refresh_from_db()
    assert officer.last_lat == 30.3
    track = list(OfficerPosition.objects.filter(officer=officer).values_list("lat", flat=True))
    assert track == [30.3, 30.1]  # newest first, both kept


def test_future_ping_refused(users, api, officers, settings):
    settings.POSITION_MAX_FUTURE_SECONDS = 120
    client, officer = api(users["officer_s1"]), officers["s1"]
    r = ping(client, officer, timezone.now() + timedelta(minutes=10))
    assert r.status_code == 400 and "recorded_at" in r.json()
    # Small clock skew is tolerated.
    assert ping(client, officer, timezone.now() + timedelta(seconds=30)).status_code == 201


@pytest.mark.parametrize("body,field", [
    ({"lat": 91}, "lat"), ({"lng": "x"}, "lng"), ({"recorded_at": "yesterday"}, "recorded_at"),
    ({"accuracy": -1}, "accuracy"), ({"heading": 400}, "heading"), ({"lat": None}, "lat"),
])
def test_bad_ping_is_400_with_field(users, api, officers, body, field):
    base = {"lat": 30.2, "lng": 120.2, "recorded_at": timezone.now().isoformat()}
    r = api(users["officer_s1"]).post(f"{URL}{officers['s1'].pk}/position/", {**base, **body}, format="json")
    assert r.status_code == 400 and field in r.json()


def test_another_officer_cannot_post_for_them(users, api, officers, teams, departments):
    colleague_user, _ = accounts.add_user(None, username="colleague", role="officer", area_codes=["S1"])
    Officer.objects.create(user=colleague_user, name="王五", badge_no="B003", team=teams["S1"],
                           home_department=departments["ZHZF"])
    r = ping(api(colleague_user), officers["s1"], timezone.now())
    assert r.status_code == 403
    # An officer of another street doesn't even see them.
    assert ping(api(users["nobody"]), officers["s1"], timezone.now()).status_code == 404
    assert not OfficerPosition.objects.exists()


def test_platform_posts_within_its_areas_only(users, api, officers):
    assert ping(api(users["platform"]), officers["s1"], timezone.now(), source="bodycam").status_code == 201
    r = ping(api(users["platform_s2"]), officers["s1"], timezone.now())
    assert r.status_code in (403, 404)
    assert ping(api(users["platform_s2"]), officers["s2"], timezone.now()).status_code == 201


def test_team_leader_cannot_fake_positions(users, api, officers):
    assert ping(api(users["leader_s1"]), officers["s1"], timezone.now()).status_code == 403


def test_moving_ping_is_audited(users, api, officers):
    when = timezone.now() - timedelta(seconds=5)
    ping(api(users["officer_s1"]), officers["s1"], when, extra={"REMOTE_ADDR": "10.0.0.9"})
    log = AuditLog.objects.get(action="officer.moved")
    assert log.actor == users["officer_s1"] and log.ip == "10.0.0.9"
    assert log.changes["position"] == [[None, None], [30.2, 120.2]]


def test_officers_are_read_only(users, api, officers):
    client = api(users["bureau"])
    assert client.post(URL, {"name": "x"}, format="json").status_code == 405
    assert client.patch(f"{URL}{officers['s1'].pk}/", {"name": "x"}, format="json").status_code == 405


# --- Implausible pings are refused: they would steer dispatch --------------------------------------

@pytest.mark.parametrize("body,fields", [
    ({"lat": 39.9042, "lng": 116.4074}, {"lat", "lng"}),                  # Beijing
    ({"lat": 30.5, "lng": 119.9}, {"lat", "lng"}),                        # ~10 km outside the district's box
    ({"recorded_at": "0001-01-01T00:00:00Z"}, {"recorded_at"}),           # year 1
    ({"recorded_at": "DAYS_AGO_2"}, {"recorded_at"}),                     # older than POSITION_MAX_AGE_SECONDS
    ({"lat": True}, {"lat"}), ({"lng": False}, {"lng"}), ({"accuracy": True}, {"accuracy"}),
    ({"heading": True}, {"heading"}),
])
def test_implausible_ping_is_400_and_not_recorded(users, api, officers, body, fields):
    if body.get("recorded_at") == "DAYS_AGO_2":
        body = {"recorded_at": (timezone.now() - timedelta(days=2)).isoformat()}
    base = {"lat": 30.2, "lng": 120.2, "recorded_at": timezone.now().isoformat()}
    r = api(users["officer_s1"]).post(f"{URL}{officers['s1'].pk}/position/", {**base, **body}, format="json")
    assert r.status_code == 400 and set(r.json()) == fields, r.content
    assert not OfficerPosition.objects.exists()
    officers["s1"].refresh_from_db()
    assert officers["s1"].last_position_at is None


def test_pings_within_the_margin_and_window_are_kept(users, api, officers, settings):
    client, officer = api(users["officer_s1"]), officers["s1"]
    assert ping(client, officer, timezone.now() - timedelta(hours=23), lat=30.5, lng=119.98).status_code == 201  # ~2 km out
    settings.DISTRICT_EXTENT_MARGIN_M = 1000
    assert ping(client, officer, timezone.now(), lat=30.5, lng=119.98).status_code == 400
    settings.POSITION_MAX_AGE_SECONDS = 3600
    assert ping(client, officer, timezone.now() - timedelta(hours=2)).status_code == 400


def test_teams_list_query_count_is_bounded(users, api, district, teams, django_assert_max_num_queries):
    from grids.models import Team
    for i in range(20):
        Team.objects.create(code=f"T-X{i:02d}", name=f"第{i}中队", street=district["S1" if i % 2 else "S2"])
    client = api(users["dispatcher"])
    with django_assert_max_num_queries(3):  # areas, count, page (streets joined, never one per row)
        r = client.get("/api/v1/teams/", {"page_size": 100})
    assert r.json()["count"] == 22
