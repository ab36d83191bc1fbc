"""A busy database (SQLite's write lock held past its timeout under a burst, PostgreSQL out of connections)
answers a retryable 503 with nothing written, never a 500 (bench/dashboard.py's burst found the 500s)."""
import pytest

from command_center.testing import S1_POINT

pytestmark = pytest.mark.django_db


def test_busy_database_on_the_api_is_a_retryable_503(api, users, report, monkeypatch):
    from django.db import OperationalError

    from command_center.models import Event
    from command_center.services import intake

    report()  # warm the routing snapshot
    before = Event.objects.count()

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(intake, "intake_event", locked)
    response = api(users["platform"]).post("/api/v1/events/", {
        "source": "citizen", "problem_type": "ZDJY", "description": "占道", "lat": S1_POINT[0], "lng": S1_POINT[1],
    }, format="json")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "2"
    assert response.json()["code"] == "busy"
    assert Event.objects.count() == before
