"""The plan rules bureau staff set in the product: daily cap (DB, the setting as default) and comply-by
days by weight band and by item; audited from→to; every other role refused."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditLog
from inspections import services
from inspections.models import ComplyByDefault, ComplyByItem, PlanRules

API = "/api/v1/inspection-rules/"
PAGE = "/inspections/rules/"


@pytest.mark.django_db
def test_bureau_sets_cap_and_comply_by_through_the_api_audited(api, users, world, settings):
    settings.INSPECTIONS_DAILY_CAP = 6
    client = api(users["bureau"])
    r = client.get(API)
    assert r.status_code == 200
    assert r.json()["daily_cap"] == 6 and r.json()["daily_cap_set"] is None
    assert r.json()["comply_by_builtin"][0] == {"min_weight": 5, "days": 3, "severity": "red"}
    r = client.patch(API, {"daily_cap": 2, "comply_by_defaults": [{"min_weight": 0, "days": 20},
                                                                   {"min_weight": 4, "days": 5}],
                           "comply_by_items": [{"item_code": "F2", "days": 9}]}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["daily_cap"] == 2 and services.daily_cap() == 2
    assert [b["min_weight"] for b in r.json()["comply_by_defaults"]] == [4, 0]
    assert r.json()["comply_by_items"] == [{"item_code": "F2", "days": 9, "item_text": "是否占道经营"}]
    assert services.comply_by_days(5) == 5 and services.comply_by_days(2) == 20
    assert services.comply_by_days(2, "F2") == 9
    log = AuditLog.objects.get(action="inspections.rules_changed")
    assert log.changes == {"daily_cap": [None, 2]} and log.actor == users["bureau"]
    assert AuditLog.objects.filter(action="inspections.comply_by_changed").count() == 3
    # Change one band, drop the other; the cap back to the setting.
    r = client.patch(API, {"daily_cap": None, "comply_by_defaults": [{"min_weight": 0, "days": 25}]}, format="json")
    assert r.status_code == 200 and r.json()["daily_cap"] == 6 and services.daily_cap() == 6
    changes = [entry.changes for entry in AuditLog.objects.filter(action="inspections.comply_by_changed").order_by("id")]
    assert {"min_weight": [0, 0], "days": [20, 25]} in changes
    assert {"min_weight": [4, None], "days": [5, None]} in changes
    assert list(ComplyByDefault.objects.values_list("min_weight", "days")) == [(0, 25)]
    assert ComplyByItem.objects.count() == 1  # not given: unchanged


@pytest.mark.django_db
def test_bad_rules_are_400_with_field_messages_and_nothing_written(api, users, world):
    client = api(users["bureau"])
    for body, field in (({"daily_cap": 0}, "daily_cap"), ({"daily_cap": "x"}, "daily_cap"),
                        ({"comply_by_items": [{"item_code": "NOPE", "days": 3}]}, "comply_by_items"),
                        ({"comply_by_defaults": [{"min_weight": 1, "days": 0}]}, "comply_by_defaults"),
                        ({"comply_by_defaults": [{"min_weight": 1, "days": 3}, {"min_weight": 1, "days": 4}]},
                         "comply_by_defaults"),
                        ({"unknown": 1}, None)):
        r = client.patch(API, {**body, **({"daily_cap": 3} if field != "daily_cap" and field else {})}, format="json")
        assert r.status_code == 400, body
        if field:
            assert field in r.json()["fields"] if "fields" in r.json() else field in r.json(), r.json()
    assert not PlanRules.objects.exists() and not ComplyByDefault.objects.exists() and not ComplyByItem.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["leader_s1", "officer_s1", "dispatcher", "bureau_s1", "platform"])
def test_other_roles_are_refused(api, users, world, client, who):
    r = api(users[who]).patch(API, {"daily_cap": 1}, format="json")
    assert r.status_code == 403
    assert api(users[who]).get(API).status_code == 403
    client.force_login(users[who])
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"daily_cap": "1"}).status_code == 403
    assert not PlanRules.objects.exists()


@pytest.mark.django_db
def test_anonymous_is_refused(client, world):
    from rest_framework.test import APIClient

    assert APIClient().get(API).status_code in (401, 403)
    assert client.get(PAGE).status_code == 302


@pytest.mark.django_db
def test_rules_page_saves_and_shows_errors(client, users, world):
    client.force_login(users["bureau"])
    page = client.get(PAGE)
    assert page.status_code == 200 and "band-0-days" in page.content.decode()
    r = client.post(PAGE, {"daily_cap": "3", "band-count": "2", "band-0-key": "0", "band-0-days": "12",
                           "band-1-key": "", "band-1-days": "", "item-count": "1", "item-0-key": "F1",
                           "item-0-days": "2"})
    assert r.status_code == 302
    assert services.daily_cap() == 3 and services.comply_by_days(1) == 12 and services.comply_by_days(5, "F1") == 2
    r = client.post(PAGE, {"daily_cap": "999", "band-count": "0", "item-count": "0"})
    assert r.status_code == 400 and "errorlist" in r.content.decode()
    assert services.daily_cap() == 3


@pytest.mark.django_db
def test_the_cap_in_the_db_holds_for_adding_visits_and_item_days_for_findings(api, users, world):
    services.save_rules(users["bureau"], daily_cap=1, comply_by_items=[{"item_code": "F1", "days": 10}])
    today = timezone.localdate()
    leader = api(users["leader_s1"])
    body = {"street": "S1", "date": today.isoformat(), "officers": [world["o1"].pk], "kind": "one_off",
            "one_off_reason": "complaint"}
    first = leader.post("/api/v1/inspections/", {**body, "subject": world["subjects"][0].pk}, format="json")
    assert first.status_code == 201
    second = leader.post("/api/v1/inspections/", {**body, "subject": world["subjects"][1].pk}, format="json")
    assert second.status_code == 400 and "officers" in str(second.json())
    r = api(users["officer_s1"]).post(f"/api/v1/inspections/{first.json()['id']}/findings/", {
        "client_id": "c-r1", "item": "F1", "result": "fail", "rectification": "deadline"}, format="json")
    assert r.json()["comply_by"] == (today + timedelta(days=10)).isoformat()


@pytest.mark.django_db
def test_too_many_rows_refused_in_the_service(users, world):
    from core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services.save_rules(users["bureau"], comply_by_defaults=[{"min_weight": n, "days": 3} for n in range(21)])
    assert "comply_by_defaults" in exc.value.fields and not ComplyByDefault.objects.exists()
