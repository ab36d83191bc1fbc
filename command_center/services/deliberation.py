"""Co-governance deliberation (红茶议事会) as a record: `transitions.deliberate` opens it (topic and
participants), meetings add their minutes, and the consensus concludes it: the event is closed, or
re-opened and given back to the flow it left (its officer, a fresh handling deadline).

Each step is one transaction on the locked event: the deliberation's rows, a timeline line and an audit
record, a version bump, and the push through the outbox (`base.finish`)."""
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from command_center.choices import Action, AssignmentStatus, DeliberationOutcome, Status
from command_center.models import Assignment, Deadline, Deliberation, DeliberationMeeting, Event
from command_center.services import base, review
from core import audit
from core.exceptions import ValidationFailed

MAX_PEOPLE = 50
NAME_MAX_LENGTH = 50
ROLE_MAX_LENGTH = 100
MINUTES_MAX_LENGTH = 10000
CONSENSUS_MAX_LENGTH = 5000
PLACE_MAX_LENGTH = 200


def clean_people(people, field) -> list[dict]:
    """[{"name", "role"}], names required; at most MAX_PEOPLE."""
    if people in (None, ""):
        return []
    if not isinstance(people, (list, tuple)):
        raise ValidationFailed(fields={field: [_("必须是列表。")]})
    if len(people) > MAX_PEOPLE:
        raise ValidationFailed(fields={field: [_("最多 %(n)s 人。") % {"n": MAX_PEOPLE}]})
    out = []
    for i, person in enumerate(people):
        if not isinstance(person, dict):
            raise ValidationFailed(fields={field: [_("第 %(i)s 项必须包含姓名（name）与身份（role）。") % {"i": i + 1}]})
        name = base.clean_str(person.get("name"), f"{field}[{i}].name", max_length=NAME_MAX_LENGTH)
        role = base.clean_str(person.get("role"), f"{field}[{i}].role", required=False, max_length=ROLE_MAX_LENGTH)
        out.append({"name": name, "role": role})
    return out


def open_record(actor, event: Event, now, *, topic: str, participants: list, from_status: str) -> Deliberation:
    """Inside `deliberate`'s transaction (event locked): the deliberation's record."""
    record = Deliberation.objects.create(
        event=event, topic=topic, participants=participants, from_status=from_status, started_at=now,
        started_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit.record(actor, "deliberation.opened", record, changes={"topic": [None, topic], "participants": [None, participants]})
    return record


def settle_by_resolve(actor, event: Event, now, result: str):
    """Inside `resolve`'s transaction, from deliberation (the outcome recorded as a handling result): the
    open deliberation is concluded with that result, so the event may be deliberated again later."""
    record = Deliberation.objects.select_for_update().filter(event=event, concluded_at__isnull=True).first()
    if record is None:
        return
    record.consensus, record.outcome, record.concluded_at = result[:CONSENSUS_MAX_LENGTH], DeliberationOutcome.CLOSE, now
    record.concluded_by = actor if getattr(actor, "is_authenticated", False) else None
    record.save(update_fields=["consensus", "outcome", "concluded_at", "concluded_by"])
    audit.record(actor, "deliberation.concluded", record, changes={"consensus": [None, record.consensus],
                                                                   "outcome": [None, record.outcome]})


def _open_of(event) -> Deliberation:
    record = Deliberation.objects.select_for_update().filter(event=event, concluded_at__isnull=True).first()
    if record is None:  # sent to deliberation before the record existed: opened now, from what the timeline says
        record = Deliberation.objects.create(event=event, topic=_("（未登记议题）"), participants=[],
                                             from_status=Status.ON_SITE if event.officer_id else Status.NEW,
                                             started_at=event.updated_at)
    return record


def _when(value, field) -> datetime:
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = parse_datetime(str(value or ""))
        except ValueError:
            when = None
    if when is None:
        raise ValidationFailed(fields={field: [_("请填写有效的时间（ISO 8601）。")]})
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(fields={field: [_("会议时间不能晚于现在。")]})
    return when


@transaction.atomic
def add_meeting(actor, event, *, held_at, minutes: str, place: str = "", attendees=None,
                expected_version=None) -> Event:
    """A meeting held, with its minutes and who attended (the dispatcher or the street's team leader)."""
    event = base.begin(actor, event, Action.MEETING, expected_version, base.by_command(_("登记议事会议")))
    held_at = _when(held_at, "held_at")
    minutes = base.clean_str(minutes, "minutes", max_length=MINUTES_MAX_LENGTH)
    place = base.clean_str(place, "place", required=False, max_length=PLACE_MAX_LENGTH)
    attendees = clean_people(attendees, "attendees")
    now = timezone.now()
    record = _open_of(event)
    meeting = DeliberationMeeting.objects.create(
        deliberation=record, held_at=held_at, place=place, attendees=attendees, minutes=minutes, recorded_at=now,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit.record(actor, "deliberation.meeting", record, changes={"meeting": [None, meeting.pk]})
    return base.finish(actor, event, Action.MEETING, now, event.status, note=minutes[:500],
                       data={"deliberation": record.pk, "meeting": meeting.pk, "held_at": held_at.isoformat(),
                             "place": place, "attendees": attendees})


@transaction.atomic
def conclude(actor, event, *, consensus: str, outcome: str, expected_version=None) -> Event:
    """The consensus reached. `close`: the event is closed with the consensus as its result. `reopen`:
    it goes back to where it was before deliberation (its officer, a fresh handling deadline), or to
    the dispatch queue when nobody holds it."""
    event = base.begin(actor, event, Action.CONCLUDE, expected_version, base.by_command(_("登记议事结论")))
    consensus = base.clean_str(consensus, "consensus", max_length=CONSENSUS_MAX_LENGTH)
    if outcome not in DeliberationOutcome.values:
        raise ValidationFailed(fields={"outcome": [_("必须是 %(v)s 之一。") % {"v": ", ".join(DeliberationOutcome.values)}]})
    now = timezone.now()
    record = _open_of(event)
    record.consensus, record.outcome, record.concluded_at = consensus, outcome, now
    record.concluded_by = actor if getattr(actor, "is_authenticated", False) else None
    record.save(update_fields=["consensus", "outcome", "concluded_at", "concluded_by"])
    audit.record(actor, "deliberation.concluded", record, changes={"consensus": [None, consensus], "outcome": [None, outcome]})
    from_status = event.status
    fields = []
    if outcome == DeliberationOutcome.CLOSE:
        from command_center.services.transitions import _end_live_assignment

        event.status, event.result, event.closed_at = Status.CLOSED, consensus, now
        _end_live_assignment(event, AssignmentStatus.DONE, now, actor=actor)
        Deadline.objects.filter(event=event, met_at__isnull=True, cancelled_at__isnull=True).update(cancelled_at=now)
        fields = ["result", "closed_at"]
    else:
        live = Assignment.objects.filter(event=event, status=AssignmentStatus.LIVE).exists()
        if live and event.officer_id:
            event.status = record.from_status if record.from_status in (Status.ACCEPTED, Status.ON_SITE) else Status.ACCEPTED
            review.restart_handling(event, now)
        else:
            event.status = Status.NEW
            base.create_deadlines(event, now)
    return base.finish(actor, event, Action.CONCLUDE, now, from_status, note=consensus[:500],
                       data={"deliberation": record.pk, "outcome": outcome}, fields=tuple(fields))
