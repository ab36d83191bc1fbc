"""GET /subjects/{id}/credit/, override, policies, sensor readings: answers and refusals."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditLog
from credit.choices import FactKind
from credit.models import CreditOverride, CreditPolicy, CreditScore, SensorReading
from credit.services import facts, overrides, policies, rescoring

pytestmark = pytest.mark.django_db


def url(subject, tail=""):
    return f"/api/v1/subjects/{subject.pk}/credit/{tail}"


def test_credit_of_a_subject_without_history_is_green(api, users, subjects):
    r = api(users["leader_s1"]).get(url(subjects["s1"]))
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["score"], body["color"], body["override"], body["history"]) == (0, "green", None, [])
    assert body["reasons"]["factors"] == [] and body["policy"]["version"] >= 1


def test_credit_shows_reasons_and_history(api, users, subjects, on_commit):
    fact, _ = on_commit(facts.post_fact, subjects["s1"], FactKind.VIOLATION, source_app="enforcement",
                        source_model="case", source_pk=7, points=30, source_text="无证经营")
    body = api(users["leader_s1"]).get(url(subjects["s1"])).json()
    assert body["color"] == "red" and body["score"] > 29
    (factor,) = body["reasons"]["factors"]
    assert factor["factor"] == "violation" and factor["facts"][0]["id"] == fact.pk
    assert factor["facts"][0]["ref"] == "enforcement.case:7" and factor["facts"][0]["text"] == "无证经营"
    (h,) = body["history"]
    assert (h["from"], h["to"], h["cause"]) == ("green", "red", "fact_posted")


def test_credit_is_scoped_by_area(api, users, subjects):
    assert api(users["leader_s2"]).get(url(subjects["s1"])).status_code == 404
    assert api(users["nobody"]).get(url(subjects["s1"])).status_code == 404
    assert api().get(url(subjects["s1"])).status_code in (401, 403)
    assert api(users["leader_s1"]).get("/api/v1/subjects/99999999/credit/").status_code == 404
    assert api(users["leader_s1"]).get("/api/v1/subjects/99999999999999999999999/credit/").status_code == 404


def test_override_by_bureau_only(api, users, subjects, on_commit):
    later = (timezone.now() + timedelta(days=5)).isoformat()
    body = {"color": "red", "reason": "重点监管", "expires_at": later}
    for who in ("leader_s1", "dispatcher", "officer_s1", "platform"):
        assert api(users[who]).post(url(subjects["s1"], "override/"), body, format="json").status_code == 403
    assert api(users["bureau_s1"]).post(url(subjects["s2"], "override/"), body, format="json").status_code == 404
    r = api(users["bureau"]).post(url(subjects["s1"], "override/"), {"color": "blue"}, format="json")
    assert r.status_code == 400 and {"color", "reason", "expires_at"} <= set(r.json())
    assert not CreditOverride.objects.exists()
    r = on_commit(api(users["bureau_s1"]).post, url(subjects["s1"], "override/"), body, format="json")
    assert r.status_code == 201, r.content
    data = r.json()
    assert (data["color"], data["computed_color"], data["override"]["reason"]) == ("red", "green", "重点监管")
    assert data["history"][0]["cause"] == "override"
    # Ending it: bureau only; then 404 when there is none.
    assert api(users["leader_s1"]).delete(url(subjects["s1"], "override/")).status_code == 403
    r = on_commit(api(users["bureau"]).delete, url(subjects["s1"], "override/"), {"reason": "整改到位"}, format="json")
    assert r.status_code == 200
    assert api(users["bureau"]).delete(url(subjects["s1"], "override/")).status_code == 404
    assert api(users["leader_s1"]).get(url(subjects["s1"])).json()["color"] == "green"


def _writes(queries) -> list:
    return [q["sql"] for q in queries if q["sql"].lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_expired_override_stops_applying_at_read_time(api, users, subjects, on_commit):
    on_commit(overrides.set_override, users["bureau"], subjects["s1"], color="yellow", reason="回头看",
              expires_at=timezone.now() + timedelta(days=1))
    CreditOverride.objects.update(expires_at=timezone.now() - timedelta(minutes=1))  # time passes
    audits = AuditLog.objects.count()
    with CaptureQueriesContext(connection) as queries:
        body = api(users["leader_s1"]).get(url(subjects["s1"])).json()
    assert body["color"] == "green" and body["computed_color"] == "green" and body["override"] is None
    # The read wrote nothing: the override is ended, and the history says so, by the night's rescore.
    assert _writes(queries.captured_queries) == [] and AuditLog.objects.count() == audits
    assert CreditOverride.objects.get().ended_at is None
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "yellow"
    assert body["history"][0]["cause"] == "override"
    rescoring.rescore_all()
    body = api(users["leader_s1"]).get(url(subjects["s1"])).json()
    assert body["color"] == "green" and body["history"][0]["cause"] == "override_ended"
    assert CreditOverride.objects.get().end_reason == "expired"


def test_a_subject_never_scored_is_shown_from_its_ledger_and_the_read_writes_nothing(api, users, subjects):
    # Posted without the rescore on commit (a bulk loader's way): the ledger has it, no score row yet.
    facts.post_fact(subjects["s1"], FactKind.VIOLATION, source_app="enforcement", source_model="case", source_pk=3,
                    points=30, source_text="无证经营", rescore=False)
    audits = AuditLog.objects.count()
    with CaptureQueriesContext(connection) as queries:
        r = api(users["leader_s1"]).get(url(subjects["s1"]))
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["score"], body["color"], body["computed_color"], body["history"]) == (30, "red", "red", [])
    assert body["reasons"]["factors"][0]["facts"][0]["ref"] == "enforcement.case:3"
    assert body["policy"]["version"] >= 1
    assert _writes(queries.captured_queries) == []
    assert not CreditScore.objects.exists() and AuditLog.objects.count() == audits
    # What the rescoring then stores is what the read showed.
    rescoring.rescore_subject(subjects["s1"].pk)
    stored = api(users["leader_s1"]).get(url(subjects["s1"])).json()
    assert {k: stored[k] for k in ("score", "color", "computed_color", "reasons", "policy")} == {
        k: body[k] for k in ("score", "color", "computed_color", "reasons", "policy")}


def test_policies_read_by_all_written_by_district_bureau(api, users, categories, eager):
    r = api(users["officer_s1"]).get("/api/v1/credit/policies/")
    assert r.status_code == 200 and r.json()["count"] == 1
    default = r.json()["results"][0]
    assert default["category"] is None and default["red_from"] == 28
    for who in ("leader_s1", "bureau_s1", "platform"):
        assert api(users[who]).patch(f"/api/v1/credit/policies/{default['id']}/", {"red_from": 40},
                                     format="json").status_code == 403
    r = api(users["bureau"]).patch(f"/api/v1/credit/policies/{default['id']}/", {"red_from": 10}, format="json")
    assert r.status_code == 400 and "red_from" in r.json()
    r = api(users["bureau"]).patch(f"/api/v1/credit/policies/{default['id']}/",
                                   {"red_from": 40, "sensor_rules": [{"metric": "dust", "limit": 0.8, "days": 2,
                                                                      "color": "red"}]}, format="json")
    assert r.status_code == 200, r.content
    new = r.json()
    assert new["id"] != default["id"] and new["version"] == default["version"] + 1 and new["red_from"] == 40
    assert new["sensor_rules"][0]["within_days"] == 30
    assert api(users["bureau"]).get("/api/v1/credit/policies/?all=1").json()["count"] == 2
    assert api(users["bureau"]).get(f"/api/v1/credit/policies/{default['id']}/").json()["is_current"] is False
    r = api(users["bureau"]).post("/api/v1/credit/policies/", {"category": categories["site"].pk, "red_from": 20,
                                                               "yellow_from": 8}, format="json")
    assert r.status_code == 201 and r.json()["version"] == 1
    assert api(users["bureau"]).post("/api/v1/credit/policies/", {"category": categories["site"].pk},
                                     format="json").status_code == 409
    assert api(users["bureau"]).delete(f"/api/v1/credit/policies/{r.json()['id']}/").status_code == 204
    assert api(users["bureau"]).delete(f"/api/v1/credit/policies/{new['id']}/").status_code == 409
    assert api(users["bureau"]).get("/api/v1/credit/policies/424242/").status_code == 404
    assert CreditPolicy.objects.filter(category=categories["site"]).get().is_current is False


def test_a_policy_keeps_its_category(api, users, categories, eager):
    default = api(users["bureau"]).get("/api/v1/credit/policies/").json()["results"][0]
    r = api(users["bureau"]).patch(f"/api/v1/credit/policies/{default['id']}/", {"category": categories["site"].pk},
                                   format="json")
    assert r.status_code == 400 and r.json()["category"] == ["不能修改规则所属类别。"]
    assert CreditPolicy.objects.count() == 1
    # Its own category again is no change of category.
    r = api(users["bureau"]).patch(f"/api/v1/credit/policies/{default['id']}/", {"category": None, "red_from": 30},
                                   format="json")
    assert r.status_code == 200 and r.json()["category"] is None and r.json()["red_from"] == 30


@pytest.mark.parametrize("path", ["/api/v1/credit/policies/?all=1", "/api/v1/subject-categories/"])
def test_policy_and_category_lists_query_count(api, users, categories, eager, path, django_assert_max_num_queries):
    """A page of policies (each with its category and author) or of the categories they are written for
    costs the same few queries however many rows it has."""
    for n, category in enumerate(categories.values()):
        policies.create_policy(users["bureau"], category=category, name=f"规则{n}", red_from=30 + n)
        current = CreditPolicy.objects.get(category=category, is_current=True)
        policies.update_policy(users["bureau"], current, note="改")
    client = api(users["officer_s1"])
    assert client.get(path).json()["count"] >= len(categories)
    with django_assert_max_num_queries(3):  # the count and the page (its categories and authors joined)
        assert client.get(path).status_code == 200


def _reading(subject, **kw):
    return {"device_id": "FUME-9", "subject": subject.pk, "metric": "fume", "value": 3.1,
            "measured_at": (timezone.now() - timedelta(hours=2)).isoformat(), **kw}


def test_sensor_readings_idempotent_and_scoped(api, users, subjects, on_commit):
    body = _reading(subjects["s1"])
    r = on_commit(api(users["platform"]).post, "/api/v1/sensor-readings/", body, format="json")
    assert r.status_code == 201, r.content
    r2 = on_commit(api(users["platform"]).post, "/api/v1/sensor-readings/", body, format="json")
    assert r2.status_code == 200 and r2.json()["id"] == r.json()["id"]
    assert api(users["platform"]).post("/api/v1/sensor-readings/", {**body, "value": 1.0},
                                       format="json").status_code == 409
    assert SensorReading.objects.count() == 1
    assert api(users["leader_s1"]).get(url(subjects["s1"])).json()["color"] == "yellow"
    # `time` is accepted for measured_at.
    t = (timezone.now() - timedelta(hours=1)).isoformat()
    r = api(users["platform"]).post("/api/v1/sensor-readings/", {**_reading(subjects["s1"]), "measured_at": None,
                                                                 "time": t}, format="json")
    assert r.status_code == 400  # an explicit null is not a time
    body2 = _reading(subjects["s1"])
    body2.pop("measured_at")
    assert api(users["platform"]).post("/api/v1/sensor-readings/", {**body2, "time": t}, format="json").status_code == 201
    # Another street's subject: refused as unknown; wrong role: 403; bad values: 400.
    r = api(users["platform_s2"]).post("/api/v1/sensor-readings/", _reading(subjects["s1"], device_id="Z"), format="json")
    assert r.status_code == 400 and "subject" in r.json()
    assert api(users["leader_s1"]).post("/api/v1/sensor-readings/", _reading(subjects["s1"], device_id="Y"),
                                        format="json").status_code == 403
    r = api(users["platform"]).post("/api/v1/sensor-readings/", {"device_id": "", "subject": "x", "value": "hot"},
                                    format="json")
    assert r.status_code == 400 and {"device_id", "subject", "value", "metric", "measured_at"} <= set(r.json())
    r = api(users["platform"]).post("/api/v1/sensor-readings/", _reading(subjects["s1"], device_id="F",
                                    measured_at=(timezone.now() + timedelta(days=1)).isoformat()), format="json")
    assert r.status_code == 400 and "measured_at" in r.json()
    # Reads are scoped too.
    assert api(users["platform_s2"]).get("/api/v1/sensor-readings/").json()["count"] == 0
    assert api(users["platform"]).get(f"/api/v1/sensor-readings/?subject={subjects['s1'].pk}").json()["count"] == 2


def test_credit_endpoint_query_count(api, users, subjects, on_commit, django_assert_max_num_queries):
    for n in range(5):
        on_commit(facts.post_fact, subjects["s1"], FactKind.COMPLAINT, source_app="cc", source_model="event",
                  source_pk=n)
    client = api(users["leader_s1"])
    client.get(url(subjects["s1"]))
    with django_assert_max_num_queries(12):
        assert client.get(url(subjects["s1"])).status_code == 200


@pytest.mark.parametrize("over,field", [
    ({"value": 3.7e16}, "value"),                                   # no fume monitor reads that
    ({"value": -1}, "value"),
    ({"metric": "noise", "value": 250}, "value"),                   # each metric has its own range
    ({"metric": "so2", "value": 2e6}, "value"),                     # unlisted metrics: the "*" range
    ({"value": True}, "value"),                                     # a boolean is no number
    ({"measured_at": "0515-01-01T00:00:00Z"}, "measured_at"),       # year 515
    ({"measured_at": "DAYS_AGO_40"}, "measured_at"),                # older than CREDIT_SENSOR_MAX_AGE_DAYS
])
def test_implausible_readings_are_400_and_write_nothing(api, users, subjects, over, field):
    from credit.models import CreditFact

    if over.get("measured_at") == "DAYS_AGO_40":
        over = {"measured_at": (timezone.now() - timedelta(days=40)).isoformat()}
    r = api(users["platform"]).post("/api/v1/sensor-readings/", _reading(subjects["s1"], **over), format="json")
    assert r.status_code == 400 and list(r.json()) == [field], r.content
    assert not SensorReading.objects.exists() and not CreditFact.objects.exists()


def test_sensor_ranges_are_settings(api, users, subjects, settings):
    settings.CREDIT_SENSOR_VALUE_RANGES = {**settings.CREDIT_SENSOR_VALUE_RANGES, "fume": (0, 1e17)}
    assert api(users["platform"]).post("/api/v1/sensor-readings/", _reading(subjects["s1"], value=3.7e16),
                                       format="json").status_code == 201
    settings.CREDIT_SENSOR_MAX_AGE_DAYS = 60
    old = (timezone.now() - timedelta(days=40)).isoformat()
    assert api(users["platform"]).post("/api/v1/sensor-readings/", _reading(subjects["s1"], device_id="D2", measured_at=old),
                                       format="json").status_code == 201


@pytest.mark.parametrize("url,field", [
    ("/api/v1/credit/policies/{default}/", "red_from"), ("/api/v1/credit/policies/{default}/", "lenient_multiplier"),
    ("/api/v1/credit/policies/{default}/", "half_life_days"), ("/api/v1/credit/effort-rules/green/", "spot_check_percent"),
])
def test_booleans_are_not_numbers(api, users, subjects, url, field):
    default = api(users["bureau"]).get("/api/v1/credit/policies/").json()["results"][0]["id"]
    r = api(users["bureau"]).patch(url.format(default=default), {field: True}, format="json")
    assert r.status_code == 400 and list(r.json()) == [field], r.content
    assert CreditPolicy.objects.filter(is_current=True).count() == 1 and CreditPolicy.objects.count() == 1
