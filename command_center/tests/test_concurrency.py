"""Races on PostgreSQL (threads, each on its own connection): retried intake, two dispatchers at once."""
import pytest
from django.db import connection

from command_center import services
from command_center.choices import AssignmentStatus
from command_center.models import Assignment, Event, IdempotencyKey
from command_center.tests.conftest import S1_POINT
from command_center.tests.test_sla import _in_threads
from core.exceptions import PreconditionFailed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _second_officer(teams, departments):
    from grids import accounts
    from grids.models import Officer

    u = accounts.add_user(None, username="wang", role="officer", area_codes=["S1"])[0]
    return Officer.objects.create(user=u, name="王五", badge_no="B003", team=teams["S1"], home_department=departments["ZHZF"])


def test_retries_racing_each_other_make_one_event(catalog, users):
    assert connection.vendor == "postgresql"
    data = {"source": "hotline_12345", "problem_type": "ZDJY", "description": "占道", "lat": S1_POINT[0], "lng": S1_POINT[1]}
    results, errors = _in_threads(6, lambda i: services.intake_event(users["platform"], data, idempotency_key="same"))
    assert not errors, errors
    assert len({e.pk for e, _ in results}) == 1 and sum(created for _, created in results) == 1
    assert Event.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    by_external = {**data, "external_id": "HL-9"}
    results, errors = _in_threads(6, lambda i: services.intake_event(users["platform"], by_external))
    assert not errors, errors
    assert len({e.pk for e, _ in results}) == 1 and Event.objects.count() == 2


def test_two_dispatchers_with_the_same_etag(report, users, officers, teams, departments):
    other = _second_officer(teams, departments)
    e = report()
    picks = [officers["s1"], other]

    def work(i):
        try:
            return services.dispatch(users["dispatcher"], e.pk, picks[i], expected_version=1).officer_id
        except PreconditionFailed:
            return "412"

    results, errors = _in_threads(2, work)
    assert not errors, errors
    assert sorted(map(str, results)).count("412") == 1
    assert Assignment.objects.filter(event=e, status=AssignmentStatus.LIVE).count() == 1


def test_concurrent_dispatch_never_two_live_assignments(report, users, officers, teams, departments):
    other = _second_officer(teams, departments)
    for _ in range(5):
        e = report()
        picks = [officers["s1"], other]
        results, errors = _in_threads(2, lambda i, e=e: services.dispatch(users["dispatcher"], e.pk, picks[i]).officer_id)
        assert not errors, errors
        live = Assignment.objects.filter(event=e, status=AssignmentStatus.LIVE)
        assert live.count() == 1
        e.refresh_from_db()
        assert e.officer_id == live.get().officer_id and e.version == 3
