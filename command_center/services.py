"""Every write to the command center: intake, one service per transition, the SLA sweep.

Each service runs in one transaction: it locks the event row, checks the transition table (illegal →
Conflict 409) and the version the client saw (stale → PreconditionFailed 412), changes the event, meets
or cancels deadlines, appends a timeline entry and an audit record, and bumps the version. Live push
hooks in through `command_center.signals`, sent on commit.
"""
import hashlib
import json
import logging
import math
import time

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center import credit_facts, selectors, signals, sla
from command_center.choices import (
    ESCALATION_LEVEL, LEVEL_TARGET, OPEN_STATUSES, SEVERITY_ORDER, Action, AssignmentStatus, EscalationTarget,
    Severity, Source, Stage, Status,
)
from command_center.models import (
    Assignment, Breach, Deadline, Escalation, Event, IdempotencyKey, SlaPolicy, TimelineEntry,
)
from core import audit, outbox
from core.context import current_ip
from core.exceptions import (
    Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable, ValidationFailed,
)
from core.models import AuditLog
from core.roles import API_CLIENT, BUREAU_STAFF, DISPATCHER, OFFICER, TEAM_LEADER, has_role
from grids import geometry
from grids import selectors as grid_selectors
from grids.choices import AreaKind, DutyStatus, SubjectStatus
from grids.models import Area, Department, Officer, Subject, Team

logger = logging.getLogger(__name__)

MAX_ID = 2**63 - 1  # beyond this an id cannot exist (and SQLite cannot even compare it)
INTAKE_ROLES = (API_CLIENT, DISPATCHER, OFFICER, TEAM_LEADER, BUREAU_STAFF)
COMMAND_ROLES = (DISPATCHER, TEAM_LEADER)

# action → (statuses it may start from, status it leads to; None = unchanged)
TRANSITIONS = {
    Action.DISPATCH: ((Status.NEW, Status.DISPATCHED, Status.ACCEPTED), Status.DISPATCHED),
    Action.ACCEPT: ((Status.DISPATCHED,), Status.ACCEPTED),
    Action.DECLINE: ((Status.DISPATCHED,), Status.NEW),
    Action.ARRIVE: ((Status.ACCEPTED,), Status.ON_SITE),
    Action.RESOLVE: ((Status.ON_SITE, Status.DELIBERATION), Status.RESOLVED),
    Action.CLOSE: ((Status.RESOLVED,), Status.CLOSED),
    Action.REJECT: ((Status.NEW, Status.DISPATCHED), Status.REJECTED),
    Action.MERGE: ((Status.NEW, Status.DISPATCHED), Status.DUPLICATE),
    Action.TRANSFER: ((Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE), Status.TRANSFERRED),
    Action.DELIBERATE: ((Status.ACCEPTED, Status.ON_SITE), Status.DELIBERATION),
    Action.ESCALATE: (OPEN_STATUSES, None),
    Action.SEVERITY: ((Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE), None),
    Action.PUBLIC_NOTE: (tuple(Status), None),
}


# Boundaries can be megabytes (a district's outline): never load them along with an event.
_NO_BOUNDARIES = ("area__boundary", "street__boundary")


def _setting(name, default):
    return getattr(settings, name, default)


def min_rank_for(severity: str) -> int:
    return _setting("COMMAND_CENTER_SEVERITY_MIN_RANK", {"blue": 1, "yellow": 1, "orange": 2, "red": 3}).get(severity, 1)


# --- small helpers ----------------------------------------------------------------------------

def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    return actor.get_username() if getattr(actor, "is_authenticated", False) else ""


def _officer_of(user) -> Officer | None:
    if user is None:
        return None
    try:
        return user.officer
    except (ObjectDoesNotExist, AttributeError):
        return None


def _require_roles(actor, roles, message):
    if actor is not None and not has_role(actor, *roles):
        raise Forbidden(message)


def _require_covers(actor, event: Event):
    """Users outside the event's areas are told it does not exist (no leaking of other streets)."""
    if actor is not None and not grid_selectors.user_covers_area(actor, event.area):
        raise NotFound("事件不存在。")


def _require_command(actor, event: Event, what: str):
    _require_covers(actor, event)
    _require_roles(actor, COMMAND_ROLES, f"只有指挥中心值班员或本街道执法队长可以{what}。")


def _require_assignee(actor, event: Event, what: str):
    _require_covers(actor, event)
    if actor is None or getattr(actor, "is_superuser", False):
        return
    officer = _officer_of(actor)
    if officer is None or officer.pk != event.officer_id:
        raise Forbidden(f"只有被派遣的执法队员本人可以{what}。")


def _command(what):
    def check(actor, event):
        _require_command(actor, event, what)
    return check


def _assignee(what):
    def check(actor, event):
        _require_assignee(actor, event, what)
    return check


def _resolver(actor, event):
    if event.status == Status.DELIBERATION:
        _require_command(actor, event, "登记议事结果")
    else:
        _require_assignee(actor, event, "反馈处置结果")


def _escalator(actor, event):
    _require_covers(actor, event)
    officer = _officer_of(actor)
    if not (actor is None or has_role(actor, *COMMAND_ROLES) or (officer is not None and officer.pk == event.officer_id)):
        raise Forbidden("只有指挥中心值班员、本街道执法队长或处置队员可以升级事件。")


def bad_text(value: str) -> str | None:
    """Why a string cannot be stored (NUL characters and lone surrogates break PostgreSQL), or None."""
    if "\x00" in value:
        return "不能包含空字符（\\x00）。"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "包含无效字符。"
    return None


def _clean_str(value, field, *, required=True, max_length=500) -> str:
    value = "" if value is None else str(value).strip()
    problem = bad_text(value)
    if problem:
        raise ValidationFailed(fields={field: [problem]})
    if required and not value:
        raise ValidationFailed(fields={field: ["此字段为必填项。"]})
    if len(value) > max_length:
        raise ValidationFailed(fields={field: [f"最多 {max_length} 个字符。"]})
    return value


def _text(data, name, *, required=False, max_length=None, errors=None):
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    problem = bad_text(value)
    if problem:
        errors[name] = [problem]
    elif required and not value:
        errors[name] = ["此字段为必填项。"]
    elif max_length and len(value) > max_length:
        errors[name] = [f"最多 {max_length} 个字符。"]
    return value


def _lock(event) -> Event:
    """Lock the event row, then read it with its relations. Two statements on purpose: on PostgreSQL a
    SELECT … FOR UPDATE that waited for another transaction re-reads the locked row but not the joined
    ones, so a select_related officer could come back None beside a fresh officer_id. The read after the
    lock sees everything the other transaction committed."""
    pk = event.pk if isinstance(event, Event) else event
    try:
        if not Event.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True):
            raise Event.DoesNotExist
        return Event.objects.select_related("area", "street", "team", "officer").defer(*_NO_BOUNDARIES).get(pk=pk)
    except (Event.DoesNotExist, ValueError, TypeError):
        raise NotFound("事件不存在。")


