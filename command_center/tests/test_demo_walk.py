"""The embedded demo's walk: on-duty officers step inside their street and report positions through the
grids service, so dispatch keeps candidates with a fresh position; on only when DEMO_SIMULATION says so."""
import threading

import pytest
import shapely
from django.conf import settings
from django.utils import timezone
from shapely.geometry import shape

from command_center import dispatch, ticker
from command_center.testing import S1_POINT
from command_center.walk import DemoWalk
from grids.choices import DutyStatus
from grids.models import Officer, OfficerPosition


@pytest.mark.django_db
def test_a_step_moves_every_on_duty_officer_once_a_lap(officers, district, report):
    stale = timezone.now() - timezone.timedelta(minutes=30)
    Officer.objects.filter(pk=officers["s1"].pk).update(last_position_at=stale)
    Officer.objects.filter(pk=officers["s2"].pk).update(duty_status=DutyStatus.OFF_DUTY)
    event = report()
    assert dispatch.ranking(event).eligible == 0  # 张三's phone went quiet half an hour ago

    walk = DemoWalk(interval=5, lap_seconds=10, seed=1)  # half the officers a step: each once in two steps
    moved = walk.step() + walk.step()
    assert moved == 2  # 张三 each step (at least one officer a step): 李四 is off duty
    zhang = Officer.objects.get(pk=officers["s1"].pk)
    ping = OfficerPosition.objects.filter(officer=zhang, source="simulate").latest("recorded_at")
    assert (zhang.last_lat, zhang.last_lng, zhang.last_position_at) == (ping.lat, ping.lng, ping.recorded_at)
    assert zhang.last_position_at > stale and (zhang.last_lat, zhang.last_lng) != S1_POINT
    assert shapely.contains_xy(shape(district["S1"].boundary), zhang.last_lng, zhang.last_lat)
    assert not OfficerPosition.objects.filter(officer=officers["s2"]).exists()
    assert [c.name for c in dispatch.rank(event)] == ["张三"]  # a candidate again

    # The on-duty list is read again every lap: 李四 comes on duty and walks too.
    Officer.objects.filter(pk=officers["s2"].pk).update(duty_status=DutyStatus.AVAILABLE)
    assert sum(walk.step() for _ in range(4)) == 4
    assert OfficerPosition.objects.filter(officer=officers["s2"], source="simulate").count() == 2


def test_off_unless_asked_for():
    assert settings.DEMO_SIMULATION is False  # tests (and production) leave it off; `make run` turns it on
    assert not ticker.should_run()


def test_the_walks_thread_stops_cleanly(monkeypatch):
    stepped = threading.Event()
    monkeypatch.setattr(DemoWalk, "step", lambda self: stepped.set())
    walk = ticker.start_demo_walk(interval=0.01)
    try:
        assert stepped.wait(5) and walk.is_alive() and walk.thread.name == "demo-walk"
        assert ticker.start_demo_walk(interval=0.01) is walk  # once per process
    finally:
        ticker.stop_demo_walk()
    assert not walk.is_alive()
