"""Sensor readings and the sensor rules they feed (credit.services.sensors)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import Conflict, Forbidden
from credit.models import CreditFact, CreditScore, SensorReading
from credit.services import sensors

pytestmark = pytest.mark.django_db


def _reading(user, subject, day, value=3.2, device="FUME-1", hour=12):
    when = timezone.localtime() .replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(days=day)
    return sensors.record_sensor_reading(user, device_id=device, subject=subject, metric="fume", value=value,
                                         measured_at=when)


def test_sensor_rule_one_day_yellow_two_consecutive_days_red(subjects, users, on_commit):
    s = subjects["s1"]
    on_commit(_reading, users["platform"], s, 5, value=1.0)  # under the limit: no fact
    assert not CreditFact.objects.exists()
    on_commit(_reading, users["platform"], s, 3)
    score = CreditScore.objects.get(subject=s)
    assert score.color == "yellow" and score.reasons["sensor_rules"][0]["consecutive_days"] == 1
    on_commit(_reading, users["platform"], s, 3, value=4.0, hour=13)  # same day, higher: the day's max kept
    on_commit(_reading, users["platform"], s, 3, value=2.5, hour=14)  # same day, lower: nothing new
    assert CreditFact.objects.count() == 2
    on_commit(_reading, users["platform"], s, 2)
    score = CreditScore.objects.get(subject=s)
    assert score.color == "red" and score.reasons["sensor_rules"][-1]["consecutive_days"] == 2
    assert 3.9 < score.score <= 4  # two days over the limit, 2 points each (decayed a little)


def test_sensor_readings_are_idempotent_by_device_and_time(subjects, users, on_commit):
    first, created = on_commit(_reading, users["platform"], subjects["s1"], 1)
    again, created_again = on_commit(_reading, users["platform"], subjects["s1"], 1)
    assert created and not created_again and first.pk == again.pk
    assert SensorReading.objects.count() == 1 and CreditFact.objects.count() == 1
    with pytest.raises(Conflict):
        _reading(users["platform"], subjects["s1"], 1, value=9.9)
    with pytest.raises(Forbidden):
        _reading(users["leader_s1"], subjects["s1"], 1, device="X")
