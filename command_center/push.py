"""Live push: one event system for every dashboard (Zulip's idea), over Channels groups.

Streams are channel groups: `cc.street.<street id>` for each street and `cc.district` for the whole
district. A change is sent, on commit, to its street's group and to the district's; a user's consumer
joins the streets it covers (or only the district group, for district-wide users), so nobody receives
a message twice and nobody receives another street's.

Each message: `{"type", "seq", "stream", "event": row}` (`officer.moved`: `"officer": row`;
`sla.breached` also carries `"breach"`; a sweep's batch of breaches goes out in one send, `publish_many`). `seq` counts per stream (Redis INCR in production, a
process-local counter in the embedded default, which runs one process). The snapshot
(`GET /api/v1/command/snapshot/`) reads each stream's seq *before* it reads the rows, so every message
with seq <= the snapshot's is already in it; a later message may repeat what the snapshot shows, and
the client applies a row only when its `version` is not older than the one it holds.

Rows come from `event_row` / `officer_row` only: snapshot + pushed rows = a fresh snapshot.
Sending never raises into the service that committed: a channel layer that is down is logged.
"""
import asyncio
import logging
import threading
from collections import Counter, OrderedDict
from concurrent.futures import Future
from functools import partial

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db.models import Prefetch

from command_center.choices import FINAL_STATUSES, Action
from command_center.models import Deadline, Event
from grids.models import Area

logger = logging.getLogger(__name__)

DISTRICT_GROUP = "cc.district"
MESSAGE_TYPE = "cc.push"  # the consumer's handler: CommandConsumer.cc_push

EVENT_CREATED = "event.created"
EVENT_UPDATED = "event.updated"
ASSIGNMENT_CHANGED = "assignment.changed"
OFFICER_MOVED = "officer.moved"
SLA_BREACHED = "sla.breached"
MESSAGE_TYPES = (EVENT_CREATED, EVENT_UPDATED, ASSIGNMENT_CHANGED, OFFICER_MOVED, SLA_BREACHED)
# A reminder, not a row of the dashboard's state (the snapshot has no cases): a case due soon or overdue,
# to its street's stream, where its team leader's desk shows it.
CASE_DEADLINE = "case.deadline"

# Actions that change who holds the event: pushed as assignment.changed (with the event's row).
ASSIGNMENT_ACTIONS = (Action.DISPATCH, Action.ACCEPT, Action.DECLINE)

# Rows of these statuses leave the dashboard: a client drops them.
TERMINAL_STATUSES = tuple(s.value for s in FINAL_STATUSES)

EVENT_FIELDS = (
    "id", "version", "status", "severity", "source", "problem_type_code", "problem_type_name", "matter_code",
    "lat", "lng", "address", "area_id", "grid_id", "street_id", "team_id", "officer_id", "escalation_level",
    "created_at", "updated_at",
)
OFFICER_FIELDS = (
    "id", "name", "badge_no", "rank", "team_id", "duty_status", "last_lat", "last_lng", "last_heading",
    "last_position_at",
)


# How long a sent push's outbox key is remembered (longer than any row is left claimed before a rerun).
ONCE_SECONDS = 24 * 3600
ONCE_KEYS_KEPT = 100_000  # the embedded default's in-memory memory of them


def street_group(street_id) -> str:
    return f"cc.street.{int(street_id)}"


def groups_for_paths(paths) -> list[str]:
    """The groups a user with these area paths joins (None = the whole district)."""
    if paths is None:
        return [DISTRICT_GROUP]
    streets = set()
    for path in paths:
        ids = [p for p in path.strip("/").split("/") if p]
        if len(ids) >= 2:  # district / street / ...
            streets.add(int(ids[1]))
    return [street_group(s) for s in sorted(streets)]


# --- rows: one format for the snapshot and the messages -------------------------------------------

def _iso(value):
    return value.isoformat() if value is not None else None


