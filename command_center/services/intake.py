"""Intake: a report becomes an event, in one transaction. Top to bottom:

  clean the poster's fields → look around (one read: a retry's first event, open events of the same kind
  nearby, subjects nearby) → replay a retry (same Idempotency-Key, or same source + external_id) →
  locate (grid, street) → route (matter, responsible team, default severity) → the subject it concerns →
  Event row + Deadline rows from the SLA policy of (street, severity) → traces (timeline, audit) →
  the complaint fact for credit → the push through the outbox → the report's photos, when it has some.
"""
import hashlib
import json
import math
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, router, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from command_center import credit_facts, selectors
from command_center import photos as photo_checks
from command_center.choices import OPEN_STATUSES, Action, Severity, Source, Status
from command_center.models import Event, IdempotencyKey
from command_center.services import base
from command_center.services import photos as event_photos
from core import audit, bulk, rawsql
from core.exceptions import Forbidden, NotFound, Unprocessable, ValidationFailed
from core.ids import MAX_ID
from grids import geometry
from grids import selectors as grid_selectors
from grids.choices import AreaKind, SubjectStatus
from grids.models import Department, Subject, Team

# The poster's text fields and the longest value each may have: the one place these limits live (the
# input serializers and the schema read them from here).
MAX_LENGTH = {
    "problem_type": 64, "description": 5000, "external_id": 100, "reporter_name": 100, "reporter_phone": 32,
    "address": 255,
}
IDEMPOTENCY_KEY_MAX_LENGTH = 255


def _text(data, name, *, required=False, errors=None):
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, type(None))):
        # An object, a list or true/false is no text: refused as the synchronous path's input fields refuse
        # it (the asynchronous path and Open311 reach intake without them), never stored as its repr.
        errors[name] = [_("不是有效的字符串。")]
        return ""
    value = "" if value is None else str(value).strip()
    max_length = MAX_LENGTH.get(name)
    problem = base.bad_text(value)
    if problem:
        errors[name] = [problem]
    elif required and not value:
        errors[name] = [_("此字段为必填项。")]
    elif max_length and len(value) > max_length:
        errors[name] = [_("最多 %(max_length)s 个字符。") % {"max_length": max_length}]
    return value


