"""The SLA clock: every due, unmet deadline fires exactly once (a breach record, an escalation, a timeline
line, an audit record, and `signals.sla_breached` through the outbox), in batches of a handful of
statements. Celery beat's `sweep` task (production) and the embedded ticker drive `keep_sweeping`."""
import logging
import time

from django.db import transaction
from django.utils import timezone

from django.utils.translation import gettext_lazy as _

from command_center import notes, selectors, signals
from command_center.choices import ESCALATION_LEVEL, LEVEL_TARGET, Action, Stage
from command_center.models import Breach, Deadline, Escalation, Event, TimelineEntry
from command_center.services import base, escalation
from core import audit, outbox
from core.bulk import insert_rows
from grids.models import Area, Officer, Team

logger = logging.getLogger(__name__)


def sweep_due_deadlines(now=None, *, batch: int | None = None, failed: set | None = None) -> int:
    """Fire every due, unmet, unfired deadline exactly once. Returns how many this call fired.

    Batches of `batch`, oldest due first, one transaction each (`_fire_batch`): a handful of statements
    per batch, not per deadline. A batch that fails rolls back whole and its deadlines are retried one
    per transaction, so a bad row is logged and skipped while the others still fire. `failed`: ids to
    skip, and where the ones that fail now are added."""
    now = now or timezone.now()
    batch = batch or base.setting("COMMAND_CENTER_SWEEP_BATCH", 500)
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
    seconds = base.setting("COMMAND_CENTER_SWEEP_WINDOW_SECONDS", 0.9) if seconds is None else seconds
    poll = poll or base.setting("COMMAND_CENTER_SWEEP_POLL_SECONDS", 0.2)
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
        target = escalation.target_for(event, LEVEL_TARGET[wanted], cache)
        event.escalation_level = max(before, target[1])
        plans.append((d, event, before, event.escalation_level, target))
    insert_rows(Breach, ("event", "deadline", "stage", "due_at", "fired_at", "officer", "status"), [
        (event.pk, d.pk, d.stage, d.due_at, fired_at, event.officer_id, event.status) for d, event, *_ in plans])
    breach_ids = dict(Breach.objects.filter(deadline_id__in=[d.pk for d in deadlines]).values_list("deadline", "id"))
    escalations, entries, records, announced = [], [], [], []
    for d, event, before, after, (target, level, officer, team, area) in plans:
        stage = Stage(d.stage).label if d.stage in Stage.values else d.stage
        note, note_data = notes.compose((_("%(stage)s超时（时限 %(due)s）"), {
            "stage": stage, "due": f"{timezone.localtime(d.due_at):%H:%M:%S}"}))
        reason = notes.compose((_("%(stage)s超时"), {"stage": stage}))[0]  # stored in the default language
        escalations.append((event.pk, breach_ids[d.pk], fired_at, target, level, officer.pk if officer else None,
                            team.pk if team else None, area.pk if area else None, reason))
        entries.append((event.pk, fired_at, "system", Action.BREACH.value, event.status, event.status,
                        note,
                        {**note_data, "deadline": d.pk, "stage": d.stage, "due_at": d.due_at.isoformat(),
                         "escalation": escalation.target_data(target, level, officer, team, area)}))
        records.append((event, {"deadline": [None, d.pk], "stage": [None, d.stage], "escalation_level": [before, after]}))
        announced.append({"breach_id": breach_ids[d.pk], "event_id": event.pk, "stage": d.stage})
    insert_rows(Escalation, ("event", "breach", "at", "target", "level", "target_officer", "target_team",
                             "target_area", "reason"), escalations)
    insert_rows(TimelineEntry, ("event", "at", "actor_label", "action", "from_status", "to_status", "note", "data"),
                entries)
    audit.record_many(None, "event.sla_breached", records, at=fired_at)
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