def event_queryset(qs=None, *also):
    """Events with what `event_row` needs (and the fields `also` names), in one query plus one for the
    deadlines."""
    qs = Event.objects.all() if qs is None else qs
    live = Deadline.objects.filter(cancelled_at__isnull=True).only(
        "id", "event_id", "stage", "due_at", "met_at", "breached_at", "position").order_by("position", "id")
    return qs.only(*EVENT_FIELDS, *also).prefetch_related(
        Prefetch("deadlines", queryset=live, to_attr="live_deadlines"))


def event_row(event: Event) -> dict:
    row = {}
    for name in EVENT_FIELDS:
        value = getattr(event, name)
        row[name] = _iso(value) if name in ("created_at", "updated_at") else value
    row["deadlines"] = [
        {"stage": d.stage, "due_at": _iso(d.due_at), "met_at": _iso(d.met_at), "breached_at": _iso(d.breached_at)}
        for d in getattr(event, "live_deadlines", None) or ()
    ]
    return row


def officer_queryset(qs):
    return qs.select_related(None).prefetch_related(None).only(*OFFICER_FIELDS)


def officer_row(officer) -> dict:
    row = {name: getattr(officer, name) for name in OFFICER_FIELDS}
    row["last_position_at"] = _iso(row["last_position_at"])
    return row


# --- sequence numbers per stream ---------------------------------------------------------------

class LocalSequence:
    """The embedded default (one process): counters in memory, under a lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values: dict[str, int] = {}
        self._once: OrderedDict[str, bool] = OrderedDict()

    def next(self, stream: str) -> int:
        return self.reserve({stream: 1})[stream]

    def reserve(self, counts: dict) -> dict[str, int]:
        """Take `counts[stream]` numbers of each stream at once; returns the first of each."""
        with self._lock:
            first = {}
            for stream, n in counts.items():
                first[stream] = self._values.get(stream, 0) + 1
                self._values[stream] = first[stream] + n - 1
            return first

    def reserve_once(self, key: str, counts: dict) -> dict[str, int] | None:
        """`reserve`, unless `key` was reserved before (None): an outbox row's push goes out once even
        when its row is run again (a runner died after sending, before marking it done)."""
        with self._lock:
            if key in self._once:
                return None
            self._once[key] = True
            while len(self._once) > ONCE_KEYS_KEPT:
                self._once.popitem(last=False)
        return self.reserve(counts)

    def current(self, streams) -> dict[str, int]:
        with self._lock:
            return {s: self._values.get(s, 0) for s in streams}


class RedisSequence:
    """Production: every web process and worker shares the counters (INCR is atomic)."""

    prefix = "cc:seq:"

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)

    def next(self, stream: str) -> int:
        return int(self.client.incr(self.prefix + stream))

    def reserve(self, counts: dict) -> dict[str, int]:
        """Take `counts[stream]` numbers of each stream in one round trip (INCRBY each); returns the first
        of each."""
        pipe = self.client.pipeline(transaction=False)
        for stream, n in counts.items():
            pipe.incrby(self.prefix + stream, n)
        return {stream: int(last) - n + 1 for (stream, n), last in zip(counts.items(), pipe.execute())}

    # SET key NX, and only then INCRBY each stream: one atomic step, so a push marked sent has its seq
    # numbers; dying between this and the send leaves a gap, which makes the clients resync.
    _ONCE = """
    if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return false end
    local out = {}
    for i = 2, #KEYS do out[i - 1] = redis.call('INCRBY', KEYS[i], ARGV[i]) end
    return out
    """

    def reserve_once(self, key: str, counts: dict) -> dict[str, int] | None:
        """`reserve`, unless `key` was reserved before (None), in one atomic script."""
        streams = list(counts)
        last = self.client.eval(self._ONCE, 1 + len(streams), self.prefix + "once:" + key,
                                *(self.prefix + s for s in streams), ONCE_SECONDS, *(counts[s] for s in streams))
        if last is None:
            return None
        return {stream: int(value) - counts[stream] + 1 for stream, value in zip(streams, last)}

    def current(self, streams) -> dict[str, int]:
        streams = list(streams)
        if not streams:
            return {}
        values = self.client.mget([self.prefix + s for s in streams])
        return {s: int(v or 0) for s, v in zip(streams, values)}


_sequence = None
_sequence_lock = threading.Lock()


def get_sequence():
    global _sequence
    with _sequence_lock:
        if _sequence is None:
            url = getattr(settings, "REDIS_URL", "")
            _sequence = RedisSequence(url) if url else LocalSequence()
        return _sequence


def reset_sequence():
    """Forget the sequence backend (tests that switch settings)."""
    global _sequence
    with _sequence_lock:
        _sequence = None


def current_seqs(streams) -> dict[str, int]:
    try:
        return get_sequence().current(streams)
    except Exception:  # noqa: BLE001 — a snapshot without seq still shows the state; the client resyncs later
        logger.exception("live push: cannot read sequence numbers")
        return {s: 0 for s in streams}


# --- sending ----------------------------------------------------------------------------------

_consumer_loop = None


def remember_loop(loop):
    """The event loop the consumers run on (CommandConsumer.connect tells us)."""
    global _consumer_loop
    _consumer_loop = loop


_sender = {"loop": None, "thread": None, "pid": None}


def _sender_loop():
    """This process's sender loop, on a daemon thread of its own (started again in a forked child)."""
    import os

    with _sequence_lock:
        thread = _sender["thread"]
        if thread is None or not thread.is_alive() or _sender["pid"] != os.getpid():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="cc-push-sender", daemon=True)
            thread.start()
            _sender.update(loop=loop, thread=thread, pid=os.getpid())
        return _sender["loop"]


