"""Reads of events, scoped by the asking user's areas (through the event's smallest area)."""
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center import sla
from command_center.models import (
    Assignment, Deadline, Deliberation, DeliberationMeeting, Event, EventPhoto, SlaPolicy, TimelineEntry,
)
from core import outbox
from core.exceptions import NotFound
from core.ids import MAX_ID
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.models import Area


def _base() -> QuerySet:
    # Area boundaries can be megabytes: never loaded with events.
    # The areas are joined, the other relations prefetched (one small query each): PostgreSQL spent
    # 10–17 ms *planning* the eight-table join on every read of one event (bench/intake.py), against
    # well under a millisecond for each extra query.
    return Event.objects.select_related("area", "grid__parent", "street").defer(
        "area__boundary", "grid__boundary", "grid__parent__boundary", "street__boundary",
    ).prefetch_related(
        "team", "department", "subject", "officer",
        Prefetch("deadlines", queryset=Deadline.objects.order_by("position", "id")),
    )


def events_for(user) -> QuerySet:
    return grid_selectors.scope(_base(), user, "area__path")


def get_event_for(user, event_id, *, detail=False) -> Event:
    qs = events_for(user)
    if detail:
        qs = qs.prefetch_related(
            Prefetch("timeline", queryset=TimelineEntry.objects.select_related("actor").order_by("at", "id")),
            Prefetch("assignments", queryset=Assignment.objects.select_related("officer").order_by("assigned_at", "id")),
            Prefetch("photos", queryset=EventPhoto.objects.order_by("uploaded_at", "id")),
        )
    try:
        event_id = int(event_id)
        if not 0 < event_id <= MAX_ID:
            raise ValueError(event_id)
        return qs.get(pk=event_id)
    except (Event.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("事件不存在。"))


def community_of(grid) -> str | None:
    """The name of the community (村社) a grid belongs to, None when it sits elsewhere (or no grid)."""
    parent = grid.parent if grid is not None and grid.parent_id else None
    return parent.name if parent is not None and parent.kind == AreaKind.COMMUNITY else None


_RELATIONS: dict = {}  # a name of Event's reverse relations → its ManyToOneRel


def keep_written(event: Event, **rows):
    """Hold on the event the related rows a service has just written (deadlines, timeline, assignments,
    photos), as a prefetch would: its related managers then answer from them, so the answer to a create
    is made from what was written, without reading it back."""
    cache = event.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, items in rows.items():
        # What prefetch_related stores (django.db.models.query.prefetch_one_level): the event's rows as a
        # queryset with its result cache filled, so .all() answers from it and .filter() still queries. Built
        # from the relation's own field, not the related manager (a manager and a filter per row kind were
        # ~4% of an intake, cProfile); the filter is deferred, as the manager defers it.
        relation = _RELATIONS.get(name) or _RELATIONS.setdefault(name, Event._meta.get_field(name))
        qs = relation.related_model._default_manager.all()
        qs._defer_next_filter = True
        qs = qs.filter(**{relation.field.name: event})
        qs._result_cache, qs._prefetch_done = list(items), True
        cache[name] = qs
    if "deadlines" in rows:  # what push.event_row shows: the deadlines not cancelled
        event.live_deadlines = [d for d in cache["deadlines"] if d.cancelled_at is None]


def forget_written(event: Event):
    event.__dict__.pop("_prefetched_objects_cache", None)
    event.__dict__.pop("live_deadlines", None)


DETAIL_ROWS = ("deadlines", "timeline", "assignments", "photos")


def detail_after_write(user, event: Event) -> Event:
    """The detail of an event a service has just written and committed: the instance itself when it holds
    every row of the detail (`keep_written`) and nothing has changed the event since (one read of its
    version), else the event read afresh. (In the embedded default the automatic dispatch runs on
    commit, before the answer, and moves a new event on.)"""
    cache = getattr(event, "_prefetched_objects_cache", {})
    if all(name in cache for name in DETAIL_ROWS):
        if not outbox.deferred_run_here():
            # Only the deferred follow-ups (automatic dispatch) move a new event on, and they run in a
            # worker: a change there is as if it came after this answer (its ETag names this version).
            return event
        current = Event.objects.filter(pk=event.pk).values_list("version", flat=True).first()
        if current == event.version:
            return event
    return get_event_for(user, event.pk, detail=True)


def overdue_q(now=None) -> Q:
    """Events with a stage that is due and not met (fired or not yet fired), not cancelled."""
    now = now or timezone.now()
    late = Deadline.objects.filter(
        event=OuterRef("pk"), met_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now,
    )
    return Q(Exists(late))


def _waiting_to_fire():
    return Deadline.objects.filter(fired_at__isnull=True, met_at__isnull=True, cancelled_at__isnull=True)


def due_deadlines(now, limit: int, *, exclude=()) -> list[tuple[int, int]]:
    """(deadline id, event id) of deadlines due and still waiting to fire, oldest first (the partial index),
    but those in `exclude`."""
    qs = _waiting_to_fire().filter(due_at__lte=now)
    if exclude:
        qs = qs.exclude(pk__in=exclude)
    return list(qs.order_by("due_at", "id").values_list("id", "event_id")[:limit])


def next_due_at(*, exclude=()):
    """When the next deadline still waiting to fire falls due (None: none is waiting), but those in `exclude`."""
    qs = _waiting_to_fire()
    if exclude:
        qs = qs.exclude(pk__in=exclude)
    return qs.order_by("due_at").values_list("due_at", flat=True).first()


def policy_for(street: Area | None, severity: str) -> tuple[str, list[dict]]:
    """(name, stages) of the SLA policy for (street, severity): the street's own, else the district
    default, else the built-in preset (so a fresh database still runs a clock). Read from the process's
    copy of the policies (core.refcache: intake runs this for every event)."""
    from core import refcache

    policies = refcache.get(refcache.SLA, "policies", _policies)
    street_id = street.pk if street is not None else None
    found = (policies.get((street_id, severity)) if street_id is not None else None) or policies.get((None, severity))
    if found is not None:
        return found  # shared by every caller, as the presets are: read, never changed
    preset = sla.PRESETS[sla.DEFAULT_PRESET_BY_SEVERITY[severity]]
    return preset["name"], preset["stages"]


def _policies() -> dict:
    """{(street id or None for the district default, severity): (name, stages)}; of several, the first by id."""
    out = {}
    for street_id, severity, name, stages in SlaPolicy.objects.order_by("id").values_list(
            "street_id", "severity", "name", "stages"):
        out.setdefault((street_id, severity), (name, stages))
    return out


def deliberations_of(event) -> QuerySet:
    """The event's deliberations with their meetings (two queries)."""
    return Deliberation.objects.filter(event=event).prefetch_related(
        Prefetch("meetings", queryset=DeliberationMeeting.objects.order_by("held_at", "id"))).order_by("started_at", "id")
