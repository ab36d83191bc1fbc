"""Invariants held by the database itself (they must hold even when two processes race)."""
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from command_center.choices import AssignmentStatus
from command_center.models import Assignment, Breach, Deadline, Event, IdempotencyKey, TimelineEntry

pytestmark = pytest.mark.django_db


def _fails(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_at_most_one_live_assignment_and_never_the_same_officer_twice(report, officers, users, teams, departments):
    from grids import accounts
    from grids.models import Officer

    e = report()
    now = timezone.now()
    u = accounts.add_user(None, username="o3", role="officer", area_codes=["S1"])[0]
    o3 = Officer.objects.create(user=u, name="王五", badge_no="B3", team=teams["S1"], home_department=departments["ZHZF"])
    Assignment.objects.create(event=e, officer=officers["s1"], assigned_at=now)
    _fails(lambda: Assignment.objects.create(event=e, officer=o3, assigned_at=now))
    Assignment.objects.filter(event=e).update(status=AssignmentStatus.DECLINED)
    _fails(lambda: Assignment.objects.create(event=e, officer=officers["s1"], assigned_at=now))
    Assignment.objects.create(event=e, officer=o3, assigned_at=now)
    assert Assignment.objects.filter(event=e, status=AssignmentStatus.LIVE).count() == 1


def test_external_id_unique_per_client_and_source(report, users):
    e = report(external_id="X1", source="sensor")
    clone = dict(source="sensor", external_id="X1", client=e.client, problem_type_code="ZDJY", description="d",
                 lat=e.lat, lng=e.lng, area=e.area, severity="blue", created_at=timezone.now())
    _fails(lambda: Event.objects.create(**clone))
    Event.objects.create(**{**clone, "client": users["dispatcher"]})
    Event.objects.create(**{**clone, "external_id": None})
    Event.objects.create(**{**clone, "external_id": None})


def test_idempotency_key_unique_per_client(report, users):
    e = report(key="K")
    _fails(lambda: IdempotencyKey.objects.create(client=users["platform"], key="K", request_hash="x", event=e))


def test_one_live_deadline_per_stage_and_one_breach_per_deadline(report):
    e = report()
    d = e.deadlines.first()
    _fails(lambda: Deadline.objects.create(event=e, stage=d.stage, met_by="accept", escalate_to="district", due_at=d.due_at))
    now = timezone.now()
    Breach.objects.create(event=e, deadline=d, stage=d.stage, due_at=d.due_at, fired_at=now, status="new")
    _fails(lambda: Breach.objects.create(event=e, deadline=d, stage=d.stage, due_at=d.due_at, fired_at=now, status="new"))


def test_duplicate_needs_a_target_and_satisfaction_is_1_to_5(report):
    e = report()
    _fails(lambda: Event.objects.filter(pk=e.pk).update(status="duplicate"))
    _fails(lambda: Event.objects.filter(pk=e.pk).update(satisfaction=0))


def test_timeline_is_append_only(report):
    entry = TimelineEntry.objects.filter(event=report()).first()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        TimelineEntry.objects.all().update(note="x")