def _begin(actor, event, action: str, expected_version, check) -> Event:
    """Lock the row, then check in this order: may the actor see and do it (404/403), is the version the
    client saw current (412), does the transition table allow it from here (409)."""
    event = _lock(event)
    check(actor, event)
    if expected_version is not None and int(expected_version) != event.version:
        raise PreconditionFailed(
            f"事件已被他人修改（您看到的是第 {expected_version} 版，当前为第 {event.version} 版），请刷新后重试。",
            code="stale_version",
        )
    allowed, _to = TRANSITIONS[action]
    if event.status not in allowed:
        raise Conflict(
            f"事件当前状态为“{Status(event.status).label}”，不能执行“{Action(action).label}”。", code="illegal_transition",
        )
    return event


def _timeline_entry(event, actor, action, now, *, from_status="", to_status="", note="", data=None):
    """An unsaved timeline line (the sweep inserts a batch of them at once)."""
    return TimelineEntry(
        event=event, at=now, actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=_actor_label(actor), action=action, from_status=from_status, to_status=to_status,
        note=note or "", data=data or {},
    )


def _timeline(event, actor, action, now, **fields):
    entry = _timeline_entry(event, actor, action, now, **fields)
    entry.save()
    return entry


def _finish(actor, event: Event, action: str, now, from_status: str, *, note="", data=None, changes=None,
            fields=()) -> Event:
    """Save the changed fields plus version, add the timeline line and the audit record, push on commit."""
    to_status = event.status
    event.version += 1
    event.updated_at = now
    event.save(update_fields=sorted({"status", "version", "updated_at", *fields}))
    _timeline(event, actor, action, now, from_status=from_status, to_status=to_status, note=note, data=data)
    delta = dict(changes or {})
    if from_status != to_status:
        delta["status"] = [from_status, to_status]
    if note:
        delta.setdefault("note", [None, note])
    audit.record(actor, f"event.{action}", event, changes=delta)
    credit_facts.on_event_action(event, action, actor)  # complaints feed credit, in this transaction
    _push(signals.event_changed, event, "event.updated", action=action)
    return event


def _push(topic, event, kind, *, written=False, **extra):
    """Publish `topic` (signals.event_changed) through the outbox, in this transaction: push, webhooks and
    dispatch follow the commit, even when this process dies right after it. `written`: the event holds
    every row it has (a create): the handlers get its row as it stands now, and do not read it back."""
    if written:
        from command_center import push

        extra.update(row=push.event_row(event), street_id=event.street_id, path=event.area.path)
    outbox.publish(topic, {"kind": kind, "event_id": event.pk, "version": event.version, **extra})


def _meet(event: Event, action: str, now):
    """Stages met by `action`: met now; those already past due are marked breached too (late)."""
    open_ = Deadline.objects.filter(event=event, met_by=action, met_at__isnull=True, cancelled_at__isnull=True)
    open_.filter(due_at__lt=now, breached_at__isnull=True).update(breached_at=F("due_at"))
    return open_.update(met_at=now)


def _cancel_open(event: Event, now, *, keep_met_by=()):
    qs = Deadline.objects.filter(event=event, met_at__isnull=True, cancelled_at__isnull=True)
    if keep_met_by:
        qs = qs.exclude(met_by__in=keep_met_by)
    return qs.update(cancelled_at=now)


def _end_live_assignment(event: Event, status: str, now, reason="", actor=None):
    """End the event's live assignment (declined, released, done); its officer is free again, or busy
    with another task they signed for."""
    live = list(Assignment.objects.filter(event=event, status=AssignmentStatus.LIVE).values_list("officer_id", flat=True))
    ended = {"reason": reason[:500]} if reason else {}  # a finished task keeps the reason it was given with
    Assignment.objects.filter(event=event, status=AssignmentStatus.LIVE).update(status=status, ended_at=now, **ended)
    for officer_id in live:
        _officer_task_ended(officer_id, actor, now, event=event, cause=status)


# Duty statuses an officer is in because of a task (the others, off duty / on a break / available, are
# the officer's own choice and a task ending does not change them).
TASK_STATUSES = (DutyStatus.EN_ROUTE, DutyStatus.ON_SCENE, DutyStatus.BUSY)


def _set_officer_status(officer_id, to: str, actor, now, *, event: Event, cause: str):
    """Move an officer's duty status (row locked after the event's, the order every service keeps),
    audited, and pushed on commit as officer.moved with the officer's row."""
    from grids import signals as grid_signals

    if officer_id is None:
        return
    officer = Officer.objects.select_for_update().only("id", "duty_status").get(pk=officer_id)
    if officer.duty_status == to:
        return
    before = officer.duty_status
    officer.duty_status = to
    officer.save(update_fields=["duty_status", "updated_at"])
    audit.record(actor, "officer.duty_status", officer, changes={
        "duty_status": [before, to], "event": [None, event.pk], "cause": [None, cause]})
    transaction.on_commit(lambda: grid_signals.officer_moved.send(sender=Officer, officer_id=officer_id, duty_status=to))


def _officer_task_ended(officer_id, actor, now, *, event: Event, cause: str):
    """Back to available, or busy while still holding another task they signed for."""
    current = Officer.objects.select_for_update().filter(pk=officer_id).values_list("duty_status", flat=True).first()
    other = Assignment.objects.filter(officer_id=officer_id, status=AssignmentStatus.LIVE,
                                      accepted_at__isnull=False).exclude(event=event).exists()
    if other:
        _set_officer_status(officer_id, DutyStatus.BUSY, actor, now, event=event, cause=cause)
    elif current in TASK_STATUSES:
        _set_officer_status(officer_id, DutyStatus.AVAILABLE, actor, now, event=event, cause=cause)


def _create_deadlines(event: Event, anchor, *, done_at: dict | None = None) -> list[Deadline]:
    """Deadline rows from the policy of (street, severity), each due at anchor + its minutes.

    `done_at`: {action: time} for actions already taken (a re-graded event keeps what it has done)."""
    from datetime import timedelta

    policy_name, stages = selectors.policy_for(event.street, event.severity)
    done_at = done_at or {}
    rows = []
    for pos, st in enumerate(stages):
        due = anchor + timedelta(minutes=st["minutes"])
        met = done_at.get(st["met_by"])
        rows.append(Deadline(
            event=event, stage=st["stage"], position=pos, met_by=st["met_by"],
            escalate_to=st.get("escalate_to") or EscalationTarget.TEAM_LEADER, policy_name=policy_name[:100],
            due_at=due, met_at=met, breached_at=due if met and met > due else None,
        ))
    return Deadline.objects.bulk_create(rows)


# --- intake -----------------------------------------------------------------------------------

