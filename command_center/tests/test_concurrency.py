"""Races on PostgreSQL (threads, each on its own connection): retried intake, two dispatchers at once."""
import pytest
from django.db import connection
from django.utils import timezone

from command_center.choices import AssignmentStatus
from command_center.models import Assignment, Event, IdempotencyKey
from command_center.services import intake, transitions
from command_center.testing import S1_POINT
from core.testing import in_threads
from core.exceptions import Conflict, PreconditionFailed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def on_duty_here() -> dict:
    """An officer the ranking lists for an S1 event (the desk's pick needs no override)."""
    return {"duty_status": "available", "last_lat": S1_POINT[0], "last_lng": S1_POINT[1],
            "last_position_at": timezone.now()}


def _second_officer(teams, departments):
    from grids import accounts
    from grids.models import Officer

    u = accounts.add_user(None, username="wang", role="officer", area_codes=["S1"])[0]
    return Officer.objects.create(user=u, name="王五", badge_no="B003", team=teams["S1"], home_department=departments["ZHZF"],
                                  **on_duty_here())


def test_retries_racing_each_other_make_one_event(catalog, users):
    assert connection.vendor == "postgresql"
    data = {"source": "hotline_12345", "problem_type": "ZDJY", "description": "占道", "lat": S1_POINT[0], "lng": S1_POINT[1]}
    results, errors = in_threads(6, lambda i: intake.intake_event(users["platform"], data, idempotency_key="same"))
    assert not errors, errors
    assert len({e.pk for e, _ in results}) == 1 and sum(created for _, created in results) == 1
    assert Event.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    by_external = {**data, "external_id": "HL-9"}
    results, errors = in_threads(6, lambda i: intake.intake_event(users["platform"], by_external))
    assert not errors, errors
    assert len({e.pk for e, _ in results}) == 1 and Event.objects.count() == 2


def test_two_dispatchers_with_the_same_etag(report, users, officers, teams, departments):
    other = _second_officer(teams, departments)
    e = report()
    picks = [officers["s1"], other]

    def work(i):
        try:
            return transitions.dispatch(users["dispatcher"], e.pk, picks[i], expected_version=1).officer_id
        except PreconditionFailed:
            return "412"

    results, errors = in_threads(2, work)
    assert not errors, errors
    assert sorted(map(str, results)).count("412") == 1
    assert Assignment.objects.filter(event=e, status=AssignmentStatus.LIVE).count() == 1


def _crew(teams, departments, n):
    from grids import accounts
    from grids.models import Officer

    out = []
    for i in range(n):
        u = accounts.add_user(None, username=f"race-{i}", role="officer", area_codes=["S1"])[0]
        out.append(Officer.objects.create(user=u, name=f"队员{i}", badge_no=f"R{i:03d}", team=teams["S1"],
                                          home_department=departments["ZHZF"], **on_duty_here()))
    return out


N = 6


def test_concurrent_dispatches_of_one_event_one_wins_the_rest_conflict(report, users, teams, departments):
    """N dispatchers pick N different officers for one new event at the same instant: the event row lock
    serialises them, the first holds it, every other gets 409 (none silently replaces the pick), and
    the partial unique index would refuse a second live assignment anyway."""
    assert connection.vendor == "postgresql"
    crew = _crew(teams, departments, N)
    for _ in range(3):
        e = report()

        def work(i, e=e):
            try:
                return transitions.dispatch(users["dispatcher"], e.pk, crew[i]).officer_id
            except Conflict as exc:
                return ("409", exc.code)

        results, errors = in_threads(N, work)
        assert not errors, errors
        winners = [r for r in results if not isinstance(r, tuple)]
        assert len(winners) == 1
        assert sorted(results, key=str).count(("409", "already_dispatched")) == N - 1
        live = Assignment.objects.filter(event=e, status=AssignmentStatus.LIVE)
        assert live.count() == 1 and Assignment.objects.filter(event=e).count() == 1
        e.refresh_from_db()
        assert e.officer_id == winners[0] == live.get().officer_id and e.version == 2


def test_automatic_and_manual_dispatch_racing(report, users, teams, departments, settings):
    """The automatic task and a dispatcher act on one event at once: one assignment, never two."""
    from datetime import timedelta

    from django.utils import timezone

    from command_center.models import DispatchRule
    from command_center.testing import S1_POINT
    from grids.models import Officer

    crew = _crew(teams, departments, 2)
    Officer.objects.filter(pk=crew[0].pk).update(duty_status="available", last_lat=S1_POINT[0], last_lng=S1_POINT[1],
                                                 last_position_at=timezone.now() - timedelta(seconds=10))
    DispatchRule.objects.create(severity="yellow", mode="automatic")
    for _ in range(3):
        e = report()
        calls = [lambda: transitions.auto_dispatch(e.pk), lambda: transitions.dispatch(users["dispatcher"], e.pk, crew[1])]

        def work(i, calls=calls):
            try:
                return calls[i]()
            except Conflict:
                return "409"

        results, errors = in_threads(2, work)
        assert not errors, errors
        assert Assignment.objects.filter(event=e, status=AssignmentStatus.LIVE).count() == 1
        assert Assignment.objects.filter(event=e).count() == 1
        Assignment.objects.filter(event=e).update(status=AssignmentStatus.DONE)
