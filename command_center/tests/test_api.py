"""REST: /api/v1/events/ — intake (idempotent), lists and details scoped by area, actions with ETag/If-Match."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center.models import Deadline, Event
from command_center.services import transitions
from command_center.testing import S1_POINT, S2_POINT

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def body(**over):
    return {"source": "hotline_12345", "problem_type": "ZDJY", "description": "菜场门口流动摊贩占道",
            "lat": S1_POINT[0], "lng": S1_POINT[1], "reporter_name": "王女士", "reporter_phone": "13912345678", **over}


FRESH = object()


def act(client, event_id, action, data=None, etag=FRESH):
    """POST an action, with the event's current ETag as a client that just read it would send (etag=None:
    no If-Match at all)."""
    if etag is FRESH:
        current = Event.objects.filter(pk=event_id).first()
        etag = current.etag if current is not None else "*"
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    return client.post(f"{URL}{event_id}/{action}/", data or {}, format="json", **headers)


# --- intake -----------------------------------------------------------------------------------

def test_post_creates_then_replays_with_the_same_key(api, users, catalog):
    c = api(users["platform"])
    r = c.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert r.status_code == 201, r.content
    data = r.json()
    for field in ("id", "status", "severity", "street_code", "grid_code", "matter_code", "deadlines"):
        assert field in data
    assert (data["status"], data["severity"], data["street_code"], data["grid_code"], data["matter_code"]) == (
        "new", "yellow", "S1", "S1G1", "M-ZD")
    assert [set(d) >= {"stage", "due_at", "met_at", "breached_at"} for d in data["deadlines"]] == [True] * 3
    assert r["ETag"] == f'"{data["id"]}-v1"' and r["Location"].endswith(f"/events/{data['id']}/")
    again = c.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    changed = c.post(URL, body(description="不同内容"), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    assert Event.objects.count() == 1


def test_post_same_external_id_returns_the_first(api, users, catalog):
    c = api(users["platform"])
    first = c.post(URL, body(external_id="HL-1"), format="json")
    second = c.post(URL, body(external_id="HL-1", description="平台重推"), format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


@pytest.mark.parametrize("payload,fields", [
    ({}, {"source", "problem_type", "description", "lat", "lng"}),
    (body(source="fax"), {"source"}),
    (body(lat=95), {"lat"}),
    (body(lat="abc"), {"lat"}),
    (body(severity="pink"), {"severity"}),
    (body(problem_type="NOPE"), {"problem_type"}),
    (body(lat=10.0, lng=10.0), {"lat", "lng"}),
    (body(subject=987654), {"subject"}),
])
def test_post_bad_input_is_400_with_field_messages(api, users, catalog, payload, fields):
    r = api(users["platform"]).post(URL, payload, format="json")
    assert r.status_code == 400, r.content
    assert fields <= set(r.json()), r.json()


def test_post_refusals(api, users, catalog):
    assert api().post(URL, body(), format="json").status_code in (401, 403)
    r = api(users["platform_s2"]).post(URL, body(), format="json")  # a point outside its areas
    assert r.status_code == 403
    assert api(users["platform_s2"]).post(URL, body(lat=S2_POINT[0], lng=S2_POINT[1]), format="json").status_code == 201


# --- reads ------------------------------------------------------------------------------------

@pytest.fixture
def two_streets(report, users):
    return {"s1": report(reporter_phone="13912345678"), "s2": report(point=S2_POINT, source="sensor", severity="red"),
            "s2m": report(point=(30.7, 121.7), problem_type="YYCB")}


def _ids(r):
    assert r.status_code == 200, r.content
    return sorted(e["id"] for e in r.json()["results"])


def test_list_is_scoped_by_area(api, users, two_streets):
    s1, s2, s2m = (two_streets[k].pk for k in ("s1", "s2", "s2m"))
    assert _ids(api(users["dispatcher"]).get(URL)) == sorted([s1, s2, s2m])
    assert _ids(api(users["leader_s1"]).get(URL)) == [s1]
    assert _ids(api(users["leader_s2"]).get(URL)) == sorted([s2, s2m])
    assert _ids(api(users["nobody"]).get(URL)) == [s2m]  # bound to micro-grid S2G2M2 only


def test_detail_of_another_street_is_404(api, users, two_streets):
    s1 = two_streets["s1"]
    assert api(users["leader_s2"]).get(f"{URL}{s1.pk}/").status_code == 404
    r = api(users["leader_s1"]).get(f"{URL}{s1.pk}/")
    assert r.status_code == 200 and r["ETag"] == f'"{s1.pk}-v1"'
    assert [t["action"] for t in r.json()["timeline"]] == ["create"]
    assert act(api(users["leader_s2"]), s1.pk, "reject", {"reason": "x"}).status_code == 404
    assert api(users["leader_s1"]).get(f"{URL}999999/").status_code == 404


def test_filters(api, users, two_streets, officers):
    c = api(users["dispatcher"])
    s1, s2, s2m = (two_streets[k].pk for k in ("s1", "s2", "s2m"))
    assert _ids(c.get(URL, {"street": "S2"})) == sorted([s2, s2m])
    assert _ids(c.get(URL, {"severity": "red"})) == [s2]
    assert _ids(c.get(URL, {"severity": ["red", "orange"]})) == sorted([s2, s2m])
    assert _ids(c.get(URL, {"source": "sensor"})) == [s2]
    assert _ids(c.get(URL, {"problem_type": "YYCB"})) == [s2m]
    transitions.dispatch(users["dispatcher"], two_streets["s1"], officers["s1"])
    assert _ids(c.get(URL, {"status": "dispatched"})) == [s1]
    assert _ids(c.get(URL, {"status": ["new", "dispatched"]})) == sorted([s1, s2, s2m])
    soon = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert _ids(c.get(URL, {"created_before": soon})) == sorted([s1, s2, s2m])
    assert _ids(c.get(URL, {"created_after": soon})) == []
    Deadline.objects.filter(event_id=s2).update(due_at=timezone.now() - timedelta(seconds=5))
    assert _ids(c.get(URL, {"overdue": "true"})) == [s2]
    assert _ids(c.get(URL, {"overdue": "false"})) == sorted([s1, s2m])
    assert c.get(URL, {"status": "flying"}).status_code == 400
    assert c.get(URL, {"created_after": "yesterday"}).status_code == 400


def test_reporter_phone_is_masked_for_roles_without_phones(api, users, two_streets):
    pk = two_streets["s1"].pk
    assert api(users["dispatcher"]).get(f"{URL}{pk}/").json()["reporter_phone"] == "13912345678"
    for who in ("platform", "officer_s1"):
        assert api(users[who]).get(f"{URL}{pk}/").json()["reporter_phone"] == "139****5678"
    assert api(users["platform"]).get(URL).json()["results"][-1]["reporter_phone"].count("*") == 4


def test_list_query_count_does_not_grow_with_rows(api, users, report, officers, django_assert_max_num_queries):
    c = api(users["leader_s1"])
    e = report()
    transitions.dispatch(users["dispatcher"], e, officers["s1"])
    with django_assert_max_num_queries(8) as one:
        assert c.get(URL).status_code == 200
    for i in range(12):
        transitions.dispatch(users["dispatcher"], report(point=(30.05 + i * 0.06, 120.3)), officers["s1"])
    with django_assert_max_num_queries(len(one.captured_queries)):
        r = c.get(URL)
    assert r.json()["count"] == 13


def test_detail_query_count_does_not_grow_with_its_rows(api, users, report, officers, django_assert_max_num_queries):
    """One event's detail (deadlines, timeline, assignments, photos): a fixed handful of queries, however
    long its history."""
    c = api(users["leader_s1"])
    e = report()
    transitions.dispatch(users["dispatcher"], e, officers["s1"])
    with django_assert_max_num_queries(9) as one:
        assert c.get(f"{URL}{e.pk}/").status_code == 200
    e = transitions.accept(users["officer_s1"], e)
    for i in range(4):  # a longer history
        e = transitions.set_public_note(users["dispatcher"], e, f"第{i}次说明")
    with django_assert_max_num_queries(len(one.captured_queries)):
        r = c.get(f"{URL}{e.pk}/")
    assert len(r.json()["timeline"]) == 7


# --- actions ----------------------------------------------------------------------------------

def test_actions_through_the_api_with_etags(api, users, report, officers):
    e = report()
    disp, officer = api(users["dispatcher"]), api(users["officer_s1"])
    r = act(disp, e.pk, "dispatch", {"officer": officers["s1"].pk}, etag=f'"{e.pk}-v1"')
    assert r.status_code == 200, r.content
    assert r["ETag"] == f'"{e.pk}-v2"' and r.json()["officer_name"] == "张三"
    # a second dispatcher acting on what they saw before: 412, nothing changes
    stale = act(disp, e.pk, "reject", {"reason": "重复"}, etag=f'"{e.pk}-v1"')
    assert stale.status_code == 412 and stale.json()["code"] == "stale_version"
    assert act(disp, e.pk, "reject", {"reason": "x"}, etag='"garbage"').status_code == 412
    assert act(disp, e.pk, "reject", {"reason": "x"}, etag=f'"{e.pk + 1}-v2"').status_code == 412
    r = act(officer, e.pk, "accept", etag=f'W/"{e.pk}-v2"')
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert act(officer, e.pk, "accept").status_code == 409
    assert act(officer, e.pk, "arrive", etag="*").status_code == 200
    assert act(officer, e.pk, "resolve", {}).status_code == 400
    r = act(officer, e.pk, "resolve", {"result": "已劝离"})
    assert r.status_code == 200 and all(d["met_at"] for d in r.json()["deadlines"])
    assert act(officer, e.pk, "close", {"satisfaction": 5}).status_code == 403
    assert act(disp, e.pk, "close", {"satisfaction": 9}).status_code == 400
    r = act(disp, e.pk, "close", {"satisfaction": 4})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["version"] == 6
    detail = disp.get(f"{URL}{e.pk}/").json()
    assert [t["action"] for t in detail["timeline"]] == ["create", "dispatch", "accept", "arrive", "resolve", "close"]
    assert detail["assignments"][0]["status"] == "done"


def test_action_refusals(api, users, report, officers):
    e = report()
    assert act(api(users["officer_s1"]), e.pk, "dispatch", {"officer": officers["s1"].pk}).status_code == 403
    assert act(api(users["platform"]), e.pk, "reject", {"reason": "x"}).status_code == 403
    assert act(api(users["leader_s2"]), e.pk, "dispatch", {"officer": officers["s1"].pk}).status_code == 404
    assert act(api(users["dispatcher"]), e.pk, "dispatch", {}).status_code == 400
    assert act(api(users["dispatcher"]), e.pk, "dispatch", {"officer": 999999}).status_code == 400
    assert act(api(users["dispatcher"]), e.pk, "accept").status_code == 403
    assert act(api(users["dispatcher"]), e.pk, "merge", {"into": e.pk}).status_code == 400


def test_side_exits_through_the_api(api, users, report, departments):
    disp = api(users["dispatcher"])
    a, b, c, d = (report(point=(30.1 + i * 0.2, 120.2)) for i in range(4))
    assert act(disp, a.pk, "severity", {"severity": "red", "reason": "人员聚集"}).json()["severity"] == "red"
    assert act(disp, a.pk, "escalate", {"reason": "群众反映强烈"}).json()["escalation_level"] == 2
    assert act(disp, b.pk, "merge", {"into": a.pk}).json()["merged_into"] == a.pk
    assert act(disp, c.pk, "transfer", {"to": "SCJG", "reason": "市场监管职责"}).json()["department_code"] == "SCJG"
    assert act(disp, d.pk, "reject", {"reason": "不属于执法事项"}).json()["status"] == "rejected"
    assert act(disp, d.pk, "reject", {"reason": "再次"}).status_code == 409


def test_schema_generates(api, users):
    r = api(users["dispatcher"]).get("/api/schema/")
    assert r.status_code == 200
    assert b"/api/v1/events/{id}/dispatch/" in r.content


def test_time_filters_with_odd_offsets(api, users, two_streets):
    c = api(users["dispatcher"])
    assert c.get(URL, {"created_after": "0229-12-29T04:51:05+18:52"}).status_code == 200
    assert c.get(URL, {"created_after": "0001-01-01T00:00:00+18:00"}).status_code == 400


# --- trust: If-Match required, subjects of the reporter's areas and near the spot, strict bodies --

ACTIONS = [("dispatch", {"officer": None}), ("accept", {}), ("decline", {"reason": "x"}), ("arrive", {}),
           ("resolve", {"result": "x"}), ("close", {"satisfaction": 5}), ("reject", {"reason": "x"}),
           ("merge", {"into": None}), ("transfer", {"to": "SCJG", "reason": "x"}), ("escalate", {"reason": "x"}),
           ("severity", {"severity": "red", "reason": "x"}), ("deliberate", {"topic": "x"})]


@pytest.mark.parametrize("action,data", ACTIONS, ids=[a for a, _ in ACTIONS])
def test_every_action_without_if_match_is_428_and_changes_nothing(api, users, report, officers, action, data):
    e, other = report(), report(point=(30.6, 120.3))
    data = {k: (officers["s1"].pk if k == "officer" else other.pk) if v is None else v for k, v in data.items()}
    r = act(api(users["dispatcher"]), e.pk, action, data, etag=None)
    assert r.status_code == 428, r.content
    assert r.json()["code"] == "if_match_required" and "ETag" in r.json()["detail"]
    e.refresh_from_db()
    assert e.version == 1 and e.status == "new"
    # "*" is an explicit "whatever is current": accepted (the transition table still decides)
    assert act(api(users["dispatcher"]), e.pk, action, data, etag="*").status_code != 428


def test_another_streets_event_stays_404_without_if_match(api, users, report):
    e = report()
    assert act(api(users["leader_s2"]), e.pk, "reject", {"reason": "x"}, etag=None).status_code == 404


def test_schema_declares_if_match_required_and_428(api, users):
    schema = api(users["dispatcher"]).get("/api/schema/?format=json").json()
    op = schema["paths"]["/api/v1/events/{id}/reject/"]["post"]
    assert {"412", "428"} <= set(op["responses"])
    assert [p for p in op["parameters"] if p["name"] == "If-Match"][0]["required"] is True


def test_report_about_a_subject_far_from_the_spot_is_400_and_writes_nothing(api, users, catalog, categories):
    from core.models import AuditLog
    from credit.models import CreditFact
    from grids.models import Area, Subject

    grid = Area.objects.get(code="S1G1")
    near = Subject.objects.create(name="近店", category=categories["restaurant"], lat=30.2003, lng=120.2003, grid=grid)
    far = Subject.objects.create(name="远店", category=categories["restaurant"], lat=30.227, lng=120.2, grid=grid)  # ~3 km
    c = api(users["leader_s1"])
    audits = AuditLog.objects.count()
    r = c.post(URL, body(subject=far.pk), format="json")
    assert r.status_code == 400 and list(r.json()) == ["subject"], r.content
    assert "3003" in r.json()["subject"][0] or "米" in r.json()["subject"][0]
    assert (Event.objects.count(), CreditFact.objects.count(), AuditLog.objects.count()) == (0, 0, audits)
    r = c.post(URL, body(subject=near.pk), format="json")
    assert r.status_code == 201 and r.json()["subject_name"] == "近店"


def test_report_distance_limit_is_a_setting(api, users, catalog, categories, settings):
    from grids.models import Area, Subject

    settings.COMMAND_CENTER_SUBJECT_MAX_DISTANCE_M = 5000
    far = Subject.objects.create(name="远店", category=categories["restaurant"], lat=30.227, lng=120.2,
                                 grid=Area.objects.get(code="S1G1"))
    assert api(users["leader_s1"]).post(URL, body(subject=far.pk), format="json").status_code == 201


def test_eight_reports_from_another_street_cannot_move_a_subjects_credit(api, users, catalog, categories):
    """The probe: the other street's leader named this subject in eight citizen reports."""
    from credit.models import CreditFact
    from grids.models import Area, Subject

    shop = Subject.objects.create(name="青山湖饭店", category=categories["restaurant"], lat=30.2001, lng=120.2001,
                                  grid=Area.objects.get(code="S1G1"))
    c = api(users["leader_s2"])
    for i in range(8):
        r = c.post(URL, body(source="citizen", problem_type="YYCB", lat=S2_POINT[0], lng=S2_POINT[1] + i * 0.001,
                             subject=shop.pk), format="json")
        assert r.status_code == 400 and "subject" in r.json()
        assert "青山湖饭店" not in r.content.decode()
    assert not CreditFact.objects.filter(subject=shop).exists() and not Event.objects.exists()