def _clean_intake(data: dict) -> dict:
    """Normalise the poster's fields (plain values, so they hash the same on a retry)."""
    errors = {}
    out = {}
    out["source"] = _text(data, "source", required=True, errors=errors)
    if out["source"] and out["source"] not in Source.values:
        errors["source"] = [f"必须是 {', '.join(Source.values)} 之一。"]
    out["problem_type"] = _text(data, "problem_type", required=True, max_length=64, errors=errors)
    out["description"] = _text(data, "description", required=True, max_length=5000, errors=errors)
    try:
        out["lat"], out["lng"] = geometry.parse_lat_lng(data.get("lat"), data.get("lng"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    out["external_id"] = _text(data, "external_id", max_length=100, errors=errors) or None
    out["severity"] = _text(data, "severity", errors=errors) or None
    if out["severity"] and out["severity"] not in Severity.values:
        errors["severity"] = [f"必须是 {', '.join(Severity.values)} 之一。"]
    subject = data.get("subject")
    if subject in (None, ""):
        out["subject"] = None
    elif isinstance(subject, bool):  # int(True) is 1: a boolean is no id
        errors["subject"] = ["必须是管理对象ID（整数）。"]
    else:
        try:
            out["subject"] = int(subject)
            if not 0 < out["subject"] <= MAX_ID:
                errors["subject"] = ["管理对象不存在。"]
        except (TypeError, ValueError):
            errors["subject"] = ["必须是管理对象ID（整数）。"]
    out["reporter_name"] = _text(data, "reporter_name", max_length=100, errors=errors)
    out["reporter_phone"] = _text(data, "reporter_phone", max_length=32, errors=errors)
    out["address"] = _text(data, "address", max_length=255, errors=errors)
    # lat/lng are known even when they did not parse (then `out` lacks them and `errors` says why).
    unknown = set(data) - set(out) - {"lat", "lng"}
    for name in sorted(unknown):
        errors[name] = ["未知字段。"]
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _request_hash(clean: dict) -> str:
    return hashlib.sha256(json.dumps(clean, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def nearest_subject(lat: float, lng: float, radius_m: float) -> Subject | None:
    """The active subject nearest to the point within radius_m (a small lat/lng box, then haversine)."""
    dlat = radius_m / 111_320.0
    dlng = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6))
    candidates = Subject.objects.filter(
        status=SubjectStatus.ACTIVE, lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng,
    ).only("id", "lat", "lng", "name", "grid_id")
    best, best_d = None, None
    for s in candidates:
        d = geometry.haversine_m(lat, lng, s.lat, s.lng)
        if d <= radius_m and (best_d is None or d < best_d):
            best, best_d = s, d
    return best


def possible_duplicate(problem_type_code: str, lat: float, lng: float, now) -> Event | None:
    """An open event of the same problem type nearby and recent (both limits are settings)."""
    from datetime import timedelta

    radius = _setting("COMMAND_CENTER_DUPLICATE_RADIUS_M", 50)
    minutes = _setting("COMMAND_CENTER_DUPLICATE_MINUTES", 30)
    dlat = radius / 111_320.0
    dlng = radius / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6))
    candidates = Event.objects.filter(
        problem_type_code=problem_type_code, status__in=OPEN_STATUSES, created_at__gte=now - timedelta(minutes=minutes),
        lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng,
    ).only("id", "lat", "lng")
    best, best_d = None, None
    for e in candidates:
        d = geometry.haversine_m(lat, lng, e.lat, e.lng)
        if d <= radius and (best_d is None or d < best_d):
            best, best_d = e, d
    return best


def _route(problem_type_code, lat, lng, now):
    from enforcement import selectors as enforcement_selectors

    try:
        return enforcement_selectors.route(problem_type_code, lat, lng, on=now)
    except ValidationFailed as exc:
        raise ValidationFailed(fields=exc.fields or {"problem_type": [exc.message]})
    except NotFound as exc:
        raise ValidationFailed(fields={"lat": [exc.message], "lng": [exc.message]})


def intake_event(client, data: dict, idempotency_key: str | None = None) -> tuple[Event, bool]:
    """Create and route one event; a retry (same Idempotency-Key, or same source + external_id from the
    same client) returns the first event instead. Returns (event, created).

    The same key with a different body is refused (Unprocessable). Two retries racing each other meet
    the unique constraints: the loser's transaction rolls back and it returns the winner's event."""
    _require_roles(client, INTAKE_ROLES, "您的角色无权上报事件。")
    clean = _clean_intake(data)
    key = _clean_str(idempotency_key, "Idempotency-Key", required=False, max_length=255) or None
    request_hash = _request_hash(clean)
    try:
        return _intake(client, clean, key, request_hash)
    except IntegrityError:
        # A concurrent twin committed first; this retry finds it through the replay lookups.
        return _intake(client, clean, key, request_hash)


def _replay(client, clean, key, request_hash) -> Event | None:
    if client is None:
        return None
    if key:
        hit = IdempotencyKey.objects.filter(client=client, key=key).select_related("event").first()
        if hit is not None:
            if hit.request_hash != request_hash:
                raise Unprocessable("该 Idempotency-Key 已用于另一内容不同的请求。", code="idempotency_key_reused")
            return hit.event
    if clean["external_id"]:
        first = Event.objects.filter(client=client, source=clean["source"], external_id=clean["external_id"]).first()
        if first is not None:
            if key:
                IdempotencyKey.objects.create(client=client, key=key, request_hash=request_hash, event=first)
            return first
    return None


