"""Hot-area warnings on the dispatcher's desk: the page starts with the open warnings of its user's areas
(each with its grid's boundary, which the map hatches); an expired warning is pushed off the desks."""
import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import services
from analytics.testing import warning_in
from command_center.models import Event

pytestmark = pytest.mark.django_db


def _desk_warnings(client, user):
    client.force_login(user)
    response = client.get(reverse("command-dashboard"))
    assert response.status_code == 200
    return response.context["hotspot_warnings"]


def test_the_desk_starts_with_the_open_warnings_of_its_areas_only(client, users, district):
    s1 = warning_in(district, "S1G1")
    s2 = warning_in(district, "S2G1", code="YYCB", name="餐饮油烟", count=7, status="acknowledged")
    warning_in(district, "S1G2", status="expired")  # over: not on any map
    district_wide = _desk_warnings(client, users["dispatcher"])
    assert [w["id"] for w in district_wide] == sorted([s1.pk, s2.pk], reverse=True)
    assert {w["id"]: (w["grid"], w["problem_type_name"], w["count"], w["status"]) for w in district_wide} == {
        s1.pk: ("S1G1", "占道经营", 5, "raised"), s2.pk: ("S2G1", "餐饮油烟", 7, "acknowledged")}
    assert all(w["boundary"]["type"] == "Polygon" for w in district_wide)
    assert [w["id"] for w in _desk_warnings(client, users["leader_s1"])] == [s1.pk]
    assert [w["id"] for w in _desk_warnings(client, users["leader_s2"])] == [s2.pk]
    # … written into the page as data for the map's script (leader_s2 is the last one logged in)
    html = client.get(reverse("command-dashboard")).content.decode()
    [data] = re.findall(r'<script id="cc-warnings" type="application/json">(.*?)</script>', html)
    assert [w["id"] for w in json.loads(data)] == [s2.pk]


def test_an_expired_warning_is_pushed_off_the_desks(report, district, monkeypatch, django_capture_on_commit_callbacks):
    from command_center import push

    sent = []
    monkeypatch.setattr(push, "_group_send_many", lambda messages: sent.extend(
        (group, message["payload"]) for group, message in messages))
    events = [report(point=(30.2 + i * 0.01, 120.2)) for i in range(5)]
    Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        [raised] = services.check_hotspots()["raised"]
    assert {p["type"] for _g, p in sent} == {"warning.raised"}
    assert sent[0][1]["warning"]["boundary"]["type"] == "Polygon"  # the map draws it from the push alone
    sent.clear()
    Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=timezone.now() - timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.check_hotspots()["expired"] == [raised]
    assert {g for g, _p in sent} == {f"cc.street.{district['S1'].pk}", "cc.district"}
    assert all(p["type"] == "warning.expired" and p["warning"]["id"] == raised for _g, p in sent)


def test_an_acknowledgement_is_pushed_to_the_desks(users, district, monkeypatch, django_capture_on_commit_callbacks):
    from command_center import push

    sent = []
    monkeypatch.setattr(push, "_group_send_many", lambda messages: sent.extend(
        (group, message["payload"]) for group, message in messages))
    warning = warning_in(district, "S1G1")
    with django_capture_on_commit_callbacks(execute=True):
        services.acknowledge_warning(users["leader_s1"], warning, note="已安排巡查")
    assert {g for g, _p in sent} == {f"cc.street.{district['S1'].pk}", "cc.district"}
    assert all(p["type"] == "warning.acknowledged" and p["warning"]["status"] == "acknowledged" for _g, p in sent)