def group_send(group: str, message: dict):
    """One message to one group, for other streams (the officer's: command_center.mobile.push)."""
    _group_send_many([(group, message)])


def _group_send_many(messages, *, wait: bool = True):
    """Send [(group, message), …] in order, in one hop onto an event loop: every async_to_sync call
    starts a loop of its own, and channels-redis opens its connections per loop, so a batch sent message
    by message would pay for that each time. `wait=False`: on a shared layer, return the send's Future at
    once instead of waiting for it (None where the send was made here)."""
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all():
        await _send_on(layer, messages)

    timeout = 5 + len(messages) / 1000
    loop = _consumer_loop
    if isinstance(layer, InMemoryChannelLayer):
        if loop is not None and loop.is_running():
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                # A plain thread (the embedded SLA ticker): the in-memory layer's queues belong to the
                # consumers' loop, and a send from a loop of our own would not wake it. Hop onto it.
                asyncio.run_coroutine_threadsafe(send_all(), loop).result(timeout=timeout)
                return
        async_to_sync(send_all)()
        return
    # A shared layer (Redis): sent from this process's one sender loop, whose connections stay open.
    # async_to_sync would start a loop per send, and channels-redis opens connections per loop: that
    # was ~7% of an intake's CPU under gunicorn (py-spy, bench/README.md).
    if not wait:
        return _handed_over_sends(layer).submit(messages)
    future = asyncio.run_coroutine_threadsafe(send_all(), _sender_loop())
    try:
        future.result(timeout=timeout)
    except BaseException:
        future.cancel()  # never sent late, after the caller has logged it lost
        raise


async def _send_on(layer, messages):
    if hasattr(layer, "group_send_many"):  # production's layer: every group in two round trips
        await layer.group_send_many(messages)
        return
    for group, message in messages:
        await layer.group_send(group, message)