@transaction.atomic
def _intake(client, clean, key, request_hash) -> tuple[Event, bool]:
    first = _replay(client, clean, key, request_hash)
    if first is not None:
        return first, False
    now = timezone.now()
    lat, lng = clean["lat"], clean["lng"]
    try:
        chain = grid_selectors.locate(lat, lng)
    except NotFound as exc:
        raise ValidationFailed(fields={"lat": [exc.message], "lng": [exc.message]})
    route = _route(clean["problem_type"], lat, lng, now)
    refs = {ref.kind: ref for ref in chain}
    areas = Area.objects.defer("boundary").in_bulk({ref.id for ref in chain})
    area = areas[chain[0].id]
    grid = areas[refs[AreaKind.GRID].id] if AreaKind.GRID in refs else None
    street = areas[refs[AreaKind.STREET].id] if AreaKind.STREET in refs else None
    if client is not None and not grid_selectors.user_covers_area(client, area):
        raise Forbidden("该位置不在您的辖区内。")
    subject = None
    if clean["subject"] is not None:
        subject = _reported_subject(client, clean["subject"], lat, lng)
    elif route.about_subject:
        subject = nearest_subject(lat, lng, _setting("COMMAND_CENTER_SUBJECT_RADIUS_M", 30))
    severity = clean["severity"] or route.severity or Severity.BLUE
    event = Event.objects.create(
        source=clean["source"], external_id=clean["external_id"], client=client,
        reporter_name=clean["reporter_name"], reporter_phone=clean["reporter_phone"],
        problem_type_code=clean["problem_type"], problem_type_name=route.problem_type_name[:100],
        matter_code=route.matter_code or "", description=clean["description"], lat=lat, lng=lng,
        address=clean["address"], area=area, grid=grid, street=street,
        # The team / department as routing's snapshot has them (id, code, name): the answer shows them
        # without reading them back.
        team=_routed(Team, route.team), department=_routed(Department, route.department),
        delegated=bool(route.delegated), routing_reason=(route.reason or "")[:500], subject=subject,
        severity=severity, status=Status.NEW, possible_duplicate_of=possible_duplicate(clean["problem_type"], lat, lng, now),
        created_at=now,
    )
    if key and client is not None:
        IdempotencyKey.objects.create(client=client, key=key, request_hash=request_hash, event=event)
    deadlines = _create_deadlines(event, now)
    entry = _timeline(event, client, Action.CREATE, now, to_status=Status.NEW, data={
        "source": event.source, "severity": severity, "street": street.code if street else None,
        "grid": grid.code if grid else None, "team": route.team.code if route.team else None,
        "department": route.department.code if route.department else None, "matter": event.matter_code,
        "reason": event.routing_reason, "subject": subject.pk if subject else None,
        "possible_duplicate_of": event.possible_duplicate_of_id,
        "deadlines": [[d.stage, d.due_at.isoformat()] for d in deadlines],
    })
    audit.record(client, "event.created", event, changes={
        k: [None, v] for k, v in audit.snapshot(event, (
            "source", "external_id", "problem_type_code", "matter_code", "lat", "lng", "area", "street", "team",
            "department", "subject", "severity", "status",
        )).items()
    })
    credit_facts.on_event_action(event, Action.CREATE, client)  # complaints feed credit, in this transaction
    # The answer and the push are made from the rows just written, not read back.
    selectors.keep_written(event, deadlines=deadlines, timeline=[entry], assignments=[], photos=[])
    _push(signals.event_changed, event, "event.created", action=Action.CREATE, written=True)
    return event, True


def _reported_subject(client, subject_id: int, lat: float, lng: float) -> Subject:
    """The subject a report names: one the reporter may see (another street's answers as if it did not
    exist: a report must not move the credit of a subject its reporter cannot even read), and near the
    reported spot (a subject kilometres away is a wrong id, and would collect someone else's complaint)."""
    qs = Subject.objects.all() if client is None else grid_selectors.subjects_for(client)
    subject = (qs.select_related(None).prefetch_related(None).filter(pk=subject_id)
               .only("id", "name", "lat", "lng", "grid_id").first())
    if subject is None:
        raise ValidationFailed(fields={"subject": [_("管理对象不存在。")]})
    limit = _setting("COMMAND_CENTER_SUBJECT_MAX_DISTANCE_M", 500)
    distance = geometry.haversine_m(lat, lng, subject.lat, subject.lng)
    if distance > limit:
        raise ValidationFailed(fields={"subject": [
            _("管理对象距上报位置 %(distance)d 米，超过 %(limit)d 米：请核对管理对象或位置。")
            % {"distance": round(distance), "limit": limit}]})
    return subject


def _routed(model, ref):
    """A Team / Department as routing's snapshot knows it (id, code, name), for the event to hold: loaded
    as `.only("id", "code", "name")` would load it, so any other field is read from the database on use."""
    if ref is None:
        return None
    return model.from_db(router.db_for_read(model), ["id", "code", "name"], [ref.id, ref.code, ref.name])


# --- transitions ------------------------------------------------------------------------------

def _officer_arg(actor, officer) -> Officer:
    """An Officer (or its id) the actor may see, or a field error."""
    if officer is None or officer == "":
        raise ValidationFailed(fields={"officer": ["此字段为必填项。"]})
    officer_id = officer.pk if isinstance(officer, Officer) else officer
    qs = Officer.objects.all() if actor is None else grid_selectors.officers_for(actor)
    try:
        officer_id = int(officer_id)
    except (TypeError, ValueError):
        officer_id = None
    found = qs.filter(pk=officer_id).first() if officer_id and 0 < officer_id <= MAX_ID else None
    if found is None:
        raise ValidationFailed(fields={"officer": ["执法队员不存在或不在您的辖区。"]})
    return found


def _dispatcher(actor, event):
    from command_center import dispatch as dispatching

    _require_command(actor, event, "派遣")
    dispatching.check_may_dispatch(actor, event)  # central mode: the district center only (403)


@transaction.atomic
def dispatch(actor, event, officer, *, expected_version=None, reason="", reassign=False, data=None) -> Event:
    """Give the event to an officer. An event someone already holds changes hands only when the caller
    says so (`reassign`): two dispatchers picking for a new event at once must not silently replace
    each other's pick (the second gets 409). Reassigning releases the previous officer's assignment.
    The event row is locked first, and a partial unique index allows one live assignment per event."""
    event = _begin(actor, event, Action.DISPATCH, expected_version, _dispatcher)
    officer = _officer_arg(actor, officer)
    reason = _clean_str(reason, "reason", required=False)
    if officer.pk == event.officer_id:
        raise Conflict("该事件已派给此队员。", code="already_assigned")
    if event.officer_id and not reassign:
        raise Conflict(f"该事件已派给{event.officer.name}；如需改派，请选择“改派”（reassign）。", code="already_dispatched")
    if Assignment.objects.filter(event=event, officer=officer).exists():
        raise Conflict("该队员已处理过此事件（同一事件不重复派给同一人）。", code="officer_had_event")
    now = timezone.now()
    before = {"officer": event.officer_id, "status": event.status}
    if event.officer_id:
        _end_live_assignment(event, AssignmentStatus.RELEASED, now, reason or "改派", actor=actor)
    try:
        with transaction.atomic():
            Assignment.objects.create(event=event, officer=officer, assigned_at=now, reason=reason[:500],
                                      assigned_by=actor if getattr(actor, "is_authenticated", False) else None)
    except IntegrityError:  # the index's answer when a writer got past the row lock (it cannot, but the DB decides)
        raise Conflict("该事件已有进行中的派遣。", code="already_dispatched")
    from_status = event.status
    event.status = Status.DISPATCHED
    event.officer = officer
    event.dispatched_at = now
    _meet(event, Action.DISPATCH, now)
    # The officer's duty status stays as it is until they sign for it (accept → en route).
    return _finish(actor, event, Action.DISPATCH, now, from_status, note=reason,
                   data={"officer": officer.pk, "officer_name": officer.name, "previous_officer": before["officer"],
                         **(data or {})},
                   changes={"officer": [before["officer"], officer.pk]}, fields=("officer", "dispatched_at"))


def no_candidate_left(event: Event, now, note: str, *, central=False, data=None) -> Event:
    """Automatic dispatch found nobody: the event stays in (or goes back to) the dispatchers' queue, and
    is escalated to whoever picks there (the team leader, or the district center in central mode)."""
    before = event.escalation_level
    esc = _escalate(event, EscalationTarget.DISTRICT if central else EscalationTarget.TEAM_LEADER, now, reason=note)
    return _finish(None, event, Action.ESCALATE, now, event.status, note=note,
                   data={**(data or {}), "queue": True, "escalation": _escalation_data(esc)},
                   changes={"escalation_level": [before, event.escalation_level]}, fields=("escalation_level",))


