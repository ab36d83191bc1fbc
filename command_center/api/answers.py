"""The answer to a create, built straight from the rows intake wrote: the same JSON, key for key and value for
value, as `EventDetailSerializer` (which still describes it in the OpenAPI schema and answers every read).

DRF's serializer copies its nested fields per answer and walks each field's source: ~10% of an intake's
CPU (py-spy). Here every field is one plain expression. `test_answers.py` holds the two equal field by field
(with and without subject, team, officer, phones masked or not, both languages), so a field added to the
serializer and not here fails a test instead of silently differing.
"""
from rest_framework import serializers

from command_center import notes
from command_center.api.serializers import EventPhotoSerializer
from command_center.choices import Severity, Status
from command_center.selectors import community_of
from core import audit
from core.masking import mask_phone

_when = serializers.DateTimeField().to_representation  # DRF's own: current time zone, ISO 8601, "Z" for UTC


def _time(value):
    return None if value is None else _when(value)


def _label(choices, value):
    """`get_<field>_display()` without its per-call dict of every choice (make_hashable and a translation of
    each label: ~6% of an intake, cProfile): the label of `value`, or `value` itself when it is no choice."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _attr(obj, name):
    return None if obj is None else getattr(obj, name)


def _deadline(d) -> dict:
    return {"stage": d.stage, "met_by": d.met_by, "due_at": _time(d.due_at), "met_at": _time(d.met_at),
            "breached_at": _time(d.breached_at), "fired_at": _time(d.fired_at),
            "cancelled_at": _time(d.cancelled_at), "escalate_to": d.escalate_to}


def _line(t) -> dict:
    return {"at": _time(t.at), "actor": t.actor_label, "actor_name": audit.person_name(t.actor, t.actor_label),
            "action": t.action, "from_status": t.from_status, "to_status": t.to_status,
            "note": notes.render(t.note, t.data), "data": t.data}


def _assignment(a) -> dict:
    return {"officer": a.officer_id, "officer_name": a.officer.name, "status": a.status,
            "assigned_at": _time(a.assigned_at), "accepted_at": _time(a.accepted_at), "ended_at": _time(a.ended_at),
            "reason": a.reason}


def event_detail(event, context: dict) -> dict:
    """EventDetailSerializer(event, context=context).data, for an event holding its written rows
    (`selectors.keep_written`): no query but what the serializer would make too."""
    e, grid, street, team = event, event.grid, event.street, event.team
    photos = list(e.photos.all())
    return {
        "id": e.pk, "source": e.source, "external_id": e.external_id, "status": e.status,
        "status_label": _label(Status, e.status), "severity": e.severity,
        "severity_label": _label(Severity, e.severity), "problem_type": e.problem_type_code,
        "problem_type_name": e.problem_type_name, "matter_code": e.matter_code, "description": e.description,
        "lat": float(e.lat), "lng": float(e.lng), "address": e.address, "area_code": e.area.code,
        "area_name": e.area.name, "grid_code": _attr(grid, "code"), "grid_name": _attr(grid, "name"),
        "community_name": community_of(grid), "street_code": _attr(street, "code"),
        "street_name": _attr(street, "name"), "team": e.team_id, "team_code": _attr(team, "code"),
        "team_name": _attr(team, "name"), "department_code": _attr(e.department, "code"),
        "delegated": bool(e.delegated), "routing_reason": e.routing_reason, "subject": e.subject_id,
        "subject_name": _attr(e.subject, "name"), "officer": e.officer_id, "officer_name": _attr(e.officer, "name"),
        "reporter_name": e.reporter_name,
        "reporter_phone": e.reporter_phone if context.get("may_see_phones", False) else mask_phone(e.reporter_phone),
        "escalation_level": e.escalation_level, "merged_into": e.merged_into_id,
        "possible_duplicate_of": e.possible_duplicate_of_id, "transferred_to": e.transferred_to, "result": e.result,
        "return_reason": e.return_reason, "satisfaction": e.satisfaction, "version": e.version,
        "created_at": _time(e.created_at), "updated_at": _time(e.updated_at),
        "dispatched_at": _time(e.dispatched_at), "accepted_at": _time(e.accepted_at),
        "arrived_at": _time(e.arrived_at), "resolved_at": _time(e.resolved_at), "closed_at": _time(e.closed_at),
        "deadlines": [_deadline(d) for d in e.deadlines.all()],
        "timeline": [_line(t) for t in e.timeline.all()],
        "assignments": [_assignment(a) for a in e.assignments.all()],
        # Photos only at a multipart intake: their URLs need the request; the serializer's own answer.
        "photos": EventPhotoSerializer(photos, many=True, context=context).data if photos else [],
    }

