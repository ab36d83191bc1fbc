"""Hot-area warnings in the database: raised once per episode, pushed, acknowledged, expired; the API."""
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from analytics import services
from analytics.choices import WarningStatus
from analytics.models import HotspotWarning
from command_center.models import Event
from core.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def rush(report):
    """Five reports of street vending in S1 grid 1 within the last day, none before: a hot spot."""
    now = timezone.now()
    events = [report(point=(30.2 + i * 0.01, 120.2)) for i in range(5)]
    Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=now - timedelta(hours=1))
    return events


def test_a_rush_raises_one_warning_and_a_second_check_does_not_repeat_it(rush, district, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    from command_center import push

    monkeypatch.setattr(push, "_group_send_many", lambda messages: sent.extend(
        (group, message["payload"]) for group, message in messages))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.check_hotspots()
    assert len(first["raised"]) == 1
    warning = HotspotWarning.objects.get()
    assert (warning.grid, warning.street, warning.count, warning.problem_type_code) == (
        district["S1G1"], district["S1"], 5, "ZDJY")
    assert warning.baseline == 0.0 and warning.p_value == pytest.approx((1 / 9) ** 5)
    assert {g for g, _p in sent} == {f"cc.street.{district['S1'].pk}", "cc.district"}
    assert all(p["type"] == "warning.raised" and p["warning"]["grid"] == "S1G1" for _g, p in sent)
    assert services.check_hotspots()["raised"] == []  # the same episode: no second warning
    assert HotspotWarning.objects.count() == 1
    assert AuditLog.objects.filter(action="warning.raised").count() == 1


def test_the_database_allows_one_open_warning_per_grid_and_type(rush):
    services.check_hotspots()
    w = HotspotWarning.objects.get()
    with pytest.raises(IntegrityError):
        HotspotWarning.objects.create(grid=w.grid, street=w.street, path=w.path, problem_type_code=w.problem_type_code,
                                      window_start=w.window_start, window_end=w.window_end, count=1, baseline=1,
                                      p_value=1, peak_count=1, raised_at=w.raised_at)


def test_it_expires_when_the_count_falls_back_and_a_new_rise_is_a_new_episode(rush, report):
    services.check_hotspots()
    later = timezone.now() + timedelta(days=8)  # the rush has left the window
    done = services.check_hotspots(now=later)
    w = HotspotWarning.objects.get()
    assert done["expired"] == [w.pk] and w.status == WarningStatus.EXPIRED and w.expired_at == later
    again = [report(point=(30.2 + i * 0.01, 120.2)) for i in range(8)]
    Event.objects.filter(pk__in=[e.pk for e in again]).update(created_at=later - timedelta(hours=1))
    assert len(services.check_hotspots(now=later)["raised"]) == 1
    assert HotspotWarning.objects.count() == 2


def test_acknowledge_api_and_its_refusals(rush, api, users):
    services.check_hotspots()
    w = HotspotWarning.objects.get()
    url = f"/api/v1/warnings/{w.pk}/acknowledge/"
    assert api(users["officer_s1"]).post(url, {"note": "x"}, format="json").status_code == 403
    assert api(users["platform"]).post(url, {"note": "x"}, format="json").status_code == 403
    assert api(users["leader_s2"]).post(url, {"note": "x"}, format="json").status_code == 404  # another street's
    assert api(users["leader_s1"]).post(url, {"note": "x" * 501}, format="json").status_code == 400
    ok = api(users["leader_s1"]).post(url, {"note": "已安排错时巡查"}, format="json")
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["status"] == "acknowledged" and body["note"] == "已安排错时巡查" and body["acknowledged_by"]
    assert api(users["dispatcher"]).post(url, {"note": "again"}, format="json").status_code == 409
    assert AuditLog.objects.filter(action="warning.acknowledged", object_id=str(w.pk)).count() == 1


def test_warning_lists_are_scoped(rush, api, users):
    services.check_hotspots()
    assert len(api(users["dispatcher"]).get("/api/v1/warnings/").json()["results"]) == 1
    assert api(users["leader_s2"]).get("/api/v1/warnings/").json()["results"] == []
    assert len(api(users["leader_s1"]).get("/api/v1/warnings/?open=1").json()["results"]) == 1
    assert api(users["officer_s1"]).get("/api/v1/warnings/").status_code == 403
    assert api().get("/api/v1/warnings/").status_code in (401, 403)