@transaction.atomic
def accept(actor, event, *, expected_version=None) -> Event:
    """The assigned officer signs for it (meets "sign for" / "respond" stages)."""
    event = _begin(actor, event, Action.ACCEPT, expected_version, _assignee("签收"))
    now = timezone.now()
    Assignment.objects.filter(event=event, status=AssignmentStatus.LIVE).update(accepted_at=now)
    from_status, event.status = event.status, Status.ACCEPTED
    event.accepted_at = event.accepted_at or now
    _meet(event, Action.ACCEPT, now)
    _set_officer_status(event.officer_id, DutyStatus.EN_ROUTE, actor, now, event=event, cause=Action.ACCEPT)  # signing for it = setting out
    return _finish(actor, event, Action.ACCEPT, now, from_status, data={"officer": event.officer_id}, fields=("accepted_at",))


@transaction.atomic
def decline(actor, event, reason: str, *, expected_version=None) -> Event:
    """The assigned officer hands it back with a reason; the event waits for the next officer (the
    SLA clock keeps running: the citizen is still waiting)."""
    event = _begin(actor, event, Action.DECLINE, expected_version, _assignee("退回"))
    reason = _required_reason(reason)
    now = timezone.now()
    officer_id = event.officer_id
    _end_live_assignment(event, AssignmentStatus.DECLINED, now, reason, actor=actor)
    from_status, event.status = event.status, Status.NEW
    event.officer = None
    event = _finish(actor, event, Action.DECLINE, now, from_status, note=reason, data={"officer": officer_id},
                    changes={"officer": [officer_id, None]}, fields=("officer",))
    from command_center import dispatch as dispatching

    return dispatching.after_decline(event, now, declined_by=officer_id)  # the next candidate, when the rule says so


@transaction.atomic
def arrive(actor, event, *, expected_version=None) -> Event:
    event = _begin(actor, event, Action.ARRIVE, expected_version, _assignee("到场"))
    now = timezone.now()
    from_status, event.status = event.status, Status.ON_SITE
    event.arrived_at = now
    _meet(event, Action.ARRIVE, now)
    _set_officer_status(event.officer_id, DutyStatus.ON_SCENE, actor, now, event=event, cause=Action.ARRIVE)
    return _finish(actor, event, Action.ARRIVE, now, from_status, data={"officer": event.officer_id}, fields=("arrived_at",))


@transaction.atomic
def resolve(actor, event, result: str, *, expected_version=None) -> Event:
    """The officer reports the handling (meets "handle" / "report"); from deliberation, the dispatcher
    or team leader records the deliberation's outcome."""
    event = _begin(actor, event, Action.RESOLVE, expected_version, _resolver)
    result = _clean_str(result, "result", max_length=5000)
    now = timezone.now()
    from_status, event.status = event.status, Status.RESOLVED
    event.result = result
    event.resolved_at = now
    _end_live_assignment(event, AssignmentStatus.DONE, now, actor=actor)
    _meet(event, Action.RESOLVE, now)
    _cancel_open(event, now, keep_met_by=(Action.CLOSE,))
    return _finish(actor, event, Action.RESOLVE, now, from_status, note=result, fields=("result", "resolved_at"))


@transaction.atomic
def close(actor, event, satisfaction=None, *, expected_version=None, note="") -> Event:
    """Evaluation and closure; satisfaction 1–5 when the reporter gave one (machine-detected events
    have nobody to ask)."""
    event = _begin(actor, event, Action.CLOSE, expected_version, _command("办结"))
    if satisfaction is not None:
        if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
            raise ValidationFailed(fields={"satisfaction": ["满意度必须是 1 到 5 的整数。"]})
    note = _clean_str(note, "note", required=False)
    now = timezone.now()
    from_status, event.status = event.status, Status.CLOSED
    event.satisfaction = satisfaction
    event.closed_at = now
    _meet(event, Action.CLOSE, now)
    _cancel_open(event, now)
    return _finish(actor, event, Action.CLOSE, now, from_status, note=note, data={"satisfaction": satisfaction},
                   changes={"satisfaction": [None, satisfaction]}, fields=("satisfaction", "closed_at"))


def _required_reason(reason, field="reason"):
    reason = "" if reason is None else str(reason).strip()
    if not reason:
        raise ValidationFailed(fields={field: ["请说明原因。"]})
    return _clean_str(reason, field)


def _leave_flow(event, now, reason, actor):
    """Rejected, merged or transferred: the officer is released (their status change audited as the
    actor's) and the clock stops."""
    if event.officer_id:
        _end_live_assignment(event, AssignmentStatus.RELEASED, now, reason, actor=actor)
    event.officer = None
    _cancel_open(event, now)


@transaction.atomic
def reject(actor, event, reason: str, *, expected_version=None) -> Event:
    """Not our business (不予受理), with the reason."""
    event = _begin(actor, event, Action.REJECT, expected_version, _command("不予受理"))
    reason = _required_reason(reason)
    now = timezone.now()
    officer_id = event.officer_id
    from_status, event.status = event.status, Status.REJECTED
    _leave_flow(event, now, reason, actor)
    return _finish(actor, event, Action.REJECT, now, from_status, note=reason,
                   changes={"officer": [officer_id, None]} if officer_id else None, fields=("officer",))


@transaction.atomic
def merge(actor, event, into, *, expected_version=None, reason="") -> Event:
    """A duplicate: merged into another open event of the same areas; its timeline says so too."""
    event = _begin(actor, event, Action.MERGE, expected_version, _command("合并事件"))
    reason = _clean_str(reason, "reason", required=False)
    into_id = into.pk if isinstance(into, Event) else into
    if into_id is None:
        raise ValidationFailed(fields={"into": ["此字段为必填项。"]})
    try:
        into_id = int(into_id)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"into": ["必须是事件ID。"]})
    if not 0 < into_id <= MAX_ID:
        raise ValidationFailed(fields={"into": ["目标事件不存在。"]})
    if into_id == event.pk:
        raise ValidationFailed(fields={"into": ["不能合并到自身。"]})
    target = Event.objects.select_related("area").defer("area__boundary").filter(pk=into_id).first()
    if target is None or (actor is not None and not grid_selectors.user_covers_area(actor, target.area)):
        raise ValidationFailed(fields={"into": ["目标事件不存在。"]})
    if target.status not in OPEN_STATUSES and target.status != Status.RESOLVED:
        raise Conflict(f"目标事件状态为“{Status(target.status).label}”，不能再合并。", code="merge_target_closed")
    now = timezone.now()
    from_status, event.status = event.status, Status.DUPLICATE
    event.merged_into = target
    officer_id = event.officer_id
    _leave_flow(event, now, reason or f"合并至 #{target.pk}", actor)
    _timeline(target, actor, Action.MERGE, now, note=reason, data={"merged": event.pk})
    return _finish(actor, event, Action.MERGE, now, from_status, note=reason, data={"into": target.pk},
                   changes={"merged_into": [None, target.pk], **({"officer": [officer_id, None]} if officer_id else {})},
                   fields=("merged_into", "officer"))