class _HandedOverSends:
    """The pushes handed over by committers (`wait=False`), sent from the sender loop in arrival order, all
    those that arrived while one send was out going together in the next (production's layer: one
    `group_send_many`, two Redis round trips however many). A task per push had the loop's thread win the GIL once per round trip of each;
    under a closed loop at full capacity it fell seconds behind and gave hundreds of pushes up to the drain
    (bench/desks.py). Each push gets a Future, done when its batch is out (or failed: the whole batch, the
    error its own)."""

    def __init__(self, layer, loop):
        self.layer, self.loop = layer, loop
        self._waiting: list[tuple[list, Future]] = []
        self._sending = False

    def submit(self, messages) -> Future:
        future = Future()
        self.loop.call_soon_threadsafe(self._add, messages, future)
        return future

    def _add(self, messages, future):  # on the loop
        self._waiting.append((messages, future))
        if not self._sending:
            self._sending = True
            self.loop.create_task(self._send_waiting())

    async def _send_waiting(self):
        batch = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                messages = [message for sends, _future in batch for message in sends]
                try:  # bounded: a stuck Redis must not hold the pushes behind it
                    await asyncio.wait_for(_send_on(self.layer, messages), 5 + len(messages) / 1000)
                except Exception as exc:  # noqa: BLE001 — each push's Future carries it (outbox: left to the drain)
                    for _sends, future in batch:
                        future.set_exception(exc)
                else:
                    for _sends, future in batch:
                        future.set_result(None)
        finally:
            self._sending = False
            for _sends, future in batch:  # the loop stopped under it: nobody may wait forever
                if not future.done():
                    future.set_exception(RuntimeError("the push sender stopped"))


_handed_over = {"sends": None}


def _handed_over_sends(layer) -> _HandedOverSends:
    """This process's batcher, on its sender loop (made again for a new loop or layer: a forked child)."""
    loop = _sender_loop()
    sends = _handed_over["sends"]
    if sends is None or sends.loop is not loop or sends.layer is not layer:
        with _sequence_lock:
            sends = _handed_over["sends"]
            if sends is None or sends.loop is not loop or sends.layer is not layer:
                sends = _handed_over["sends"] = _HandedOverSends(layer, loop)
    return sends


def _streams(street_id) -> list[str]:
    return ([street_group(street_id)] if street_id else []) + [DISTRICT_GROUP]


def publish(kind: str, street_id, path: str | None, body: dict, *, once: str | None = None,
            hand_over: bool = False):
    """Send one change to its street's stream and to the district's. `once`: a key (the outbox row's)
    under which it is sent at most once. Returns the messages sent (for tests and logs); never raises.
    `hand_over`: see publish_many."""
    return publish_many(kind, [(street_id, path, body)], once=once, hand_over=hand_over)


def _event_for_push(event_id):
    return event_queryset(Event.objects.select_related("area"), "area__path").filter(pk=event_id).first()


def on_event_changed(sender, kind=None, event_id=None, action=None, row=None, street_id=None, path=None, once=None,
                     hand_over=False, **kwargs):
    """`row` (with `street_id`, `path`): the event's row as the service wrote it (a create); else it is read.
    `once`, `hand_over`: see `publish_many`."""
    try:
        if row is None:
            event = _event_for_push(event_id)
            if event is None:
                return []
            row, street_id, path = event_row(event), event.street_id, event.area.path
        if kind == EVENT_UPDATED and action in ASSIGNMENT_ACTIONS:
            kind = ASSIGNMENT_CHANGED
        return publish(kind or EVENT_UPDATED, street_id, path, {"action": action, "event": row}, once=once,
                       hand_over=hand_over)
    except Exception:  # noqa: BLE001
        logger.exception("live push: event %s", event_id)
        return []