def _clean_intake(data: dict) -> dict:
    """Normalise the poster's fields (plain values, so they hash the same on a retry)."""
    errors = {}
    out = {}
    out["source"] = _text(data, "source", required=True, errors=errors)
    if out["source"] and out["source"] not in Source.values:
        errors["source"] = [_("必须是 %(values)s 之一。") % {"values": ", ".join(Source.values)}]
    out["problem_type"] = _text(data, "problem_type", required=True, errors=errors)
    out["description"] = _text(data, "description", required=True, errors=errors)
    try:
        out["lat"], out["lng"] = geometry.parse_lat_lng(data.get("lat"), data.get("lng"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    out["external_id"] = _text(data, "external_id", errors=errors) or None
    out["severity"] = _text(data, "severity", errors=errors) or None
    if out["severity"] and out["severity"] not in Severity.values:
        errors["severity"] = [_("必须是 %(values)s 之一。") % {"values": ", ".join(Severity.values)}]
    subject = data.get("subject")
    if subject in (None, ""):
        out["subject"] = None
    elif isinstance(subject, bool):  # int(True) is 1: a boolean is no id
        errors["subject"] = [_("必须是管理对象ID（整数）。")]
    else:
        try:
            out["subject"] = int(subject)
            if not 0 < out["subject"] <= MAX_ID:
                errors["subject"] = [_("管理对象不存在。")]
        except (TypeError, ValueError):
            errors["subject"] = [_("必须是管理对象ID（整数）。")]
    out["reporter_name"] = _text(data, "reporter_name", errors=errors)
    out["reporter_phone"] = _text(data, "reporter_phone", errors=errors)
    out["address"] = _text(data, "address", errors=errors)
    # lat/lng are known even when they did not parse (then `out` lacks them and `errors` says why).
    unknown = set(data) - set(out) - {"lat", "lng"}
    for name in sorted(unknown):
        errors[name] = [_("未知字段。")]
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _request_hash(clean: dict) -> str:
    return hashlib.sha256(json.dumps(clean, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _box(lat: float, lng: float, radius_m: float) -> list[float]:
    """The lat/lng box around the point that holds the circle of radius_m: [lat min, lat max, lng min, lng max]."""
    dlat = radius_m / 111_320.0
    dlng = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6))
    return [lat - dlat, lat + dlat, lng - dlng, lng + dlng]


def _nearest(rows, lat: float, lng: float, radius_m: float):
    """Of `rows` (lat and lng first; the database filtered them to the small box around the point), the one
    nearest to the point within radius_m by the exact haversine distance, or None (of equals, the first)."""
    best, best_d = None, None
    for row in rows:
        d = geometry.haversine_m(lat, lng, row[0], row[1])
        if d <= radius_m and (best_d is None or d < best_d):
            best, best_d = row, d
    return best


# --- what is already around a report: one read ---------------------------------------------------------------
# Four look-ups, each usually answered "none", in one statement: a round trip each was a tenth of an intake's
# CPU between this process and the database. Every branch gives (tag, lat, lng, id, created_at, text, grid id).

def _around_branches(q) -> dict:
    event, subject, keys = rawsql.table(q, Event), rawsql.table(q, Subject), rawsql.table(q, IdempotencyKey)
    return {
        # open events of the same problem type, recent and nearby: the possible duplicate
        "d": (f"SELECT 'd', {q('lat')}, {q('lng')}, {q('id')}, {q('created_at')}, NULL, NULL FROM {event}"
              f" WHERE {q('problem_type_code')} = %s AND {q('status')} IN ({', '.join(['%s'] * len(OPEN_STATUSES))})"
              f" AND {q('created_at')} >= %s AND {q('lat')} BETWEEN %s AND %s AND {q('lng')} BETWEEN %s AND %s"),
        # active subjects nearby: the one the report concerns
        "s": (f"SELECT 's', {q('lat')}, {q('lng')}, {q('id')}, NULL, {q('name')}, {rawsql.columns(q, Subject, 'grid')}"
              f" FROM {subject} WHERE {q('status')} = %s AND {q('lat')} BETWEEN %s AND %s AND {q('lng')} BETWEEN %s AND %s"),
        # the first request under this Idempotency-Key
        "k": (f"SELECT 'k', NULL, NULL, {rawsql.columns(q, IdempotencyKey, 'event')}, NULL, {q('request_hash')}, NULL"
              f" FROM {keys} WHERE {rawsql.columns(q, IdempotencyKey, 'client')} = %s AND {q('key')} = %s"),
        # the first event of the same source + external id from this client
        "x": (f"SELECT 'x', NULL, NULL, {q('id')}, NULL, NULL, NULL FROM {event}"
              f" WHERE {rawsql.columns(q, Event, 'client')} = %s AND {q('source')} = %s AND {q('external_id')} = %s"),
    }


def _around_statement(branches: str):
    # "d" first: PostgreSQL types a UNION's NULL columns from the branches before them.
    return lambda q: " UNION ALL ".join(_around_branches(q)[b] for b in branches)


def look_around(client, clean, key, now, *, subjects: bool) -> dict[str, list]:
    """{branch: rows} of what is already around a cleaned report (see _around_branches): "d" always, "s"
    when `subjects`, "k" and "x" when the report can be a retry (a key; an external id)."""
    lat, lng = clean["lat"], clean["lng"]
    minutes = base.setting("COMMAND_CENTER_DUPLICATE_MINUTES", 30)
    branches, params = "d", [clean["problem_type"], *OPEN_STATUSES, now - timedelta(minutes=minutes),
                             *_box(lat, lng, base.setting("COMMAND_CENTER_DUPLICATE_RADIUS_M", 50))]
    if subjects:
        branches += "s"
        params += [SubjectStatus.ACTIVE, *_box(lat, lng, base.setting("COMMAND_CENTER_SUBJECT_RADIUS_M", 30))]
    if client is not None and key:
        branches += "k"
        params += [client.pk, key]
    if client is not None and clean["external_id"]:
        branches += "x"
        params += [client.pk, clean["source"], clean["external_id"]]
    found = {branch: [] for branch in branches}
    for tag, *row in rawsql.fetch(f"intake.around.{branches}", _around_statement(branches), params):
        found[tag].append(row)
    return found


def nearest_subject(rows, lat: float, lng: float) -> Subject | None:
    """Of the look-around's subject rows, the one nearest to the point within COMMAND_CENTER_SUBJECT_RADIUS_M
    (of two at the same distance, the first by id), with id, name, position and grid loaded, as `.only()`
    would load them (its other fields are read on use)."""
    rows = sorted(rows, key=lambda row: row[2])
    row = _nearest(rows, lat, lng, base.setting("COMMAND_CENTER_SUBJECT_RADIUS_M", 30))
    if row is None:
        return None
    row_lat, row_lng, pk, _at, name, grid_id = row
    loaded = {"lat": row_lat, "lng": row_lng, "id": pk, "name": name, "grid_id": grid_id}
    names = [f.attname for f in Subject._meta.concrete_fields if f.attname in loaded]  # from_db's order
    return Subject.from_db(router.db_for_read(Subject), names, [loaded[n] for n in names])


def possible_duplicate(rows, lat: float, lng: float) -> int | None:
    """Of the look-around's open events of the same type nearby and recent, the nearest within
    COMMAND_CENTER_DUPLICATE_RADIUS_M (of equals, the newest): its id."""
    radius = base.setting("COMMAND_CENTER_DUPLICATE_RADIUS_M", 50)
    best, best_key = None, None
    for row_lat, row_lng, pk, created_at, _text, _grid in rows:
        d = geometry.haversine_m(lat, lng, row_lat, row_lng)
        key = (d, -rawsql.aware(created_at).timestamp(), -pk)  # the nearest; of equals, the newest
        if d <= radius and (best_key is None or key < best_key):
            best, best_key = pk, key
    return best


def _route(problem_type_code, lat, lng, now):
    from enforcement import selectors as enforcement_selectors

    try:
        route = enforcement_selectors.route(problem_type_code, lat, lng, on=now)
        if translation.get_language() != settings.LANGUAGE_CODE:
            # The reason is stored on the event (the desk's 分拨依据): in the default language, whoever
            # reported it. Refusals above stay in the client's language. (The catalog is cached: cheap.)
            with translation.override(settings.LANGUAGE_CODE):
                route = enforcement_selectors.route(problem_type_code, lat, lng, on=now)
        return route
    except ValidationFailed as exc:
        raise ValidationFailed(fields=exc.fields or {"problem_type": [exc.message]})
    except NotFound as exc:
        raise ValidationFailed(fields={"lat": [exc.message], "lng": [exc.message]})


def intake_event(client, data: dict, idempotency_key: str | None = None, *, photos=(),
                 media_url: str = "") -> tuple[Event, bool]:
    """Create and route one event; a retry (same Idempotency-Key, or same source + external_id from the
    same client) returns the first event instead. Returns (event, created).

    `photos` (uploads) and `media_url` (an Open311 client's link to its own picture) are the report's
    pictures: checked before anything else, attached as intake's last step in its transaction (a retry
    that returns the first event adds none: the first call's are there).

    The same key with a different body is refused (Unprocessable). Two retries racing each other meet
    the unique constraints: the loser's transaction rolls back and it returns the winner's event."""
    pictures = photo_checks.check_report(photos, media_url)
    base.require_may_report(client)
    clean = _clean_intake(data)
    key = base.clean_str(idempotency_key, "Idempotency-Key", required=False, max_length=IDEMPOTENCY_KEY_MAX_LENGTH) or None
    request_hash = _request_hash(clean) if key else None  # only an Idempotency-Key's replay compares it
    try:
        return _intake_once(client, clean, key, request_hash, pictures)
    except IntegrityError:
        # A concurrent twin committed first; this retry finds it through the replay lookups.
        return _intake_once(client, clean, key, request_hash, pictures)


def _intake_once(client, clean, key, request_hash, pictures) -> tuple[Event, bool]:
    with event_photos.files_removed_on_failure() as saved:  # photo files written by a rolled-back attempt
        return _intake(client, clean, key, request_hash, pictures, saved)


def _replay(client, clean, key, request_hash, found) -> Event | None:
    """The first event of a retry (the look-around's "k" and "x" rows: ids only, the unique constraints
    allow one row each), read only when there is one."""
    if found.get("k"):
        _lat, _lng, event_id, _at, stored_hash, _grid = found["k"][0]
        if stored_hash != request_hash:
            raise Unprocessable(_("该 Idempotency-Key 已用于另一内容不同的请求。"), code="idempotency_key_reused")
        return Event.objects.get(pk=event_id)
    if found.get("x"):
        first = Event.objects.get(pk=found["x"][0][2])
        if key:
            IdempotencyKey.objects.create(client=client, key=key, request_hash=request_hash, event=first)
        return first
    return None


@transaction.atomic
def _intake(client, clean, key, request_hash, pictures, saved) -> tuple[Event, bool]:
    now = timezone.now()
    lat, lng = clean["lat"], clean["lng"]
    from enforcement import selectors as enforcement_selectors

    found = look_around(client, clean, key, now, subjects=clean["subject"] is None
                        and enforcement_selectors.about_subject(clean["problem_type"]))
    first = _replay(client, clean, key, request_hash, found)
    if first is not None:
        return first, False
    try:
        chain = grid_selectors.locate(lat, lng)
    except NotFound as exc:
        raise ValidationFailed(fields={"lat": [exc.message], "lng": [exc.message]})
    route = _route(clean["problem_type"], lat, lng, now)
    refs = {ref.kind: ref for ref in chain}
    areas = grid_selectors.areas_of_chain(chain)  # from the spatial index: no query
    area = areas[chain[0].id]
    grid = areas[refs[AreaKind.GRID].id] if AreaKind.GRID in refs else None
    street = areas[refs[AreaKind.STREET].id] if AreaKind.STREET in refs else None
    if client is not None and not grid_selectors.user_covers_area(client, area):
        raise Forbidden(_("该位置不在您的辖区内。"))
    subject = None
    if clean["subject"] is not None:
        subject = _reported_subject(client, clean["subject"], lat, lng)
    elif route.about_subject:
        if "s" not in found:  # the catalog changed between the look-around and routing
            found["s"] = look_around(None, clean, None, now, subjects=True)["s"]
        subject = nearest_subject(found["s"], lat, lng)
    severity = clean["severity"] or route.severity or Severity.BLUE
    event = Event(
        source=clean["source"], external_id=clean["external_id"], client=client,
        reporter_name=clean["reporter_name"], reporter_phone=clean["reporter_phone"],
        problem_type_code=clean["problem_type"], problem_type_name=route.problem_type_name[:100],
        matter_code=route.matter_code or "", description=clean["description"], lat=lat, lng=lng,
        address=clean["address"], area=area, grid=grid, street=street,
        # The team / department as routing's snapshot has them (id, code, name): the answer shows them
        # without reading them back.
        team=_routed(Team, route.team), department=_routed(Department, route.department),
        delegated=bool(route.delegated), routing_reason=(route.reason or "")[:500], subject=subject,
        severity=severity, status=Status.NEW,
        possible_duplicate_of_id=possible_duplicate(found["d"], lat, lng),
        created_at=now,
    )
    bulk.insert_objects([event])  # Model.save's machinery was ~6% of an intake; nothing listens to it for events
    if key and client is not None:
        bulk.insert_objects([IdempotencyKey(client=client, key=key, request_hash=request_hash, event=event)])
    deadlines = base.create_deadlines(event, now)
    entry = base.trace(client, event, Action.CREATE, now, audit_action="event.created", changes={
        k: [None, v] for k, v in audit.snapshot(event, (
            "source", "external_id", "problem_type_code", "matter_code", "lat", "lng", "area", "street", "team",
            "department", "subject", "severity", "status",
        )).items()
    }, to_status=Status.NEW, data={
        "source": event.source, "severity": severity, "street": street.code if street else None,
        "grid": grid.code if grid else None, "team": route.team.code if route.team else None,
        "department": route.department.code if route.department else None, "matter": event.matter_code,
        "reason": event.routing_reason, "subject": subject.pk if subject else None,
        "possible_duplicate_of": event.possible_duplicate_of_id,
        "deadlines": [[d.stage, d.due_at.isoformat()] for d in deadlines],
    })
    credit_facts.on_event_action(event, Action.CREATE, client)  # complaints feed credit, in this transaction
    # The answer and the push are made from the rows just written, not read back.
    selectors.keep_written(event, deadlines=deadlines, timeline=[entry], assignments=[], photos=[])
    base.publish_change(event, "event.created", action=Action.CREATE, written=True)
    event_photos.attach_report(client, event, pictures, saved)
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
    limit = base.setting("COMMAND_CENTER_SUBJECT_MAX_DISTANCE_M", 500)
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