@transaction.atomic
def transfer(actor, event, to: str, reason: str, *, expected_version=None) -> Event:
    """Handed to a department (by its code: it becomes the responsible one) or another platform (a name)."""
    event = _begin(actor, event, Action.TRANSFER, expected_version, _command("转办"))
    to = _clean_str(to, "to", max_length=100)
    reason = _required_reason(reason)
    now = timezone.now()
    department = Department.objects.filter(code=to).first()
    changes = {"transferred_to": [event.transferred_to, to]}
    if department is not None:
        changes["department"] = [event.department_id, department.pk]
        event.department = department
    from_status, event.status = event.status, Status.TRANSFERRED
    event.transferred_to = department.name if department else to
    officer_id = event.officer_id
    _leave_flow(event, now, reason, actor)
    if officer_id:
        changes["officer"] = [officer_id, None]
    return _finish(actor, event, Action.TRANSFER, now, from_status, note=reason,
                   data={"to": to, "department": department.code if department else None},
                   changes=changes, fields=("transferred_to", "department", "officer"))


@transaction.atomic
def deliberate(actor, event, topic: str, *, expected_version=None) -> Event:
    """What enforcement cannot settle goes to co-governance deliberation (红茶议事会). Its meetings take
    days, so the event's timed stages stop; `resolve` records the outcome."""
    event = _begin(actor, event, Action.DELIBERATE, expected_version, _command("提交议事"))
    topic = _required_reason(topic, "topic")
    now = timezone.now()
    from_status, event.status = event.status, Status.DELIBERATION
    _cancel_open(event, now)
    return _finish(actor, event, Action.DELIBERATE, now, from_status, note=topic)


@transaction.atomic
def set_public_note(actor, event, note: str, *, expected_version=None) -> Event:
    """A note the public may read (Open311 status_notes, which other platforms republish), written on
    purpose by the dispatcher or the street's team leader. It stands until the event's next step, whose
    fixed public phrase replaces it; other timeline notes are never published."""
    event = _begin(actor, event, Action.PUBLIC_NOTE, expected_version, _command("发布公开说明"))
    note = _clean_str(note, "note")
    return _finish(actor, event, Action.PUBLIC_NOTE, timezone.now(), event.status, note=note)


def _escalation_target(event: Event, target: str, cache: dict | None = None):
    """(target, level, officer, team, area): the next rank falls back to the team leader when the team
    has nobody higher, the team leader to the district when the event has no team or street. `cache`
    (a dict the caller keeps) spares a sweep the same lookups for every breach of a batch."""
    cache = {} if cache is None else cache
    officer = team = area = None
    if target == EscalationTarget.NEXT_RANK:
        # Above the one holding it, or (unassigned) above the rank that normally handles this severity.
        base = event.officer.rank if event.officer_id else min_rank_for(event.severity)
        if event.team_id:
            key = ("next_rank", event.team_id, base, event.officer_id)
            if key not in cache:
                cache[key] = (Officer.objects.select_related("team").filter(team_id=event.team_id, rank__gt=base)
                              .exclude(pk=event.officer_id or 0).order_by("rank", "id").first())
            officer = cache[key]
        if officer is None:
            target = EscalationTarget.TEAM_LEADER
        else:
            team = officer.team
    if target == EscalationTarget.TEAM_LEADER:
        if event.team_id or event.street_id:
            team, area = event.team, event.street
        else:
            target = EscalationTarget.DISTRICT
    if target == EscalationTarget.DISTRICT:
        root_id = event.area.ancestor_ids[0] if event.area.ancestor_ids else event.area_id
        if ("root", root_id) not in cache:
            cache[("root", root_id)] = Area.objects.defer("boundary").filter(pk=root_id).first()
        area = cache[("root", root_id)]
    return target, ESCALATION_LEVEL[target], officer, team, area


def _escalate(event: Event, target: str, now, *, actor=None, reason="", breach=None) -> Escalation:
    target, level, officer, team, area = _escalation_target(event, target)
    esc = Escalation.objects.create(
        event=event, breach=breach, at=now, actor=actor if getattr(actor, "is_authenticated", False) else None,
        target=target, level=level, target_officer=officer, target_team=team, target_area=area, reason=reason[:500],
    )
    event.escalation_level = max(event.escalation_level, level)
    return esc


def _escalation_data(esc: Escalation) -> dict:
    return _target_data(esc.target, esc.level, esc.target_officer, esc.target_team, esc.target_area)


def _target_data(target, level, officer, team, area) -> dict:
    return {
        "target": target, "level": level, "officer": officer.pk if officer else None,
        "team": team.code if team else None, "area": area.code if area else None,
    }


@transaction.atomic
def escalate(actor, event, reason: str, *, expected_version=None) -> Event:
    """Raise the event one step: next rank → team leader → district (the assigned officer may ask too)."""
    event = _begin(actor, event, Action.ESCALATE, expected_version, _escalator)
    reason = _required_reason(reason)
    now = timezone.now()
    before = event.escalation_level
    esc = _escalate(event, LEVEL_TARGET[min(before + 1, 3)], now, actor=actor, reason=reason)
    return _finish(actor, event, Action.ESCALATE, now, event.status, note=reason, data=_escalation_data(esc),
                   changes={"escalation_level": [before, event.escalation_level]}, fields=("escalation_level",))


@transaction.atomic
def set_severity(actor, event, severity: str, reason: str, *, expected_version=None) -> Event:
    """Raise or lower the colour, with a reason. The clock follows the new colour's policy: unmet stages
    of the old policy are cancelled, the new policy's stages are due from now (the team learns the new
    urgency now), and a stage whose action was already taken is created as met at that time."""
    event = _begin(actor, event, Action.SEVERITY, expected_version, _command("调整事件等级"))
    if severity not in Severity.values:
        raise ValidationFailed(fields={"severity": [f"必须是 {', '.join(Severity.values)} 之一。"]})
    reason = _required_reason(reason)
    if severity == event.severity:
        raise Conflict("等级未变化。", code="severity_unchanged")
    now = timezone.now()
    before = event.severity
    event.severity = severity
    # Unmet ones stop; met and fired ones stay as history but leave the live set (the new policy may
    # reuse their stage names).
    Deadline.objects.filter(event=event, cancelled_at__isnull=True).update(cancelled_at=now)
    done = {Action.DISPATCH: event.dispatched_at, Action.ACCEPT: event.accepted_at, Action.ARRIVE: event.arrived_at}
    created = _create_deadlines(event, now, done_at={k.value: v for k, v in done.items() if v})
    direction = "raised" if SEVERITY_ORDER[severity] > SEVERITY_ORDER[before] else "lowered"
    return _finish(actor, event, Action.SEVERITY, now, event.status, note=reason,
                   data={"from": before, "to": severity, "direction": direction,
                         "deadlines": [[d.stage, d.due_at.isoformat()] for d in created]},
                   changes={"severity": [before, severity]}, fields=("severity",))