def publish_many(kind: str, changes, *, once: str | None = None, hand_over: bool = False):
    """Send many changes [(street id, path, body), …] at once: each stream's seq numbers reserved in
    one step, the messages sent in one hop onto the sender loop (a hop costs about as much as a send), so a
    single change's two streams go together too. `once`: see `publish`. Returns the messages sent; never
    raises. `hand_over` (the outbox's committer, core.outbox.may_hand_over): on a shared layer, return the
    send's Future as soon as it is on its way instead of waiting for it; the request goes on to its answer
    while the sender loop talks to Redis (each of its round trips waited for this process's GIL)."""
    items = [(stream, path, body) for street_id, path, body in changes for stream in _streams(street_id)]
    if not items:
        return []
    try:
        counts = Counter(stream for stream, _path, _body in items)
        seqs = get_sequence().reserve(counts) if once is None else get_sequence().reserve_once(once, counts)
        if seqs is None:
            return []  # sent before (this row is being run again)
        messages = []
        for stream, path, body in items:
            payload = {"type": kind, "seq": seqs[stream], "stream": stream, **body}
            seqs[stream] += 1
            messages.append((stream, {"type": MESSAGE_TYPE, "path": path, "payload": payload}))
        if hand_over:
            sending = _group_send_many(messages, wait=False)
            if sending is not None:
                sending.add_done_callback(partial(_log_failed_send, kind, len(messages)))
                return sending
        else:
            _group_send_many(messages)
    except Exception:  # noqa: BLE001 — the change has committed; a lost message is healed by resync
        logger.exception("live push: %s messages of %s failed", len(items), kind)
        return []
    return [message["payload"] for _stream, message in messages]


def _log_failed_send(kind, count, future):
    if not future.cancelled() and future.exception() is not None:
        logger.error("live push: %s messages of %s failed", count, kind, exc_info=future.exception())


def on_sla_breached(sender, breaches=(), once=None, **kwargs):
    """A sweep's batch of breaches: the events' rows in two queries, one batched send."""
    try:
        ids = {b["event_id"] for b in breaches}
        events = event_queryset(Event.objects.select_related("area"), "area__path").in_bulk(ids)
        return publish_many(SLA_BREACHED, [
            (event.street_id, event.area.path, {"breach": {"id": b["breach_id"], "stage": b["stage"]},
                                                "event": event_row(event)})
            for b in breaches if (event := events.get(b["event_id"])) is not None
        ], once=once)
    except Exception:  # noqa: BLE001
        logger.exception("live push: %s breaches", len(breaches))
        return []


def on_case_deadlines(sender, cases=(), once=None, **kwargs):
    """cases.signals.deadlines_due (through the outbox): one `case.deadline` per case, a reminder before its
    step's deadline or an overdue notice after, to its street's stream and the district's (`once`: see
    `publish`)."""
    try:
        streets = Area.objects.only("id", "path").in_bulk({c["street_id"] for c in cases})
        return publish_many(CASE_DEADLINE, [(c["street_id"], streets[c["street_id"]].path, {"case": c})
                                            for c in cases if c["street_id"] in streets], once=once)
    except Exception:  # noqa: BLE001 — the check has committed; the queue page still flags them
        logger.exception("live push: %s case reminders", len(cases))
        return []


def on_officer_moved(sender, officer_id=None, **kwargs):
    try:
        from grids.models import Officer

        officer = (Officer.objects.select_related("team__street").only(*OFFICER_FIELDS, "team__street_id",
                   "team__street__path").filter(pk=officer_id).first())
        if officer is None:
            return []
        street = officer.team.street if officer.team_id else None
        return publish(OFFICER_MOVED, street.pk if street else None, street.path if street else None,
                       {"officer": officer_row(officer)})
    except Exception:  # noqa: BLE001
        logger.exception("live push: officer %s", officer_id)
        return []


def connect():
    """Called from CommandCenterConfig.ready(): the outbox runs the pushes in the committing process, right
    after the commit (the desk sees a change within milliseconds), each at most once per outbox row."""
    from cases import signals as case_signals
    from command_center import signals
    from core import outbox
    from grids import signals as grid_signals

    outbox.register(signals.event_changed, "command_center.push.event",
                    lambda payload, message: on_event_changed(None, once=f"outbox:{message.key}",
                                                              hand_over=outbox.may_hand_over(), **payload))
    outbox.register(signals.sla_breached, "command_center.push.sla_breached",
                    lambda payload, message: on_sla_breached(None, once=f"outbox:{message.key}", **payload))
    grid_signals.officer_moved.connect(on_officer_moved, dispatch_uid="command_center.push.officer_moved")
    outbox.register(case_signals.deadlines_due, "command_center.push.case_deadlines",
                    lambda payload, message: on_case_deadlines(None, once=f"outbox:{message.key}", **payload))