@pytest.mark.parametrize("over,fields", [
    ({"lat": True}, {"lat"}), ({"lng": False}, {"lng"}), ({"subject": True}, {"subject"}),
    ({"priority": "high"}, {"priority"}), ({"priority": "high", "lat": "x"}, {"priority", "lat"}),
])
def test_post_refuses_booleans_and_unknown_fields(api, users, catalog, over, fields):
    r = api(users["platform"]).post(URL, body(**over), format="json")
    assert r.status_code == 400 and set(r.json()) == fields, r.content
    assert r.json().get("priority", ["未知字段。"]) == ["未知字段。"]
    assert not Event.objects.exists()


def test_multipart_intake_refuses_unknown_fields(api, users, catalog):
    r = api(users["platform"]).post(URL, {**body(), "callback": "http://x"}, format="multipart")
    assert r.status_code == 400 and set(r.json()) == {"callback"}, r.content
    assert not Event.objects.exists()


def test_sign_on_hours_refuse_booleans(api, users):
    r = api(users["dispatcher"]).post("/api/v1/command/duty/sign-on/", {"hours": True}, format="json")
    assert r.status_code == 400 and list(r.json()) == ["hours"], r.content


PLAIN_BODIES = [
    body(), body(external_id="P-1", severity="red", address="  文一路 1 号 "), body(external_id=None, severity=None),
    body(severity=""), body(lat=30, lng=120), body(reporter_name=""),
    # refused: by both intake and the serializer, or by one of them only
    body(source="pigeon"), body(source="", problem_type=" "), body(lat=95), body(lng=-181.5), body(lat="INF"),
    body(description="x" * 5001), body(external_id="e" * 101), body(description="a\x00b"), body(description="\ud800"),
    body(severity="purple"), body(subject=0), body(subject=2 ** 70), body(problem_type="NO-SUCH-TYPE"),
    body(lat=S2_POINT[0], lng=S2_POINT[1]), {"source": "citizen"}, {},
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_plain_json_answers_exactly_as_with_the_input_serializer_in_front(api, users, catalog, monkeypatch, language):
    """The view leaves the input serializer out for plain JSON (views.create, is_plain_intake): every answer,
    refusals included, is the one the serializer-first path gives."""
    from command_center.api import views

    def answers(*, plain):
        monkeypatch.setattr(views, "is_plain_intake", views.is_plain_intake if plain else lambda data: False)
        out = []
        asked = [("platform", data) for data in PLAIN_BODIES] + [
            ("platform_s2", body()), ("platform_s2", body(source="pigeon"))]  # outside its areas: 403, then 400
        for i, (user, data) in enumerate(asked):
            raw = json.dumps(data).replace('"INF"', "1e400")  # a number JSON reads as infinity
            r = api(users[user]).post(URL, raw, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language,
                                      HTTP_IDEMPOTENCY_KEY=f"{plain}-{i}")
            answer = r.json()
            if r.status_code == 201:  # ids and times differ from run to run
                for volatile in ("id", "created_at", "updated_at", "deadlines", "timeline"):
                    answer.pop(volatile)
                answer["possible_duplicate_of"] = answer["possible_duplicate_of"] is not None
            out.append((r.status_code, answer))
        Event.objects.all().delete()
        return out

    with_serializer = answers(plain=False)
    assert answers(plain=True) == with_serializer
    assert {status for status, _answer in with_serializer} == {201, 400, 403}


def test_what_counts_as_plain_json_intake():
    from command_center.api.serializers import is_plain_intake

    assert is_plain_intake(body()) and is_plain_intake(body(subject=5, external_id=None, lat=30))
    for over in ({"lat": "30.1"}, {"lat": True}, {"subject": "5"}, {"subject": 5.0}, {"reporter_name": None},
                 {"description": 12}, {"priority": "high"}, {"photos": []}):
        assert not is_plain_intake(body(**over)), over
    assert not is_plain_intake([body()]) and not is_plain_intake("text")