# --- SLA policies -----------------------------------------------------------------------------

def check_policy(actor, *, severity: str, stages, street: Area | None = None) -> list[dict]:
    """May the actor set this policy, and is it valid? Returns the normalised stages."""
    _require_roles(actor, (BUREAU_STAFF,), "只有区综合执法局工作人员可以设置时限策略。")
    errors = {}
    if severity not in Severity.values:
        errors["severity"] = [f"必须是 {', '.join(Severity.values)} 之一。"]
    if street is not None and street.kind != AreaKind.STREET:
        errors["street"] = ["只能为镇街设置时限策略。"]
    if street is not None and actor is not None and not grid_selectors.user_covers_area(actor, street):
        errors["street"] = ["该镇街不在您的辖区内。"]
    if street is None and actor is not None and grid_selectors.user_area_paths(actor) is not None:
        errors["street"] = ["只有全区账号可以设置全区默认策略。"]
    try:
        stages = sla.validate_stages(stages)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return stages


@transaction.atomic
def save_policy(actor, *, severity: str, stages, name: str = "", street: Area | None = None) -> SlaPolicy:
    """Create or replace the policy of (street, severity); street None = the district default.
    Events already open keep their deadlines."""
    stages = check_policy(actor, severity=severity, stages=stages, street=street)
    name = _clean_str(name, "name", required=False, max_length=100) or f"{street.name if street else '全区'} {Severity(severity).label}"
    policy = SlaPolicy.objects.select_for_update().filter(street=street, severity=severity).first()
    before = {"name": policy.name, "stages": policy.stages} if policy else {"name": None, "stages": None}
    if policy is None:
        policy = SlaPolicy.objects.create(street=street, severity=severity, name=name, stages=stages)
    else:
        policy.name, policy.stages = name, stages
        policy.save(update_fields=["name", "stages", "updated_at"])
    audit.record(actor, "sla_policy.saved", policy, changes=audit.diff(before, {"name": name, "stages": stages}))
    return policy


def install_default_policies(actor=None) -> int:
    """The district defaults from the presets, for any severity that has none. Returns how many."""
    made = 0
    for severity, preset_code in sla.DEFAULT_PRESET_BY_SEVERITY.items():
        if not SlaPolicy.objects.filter(street__isnull=True, severity=severity).exists():
            preset = sla.PRESETS[preset_code]
            save_policy(None if actor is None else actor, severity=severity, stages=preset["stages"], name=preset["name"])
            made += 1
    return made


# --- the SLA sweep ----------------------------------------------------------------------------

def sweep_due_deadlines(now=None, *, batch: int | None = None, failed: set | None = None) -> int:
    """Fire every due, unmet, unfired deadline exactly once. Returns how many this call fired.

    Batches of `batch`, oldest due first, one transaction each (`_fire_batch`): a handful of statements
    per batch, not per deadline. A batch that fails rolls back whole and its deadlines are retried one
    per transaction, so a bad row is logged and skipped while the others still fire. `failed`: ids to
    skip, and where the ones that fail now are added."""
    now = now or timezone.now()
    batch = batch or _setting("COMMAND_CENTER_SWEEP_BATCH", 500)
    fired = 0
    failed = set() if failed is None else failed
    # Looked for outside a transaction first: on SQLite every (IMMEDIATE) transaction takes the write lock.
    while selectors.due_deadlines(now, 1, exclude=failed):
        try:
            got, looked_at = _fire_batch(now, batch, exclude=failed)
        except Exception:  # noqa: BLE001 — find the bad row without stopping the clock for the rest
            logger.warning("SLA sweep: a batch failed; firing its deadlines one by one", exc_info=True)
            got, looked_at = _fire_one_by_one(now, batch, failed), batch
        fired += got
        if looked_at < batch:  # nothing more this sweep may take (the rest, if any, is another sweeper's)
            break
    return fired


def _fire_one_by_one(now, batch: int, failed: set) -> int:
    fired = 0
    for deadline_id, event_id in selectors.due_deadlines(now, batch, exclude=failed):
        try:
            fired += _fire_batch(now, 1, only=deadline_id)[0]
        except Exception:  # noqa: BLE001 — one bad row must not stop the clock for the rest
            failed.add(deadline_id)
            logger.exception("SLA sweep: deadline %s of event %s failed", deadline_id, event_id)
    return fired


def keep_sweeping(seconds: float | None = None, *, poll: float | None = None) -> int:
    """One tick of the SLA clock (Celery beat's `sweep` task every second; the embedded ticker): fire what
    is due, then watch for `seconds` more (default just under the tick), firing each deadline as it falls
    due: sleep until the next one, and look again at least every `poll` seconds for new ones. A deadline
    is then late by the poll and the batch's time at most, not by up to a whole tick. Returns how many fired."""
    seconds = _setting("COMMAND_CENTER_SWEEP_WINDOW_SECONDS", 0.9) if seconds is None else seconds
    poll = poll or _setting("COMMAND_CENTER_SWEEP_POLL_SECONDS", 0.2)
    end = time.monotonic() + seconds
    fired = 0
    failed = set()  # a deadline that fails is tried again next tick, not every poll of this one
    while True:
        got = sweep_due_deadlines(failed=failed)
        fired += got
        left = end - time.monotonic()
        if left <= 0:
            return fired
        next_due = selectors.next_due_at(exclude=failed)
        wait = poll if next_due is None else (next_due - timezone.now()).total_seconds()
        if wait <= 0 and not got:
            wait = poll / 4  # due but not ours to take (its event is locked by a transition): don't spin
        time.sleep(max(0.0, min(wait, poll, left)))


@transaction.atomic
def _fire_batch(due_by, limit: int, *, exclude=(), only=None) -> tuple[int, int]:
    """Fire up to `limit` deadlines due by `due_by`, in one transaction. Returns (fired, rows looked at).

    Locks: the deadline rows and their events together, without waiting (PostgreSQL FOR UPDATE OF …
    SKIP LOCKED). A second sweeper takes the next rows instead of queueing behind these; a deadline whose
    event a transition holds is left for a later sweep, so the sweep never waits in the opposite order
    to the transitions (event, then its deadlines) and cannot deadlock with them. Then the conditional
    UPDATE … WHERE fired_at IS NULL … RETURNING decides which fire: under the locks it takes them all;
    on SQLite, where IMMEDIATE transactions serialise the sweepers instead, it is the guard. A worker
    killed midway leaves an open transaction the database rolls back: nothing fired, all still due.

    Breaches, escalations, timeline lines and audit records are bulk-inserted; `signals.sla_breached`
    goes out once per batch through the outbox (live push: one batched send; webhooks: matched by a worker)."""
    qs = (Deadline.objects.select_for_update(skip_locked=True, of=("self", "event")).select_related("event")
          .only(*_SWEEP_FIELDS)
          .filter(due_at__lte=due_by, fired_at__isnull=True, met_at__isnull=True, cancelled_at__isnull=True))
    if only is not None:
        qs = qs.filter(pk=only)
    elif exclude:
        qs = qs.exclude(pk__in=exclude)
    rows = list(qs.order_by("due_at", "id")[:limit])
    if not rows:
        return 0, 0
    # When they actually fire; a `due_by` in the future (tests, catch-up runs) stands as given.
    fired_at = max(due_by, timezone.now())
    won = _claim([d.pk for d in rows], due_by, fired_at)
    deadlines = [d for d in rows if d.pk in won]
    if not deadlines:
        return 0, len(rows)
    events = {}
    for d in deadlines:  # one object per event, so two stages of one event escalate in turn
        d.event = events.setdefault(d.event_id, d.event)
    _attach_escalation_needs(events.values())
    levels_before = {pk: e.escalation_level for pk, e in events.items()}
    cache, plans = {}, []
    for d in deadlines:  # in due order: two stages of one event escalate in turn
        event = d.event
        before = event.escalation_level
        # Each breach raises the event at least one step beyond where it stands, up to the district.
        wanted = max(ESCALATION_LEVEL[d.escalate_to], min(before + 1, 3))
        target = _escalation_target(event, LEVEL_TARGET[wanted], cache)
        event.escalation_level = max(before, target[1])
        plans.append((d, event, before, event.escalation_level, target))
    _insert_rows(Breach, ("event", "deadline", "stage", "due_at", "fired_at", "officer", "status"), [
        (event.pk, d.pk, d.stage, d.due_at, fired_at, event.officer_id, event.status) for d, event, *_ in plans])
    breach_ids = dict(Breach.objects.filter(deadline_id__in=[d.pk for d in deadlines]).values_list("deadline", "id"))
    escalations, entries, records, announced = [], [], [], []
    ip = current_ip.get()
    for d, event, before, after, (target, level, officer, team, area) in plans:
        label = _stage_label(d.stage)
        escalations.append((event.pk, breach_ids[d.pk], fired_at, target, level, officer.pk if officer else None,
                            team.pk if team else None, area.pk if area else None, f"{label}超时"))
        entries.append((event.pk, fired_at, "system", Action.BREACH.value, event.status, event.status,
                        f"{label}超时（时限 {timezone.localtime(d.due_at):%H:%M:%S}）",
                        {"deadline": d.pk, "stage": d.stage, "due_at": d.due_at.isoformat(),
                         "escalation": _target_data(target, level, officer, team, area)}))
        # The row audit.record() would write, for one bulk insert.
        records.append((fired_at, "system", "event.sla_breached", Event._meta.label_lower, str(event.pk),
                        str(event)[:255], {"deadline": [None, d.pk], "stage": [None, d.stage],
                                           "escalation_level": [before, after]}, ip))
        announced.append({"breach_id": breach_ids[d.pk], "event_id": event.pk, "stage": d.stage})
    _insert_rows(Escalation, ("event", "breach", "at", "target", "level", "target_officer", "target_team",
                              "target_area", "reason"), escalations)
    _insert_rows(TimelineEntry, ("event", "at", "actor_label", "action", "from_status", "to_status", "note", "data"),
                 entries)
    _insert_rows(AuditLog, ("at", "actor_label", "action", "object_type", "object_id", "object_repr", "changes", "ip"),
                 records)
    raised = {}
    for pk, event in events.items():
        if event.escalation_level != levels_before[pk]:
            raised.setdefault(event.escalation_level, []).append(pk)
    for level, pks in raised.items():
        Event.objects.filter(pk__in=pks).update(escalation_level=level)
    outbox.publish(signals.sla_breached, {"kind": "sla.breached", "breaches": announced})
    return len(deadlines), len(rows)


# Only what a fire reads: model instances are most of a batch's cost.
_SWEEP_FIELDS = ("id", "event_id", "stage", "due_at", "escalate_to", *(f"event__{name}" for name in (
    "id", "status", "severity", "escalation_level", "officer", "team", "street", "area", "problem_type_code",
    "problem_type_name")))


def _attach_escalation_needs(events):
    """The officers, teams and areas `_escalation_target` reads, one query each for a whole batch, set
    on the events as select_related would (few distinct ones: a batch shares its streets and teams)."""
    events = list(events)
    officers = Officer.objects.only("id", "rank", "team_id").in_bulk({e.officer_id for e in events} - {None})
    teams = Team.objects.only("id", "code").in_bulk({e.team_id for e in events} - {None})
    areas = Area.objects.only("id", "code", "path").in_bulk(
        {e.area_id for e in events} | ({e.street_id for e in events} - {None}))
    for e in events:
        e.officer, e.team = officers.get(e.officer_id), teams.get(e.team_id)
        e.area, e.street = areas[e.area_id], areas.get(e.street_id)


def _insert_rows(model, names, rows) -> None:
    """INSERT `rows` (tuples in the order of `names`) into `model`'s table, many rows per statement, without
    model instances: with four rows written per fire, building instances was most of a sweep's cost.
    Values go through each field's get_db_prep_save, as in bulk_create; fields not named get their defaults."""
    meta, conn = model._meta, transaction.get_connection()  # the connection itself: the proxy costs per value
    named = [meta.get_field(name) for name in names]
    rest = [f for f in meta.concrete_fields if not f.primary_key and f not in named]
    defaults = tuple(f.get_default() for f in rest)
    fields = named + rest
    quote = conn.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    one = f"({', '.join(['%s'] * len(fields))})"
    per_statement = max(1, min(conn.features.max_query_params or 65535, 65535) // len(fields))
    with conn.cursor() as cursor:
        for i in range(0, len(rows), per_statement):
            chunk = rows[i:i + per_statement]
            cursor.execute(head + ", ".join([one] * len(chunk)), [
                f.get_db_prep_save(v, conn) for row in chunk for f, v in zip(fields, row + defaults)])


def _claim(deadline_ids, due_by, fired_at) -> set[int]:
    """The conditional UPDATE that decides who fires: the ids this transaction marked fired (a deadline
    already fired, met or cancelled by someone else is not among them)."""
    conn = transaction.get_connection()
    table = conn.ops.quote_name(Deadline._meta.db_table)
    adapt = conn.ops.adapt_datetimefield_value
    marks = ", ".join(["%s"] * len(deadline_ids))
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET fired_at = %s, breached_at = due_at WHERE id IN ({marks}) AND fired_at IS NULL"
            " AND met_at IS NULL AND cancelled_at IS NULL AND due_at <= %s RETURNING id",
            [adapt(fired_at), *deadline_ids, adapt(due_by)],
        )
        return {row[0] for row in cursor.fetchall()}


def _stage_label(code: str) -> str:
    return str(Stage(code).label) if code in Stage.values else code
