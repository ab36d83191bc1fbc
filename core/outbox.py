"""Durable follow-ups: the one module through which work that must follow a commit is queued.

A service calls `publish(topic, payload)` inside its transaction. Each handler registered for the topic
(apps register theirs in AppConfig.ready) gets an `OutboxMessage` row, all inserted in one statement in
that same transaction: the follow-up commits with the change it follows, or neither does.

Right after the commit the committing process runs the rows it wrote (`process`): handlers registered
`deferred=True` (dispatch, webhook matching: work a request should not wait for) go to the Celery task
`core.tasks.process_outbox`, the others (live push, rescoring) run in place, as before. When tasks are eager
(the embedded default, the fast tests) the deferred ones run in place too, right after the commit.

The committer does not send the task itself: it hands the ids to this process's sender (`DeferredSender`,
a daemon thread started on first use and again in a forked child), which sends ONE `process_outbox`
message for every id that came in since its previous send, at most one message per
OUTBOX_SEND_INTERVAL_SECONDS (50 ms): a commit after a quiet spell is sent at once; under load the commits
of those 50 ms share a message (the enqueue was a sixth of a gunicorn worker's CPU per intake, py-spy). The sender's queue is bounded (OUTBOX_SEND_QUEUE_MAX ids); past
it, or when the broker is down, the ids are logged and dropped.

Nothing is lost by handing over: the rows are committed before their ids are queued, and `drain` (Celery
beat every second in production, the embedded ticker in `make run`) runs every row still not done once it
is `OUTBOX_DRAIN_AFTER_SECONDS` old, or whose claim is older than `OUTBOX_CLAIM_SECONDS` (its runner died).
So a process killed between its commit and its follow-ups, or with ids still in its sender's queue, a full
queue, a broker that is down: each leaves rows that the drain runs a few seconds later.

Exactly once: the drain and the worker first claim rows with a conditional UPDATE (`done_at IS NULL AND
claimed_at is NULL or stale`), so two of them never run the same row at once; a row is marked done after
its handler returns. The committer runs its in-place rows without a claim (no write before the push) and
long before the drain may take them; their handlers are safe to run twice anyway. Where a worker runs the
deferred rows (production), the committer's rows are marked done by its process's sender thread, one UPDATE
for the commits of its interval, on the thread's own connection (a statement and a commit per intake
before); a row whose mark is lost with its process is run again by the drain, which its handler allows. A runner killed between the two runs the handler
again later, so handlers are idempotent (dispatch skips an event already dispatched, a webhook delivery
is unique per subscription and row, a push is sent once per row id). A handler that raises is retried
after `OUTBOX_BACKOFF_SECONDS[attempt - 1]` (the last value repeats), its error kept in `last_error`
(staff see failing rows in the admin). Done rows older than `OUTBOX_KEEP_DAYS` are deleted by the drain.

core imports no app: handlers are plain callables `handler(payload, message)`.
"""
import atexit
import json
import logging
import os
import threading
import time
import traceback
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from datetime import timezone as dt_timezone
from functools import partial
from typing import Callable

from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from core import bulk, rawsql
from core.models import OutboxMessage

logger = logging.getLogger(__name__)

DEFAULT_BACKOFF = (5, 30, 120, 600, 3600)
_PAYLOAD_ENCODER = OutboxMessage._meta.get_field("payload").encoder
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Handler:
    kind: str                 # stored on the row: one handler per kind
    topic: str
    func: Callable
    deferred: bool            # run by a Celery worker (inline when tasks are eager), not by the committer
    wants: Callable | None    # payload -> bool, decided at publish (no query): no row when False


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    payload: dict
    attempts: int  # this one included
    created_at: object

    @property
    def key(self) -> str:
        """Names this row for good (ids alone come back after a database is recreated): for handlers
        that keep their own record of what they did, such as the push's once-only key."""
        at = rawsql.aware(self.created_at)  # SQLite through a raw cursor: naive UTC text
        return f"{self.id}:{at.astimezone(dt_timezone.utc).isoformat()}"


_handlers: dict[str, Handler] = {}
_by_topic: dict[str, list[Handler]] = {}


def register(topic: str, kind: str, func: Callable, *, deferred: bool = False, wants: Callable | None = None):
    """Run `func(payload, message)` after every commit that publishes `topic` (once per AppConfig.ready:
    registering a kind again replaces it)."""
    handler = Handler(kind, topic, func, deferred, wants)
    old = _handlers.get(kind)
    if old is not None:
        _by_topic[old.topic] = [h for h in _by_topic[old.topic] if h.kind != kind]
    _handlers[kind] = handler
    _by_topic.setdefault(topic, []).append(handler)
    return handler


def handlers(topic: str | None = None) -> list[Handler]:
    return list(_by_topic.get(topic, ())) if topic is not None else list(_handlers.values())


def _setting(name, default):
    return getattr(settings, name, default)


def _eager() -> bool:
    return bool(_setting("CELERY_TASK_ALWAYS_EAGER", False))


def deferred_run_here() -> bool:
    """Do deferred handlers run in the committing process, right after its commit (tasks eager: the
    embedded default), rather than in a worker?"""
    return _eager()


# --- writing ----------------------------------------------------------------------------------------

def publish(topic: str, payload: dict) -> list[int]:
    return publish_many(topic, [payload])


def publish_many(topic: str, payloads) -> list[int]:
    """Rows for every (payload, handler of `topic` that wants it), in one INSERT in the caller's
    transaction; run right after its commit. Returns the rows' ids."""
    now = timezone.now()
    available = now + timedelta(seconds=float(_setting("OUTBOX_DRAIN_AFTER_SECONDS", 2)))
    wanted = [(h, p) for p in payloads for h in _by_topic.get(topic, ()) if h.wants is None or h.wants(p)]
    if not wanted:
        return []
    # Each payload's JSON text once, however many handlers' rows carry it (an intake's 3 rows share the
    # event's), as the payload column's JSONField would write it.
    texts = {id(p): bulk.Prepared(json.dumps(p, cls=_PAYLOAD_ENCODER)) for _h, p in wanted}
    ids = bulk.insert_rows(OutboxMessage, ("kind", "payload", "created_at", "available_at"),
                           [(h.kind, texts[id(p)], now, available) for h, p in wanted], returning=True)
    eager = _eager()
    in_place = [Message(pk, h.kind, p, 1, now) for pk, (h, p) in zip(ids, wanted) if eager or not h.deferred]
    deferred = [pk for pk, (h, _p) in zip(ids, wanted) if not eager and h.deferred]
    transaction.on_commit(lambda: _after_commit(in_place, deferred))
    return ids


# The worker's task (core.tasks) is sent by name: core.tasks imports this module, never the reverse.
PROCESS_TASK = "core.tasks.process_outbox"


def enqueue_deferred(ids, producer=None):
    """One `process_outbox` message for these rows. Nobody waits for its result (the rows record what
    happened): `ignore_result` spares the sender the result backend's per-task subscription and the worker
    the result's write. `producer`: the sender's own, whose connection has its queue declared already
    (`declare=[]` then skips kombu's per-publish maybe_declare, a copy of the queue bound to the channel)."""
    more = {"producer": producer, "declare": []} if producer is not None else {}
    current_app.send_task(PROCESS_TASK, args=[ids], ignore_result=True, add_to_parent=False, **more)


class DeferredSender:
    """This process's one sender of `process_outbox` messages (see the module docstring): committers
    `submit` ids and go on; the thread sends all that are waiting in one message (in chunks of
    OUTBOX_SEND_BATCH_MAX ids, so one task never holds a whole backlog), then waits for more."""

    def __init__(self, limit: int, batch_max: int, interval: float = 0.0):
        self.pid = os.getpid()
        self.limit, self.batch_max, self.interval = limit, batch_max, interval
        self._last_send = float("-inf")
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._done: list[int] = []  # in-place rows run after a commit, to be marked done
        self._release = False  # close this thread's database connection at its next turn
        self._handed = 0  # handed-over work still running, whose rows are to be marked when it completes
        self._in_flight = 0
        self._producer = None
        self._thread = threading.Thread(target=self._loop, name="outbox-sender", daemon=True)
        self._thread.start()

    def submit(self, ids) -> bool:
        """Queue `ids` for the next message; False (nothing queued) when the queue is full."""
        return self._queue(self._pending, ids)

    def mark_done(self, ids) -> bool:
        """Queue the ids of in-place rows that ran, to be marked done with the next send's batch (one UPDATE
        for all of them, from this thread's own connection); False (nothing queued) when the queue is full."""
        return self._queue(self._done, ids)

    def _queue(self, queue: list, ids) -> bool:
        """Add `ids` to one of this sender's two lists (each keeps its identity: the loop copies and clears it)."""
        with self._cond:
            if len(queue) + len(ids) > self.limit:
                return False
            queue.extend(ids)
            self._cond.notify_all()
        return True

    def follow(self, message: Message, work: Future):
        """A handler handed its row's work over (see may_hand_over): the row is marked with the next batch
        once `work` completes; wait_idle waits for it too."""
        with self._cond:
            self._handed += 1
        work.add_done_callback(partial(self._handed_done, message))

    def _handed_done(self, message: Message, work: Future):
        """On the thread that completed the work, perhaps an event loop's: no database here. A failure was its
        handler's to log; that row is left to the drain, which runs it again (handlers are idempotent), as is
        a row the full queue cannot take."""
        try:
            if work.cancelled() or work.exception() is not None:
                logger.error("outbox: %s #%s failed after its hand-over: %r", message.kind, message.id,
                             None if work.cancelled() else work.exception())
            elif not self.mark_done([message.id]):
                logger.error("outbox: mark queue full, %s #%s left to the drain", message.kind, message.id)
        finally:
            with self._cond:
                self._handed -= 1
                self._cond.notify_all()

    def release_connection(self, timeout: float = 10.0) -> bool:
        """Close the database connection this thread opened to mark rows (a test session, before its test
        database is dropped); the next mark opens a new one."""
        with self._cond:
            self._release = True
            self._cond.notify_all()
            return self._cond.wait_for(lambda: not self._release, timeout)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def wait_idle(self, timeout: float) -> bool:
        """Until every submitted id has been sent (or dropped), every handed-over work completed and every
        queued mark written; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._pending and not self._done and not self._in_flight and not self._handed, timeout)

    def _loop(self):
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._done or self._release)
                if self._release:
                    connections.close_all()  # this thread's own
                    self._release = False
                    self._cond.notify_all()
                    if not (self._pending or self._done):
                        continue
            # Under a steady stream, one message per `interval`: the commits of those few milliseconds share
            # it (a send costs ~1–2 ms of this process's CPU, more than the rest of the hand-over). After a
            # quiet spell the first commit goes at once.
            wait = self._last_send + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_send = time.monotonic()
            with self._cond:
                batch, done = self._pending[:], self._done[:]  # the same lists stay (see _queue)
                self._pending.clear()
                self._done.clear()
                self._in_flight = len(batch) + len(done)
            try:
                for start in range(0, len(batch), self.batch_max):
                    self._send(batch[start:start + self.batch_max])
                for start in range(0, len(done), self.batch_max):
                    self._mark(done[start:start + self.batch_max])
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _send(self, ids):
        try:
            enqueue_deferred(ids, self._ready_producer())
        except Exception:  # noqa: BLE001 — the broker is down: the drain runs the rows when they are due
            logger.exception("outbox: could not enqueue %s", ids)
            self._drop_producer()

    def _mark(self, ids):
        """One UPDATE on this thread's own connection, kept from batch to batch (whatever CONN_MAX_AGE says:
        closing it by age would reconnect every 50 ms where the age is 0), closed when it failed."""
        try:
            _mark_done(ids, count_attempt=True)
        except Exception:  # noqa: BLE001 — the database is away: the drain runs the rows again (idempotent)
            logger.exception("outbox: could not mark %s done", ids)
            connections.close_all()  # this thread's own: the next batch opens a new one

    def _ready_producer(self):
        """A producer held by this thread, its task queue declared once on its connection."""
        if self._producer is None:
            app = current_app._get_current_object()
            producer = app.producer_pool.acquire(block=True)
            try:
                producer.maybe_declare(app.amqp.router.route({}, PROCESS_TASK)["queue"])
            except Exception:
                producer.release()
                raise
            self._producer = producer
        return self._producer

    def _drop_producer(self):
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.release()
            except Exception:  # noqa: BLE001 — a broken connection: the pool makes a new one
                logger.debug("outbox: releasing the sender's producer failed", exc_info=True)


_sender: DeferredSender | None = None
_sender_lock = threading.Lock()


def sender() -> DeferredSender:
    """This process's sender: made on first use, and made again in a forked child (whose copy of the
    parent's has no thread, and whose queue was the parent's to send)."""
    global _sender
    current = _sender
    if current is not None and current.pid == os.getpid() and current.alive():
        return current
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid() or not _sender.alive():
            _sender = DeferredSender(int(_setting("OUTBOX_SEND_QUEUE_MAX", 10_000)),
                                     int(_setting("OUTBOX_SEND_BATCH_MAX", 500)),
                                     float(_setting("OUTBOX_SEND_INTERVAL_SECONDS", 0.05)))
        return _sender


def release_connection() -> bool:
    """This process's sender closes its database connection (see DeferredSender.release_connection)."""
    current = _sender
    return current is None or current.pid != os.getpid() or current.release_connection()


def wait_sent(timeout: float = 5.0) -> bool:
    """Until this process's sender has sent (or dropped) every id handed to it (tests, and an exiting
    process: what is still queued then is the drain's)."""
    current = _sender
    return current is None or current.pid != os.getpid() or current.wait_idle(timeout)


def _forget_sender_in_child():
    """A forked child starts without its parent's sender and with a fresh lock (the parent's may have been
    held by another thread at the fork)."""
    global _sender, _sender_lock
    _sender, _sender_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_sender_in_child)
atexit.register(wait_sent, 2.0)


def _after_commit(in_place, deferred_ids):
    """Never raises into the request or service that committed: what fails here the drain retries.

    The deferred ids go to this process's sender, which sends them from its own thread. The in-place rows
    run at once, unclaimed, and are marked done after: no write before the push, which is on the desk's
    latency path. Only the drain could run them too, and only once they are OUTBOX_DRAIN_AFTER_SECONDS old;
    their handlers are safe to run twice (the push's once-only key, rescoring's recompute), and the
    conditional marks keep the row's state right."""
    try:
        if deferred_ids and not sender().submit(deferred_ids):
            logger.error("outbox: sender queue full, %s left to the drain", deferred_ids)
    except Exception:  # noqa: BLE001 — e.g. no thread could be started: the drain takes them
        logger.exception("outbox: could not enqueue %s", deferred_ids)
    try:
        if in_place:
            _run(in_place, claimed=False, mark=_mark_later if _committed() else None)
    except Exception:  # noqa: BLE001 — e.g. the database went away: the drain retries
        logger.exception("outbox: running %s after commit failed", [m.id for m in in_place])


def _committed() -> bool:
    """May the sender thread mark the rows just run done, from its own connection? Only when they are
    visible to it (not inside a transaction still open: a test running the commit's callbacks inside its
    own) and when its write can run beside the next commit's: not with eager tasks (the embedded default)
    and not on SQLite, whose one writer would make the mark queue behind the next request's commit (and fail
    at once on the shared in-memory test database, whose locks are per table and never wait)."""
    conn = transaction.get_connection()
    return not _eager() and conn.vendor != "sqlite" and not conn.in_atomic_block


def _mark_later(ids):
    """The in-place rows marked done by the sender thread with others', one UPDATE per batch instead of a
    statement and a commit per intake; marked here when its queue is full."""
    if not sender().mark_done(ids):
        _mark_done(ids, count_attempt=True)


# --- running ----------------------------------------------------------------------------------------

def _claim(ids=None, *, now, limit=None) -> list[Message]:
    """The conditional UPDATE that decides who runs a row: those this call marked claimed, oldest first.
    `ids`: these rows (the committer's, a task's), whenever due; None: the drain's, those due by `now`."""
    conn = transaction.get_connection()
    table = conn.ops.quote_name(OutboxMessage._meta.db_table)
    adapt = conn.ops.adapt_datetimefield_value
    stale = now - timedelta(seconds=float(_setting("OUTBOX_CLAIM_SECONDS", 60)))
    if ids is not None:
        if not ids:
            return []
        which, params = f"id IN ({', '.join(['%s'] * len(ids))})", list(ids)
    else:
        # The subquery picks candidates (the partial index); the outer WHERE re-checks under the row lock.
        which = (f"id IN (SELECT id FROM {table} WHERE done_at IS NULL AND available_at <= %s"
                 f" AND (claimed_at IS NULL OR claimed_at < %s) ORDER BY id LIMIT %s)")
        params = [adapt(now), adapt(stale), int(limit or 500)]
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET claimed_at = %s, attempts = attempts + 1 WHERE {which} AND done_at IS NULL"
            f" AND (claimed_at IS NULL OR claimed_at < %s) RETURNING id, kind, payload, attempts, created_at",
            [adapt(now), *params, adapt(stale)],
        )
        got = cursor.fetchall()
    return sorted((Message(pk, kind, json.loads(p) if isinstance(p, (str, bytes)) else p, n, at)
                   for pk, kind, p, n, at in got), key=lambda m: m.id)


def process(ids=None, *, now=None, limit=None) -> int:
    """Claim and run rows (`ids`, or the drain's due ones); returns how many ran to completion."""
    return _run(_claim(ids, now=now or timezone.now(), limit=limit))


_may_hand_over = ContextVar("outbox_may_hand_over", default=False)


def may_hand_over() -> bool:
    """May the running handler hand its work to another thread and return that work's Future, instead of
    waiting for it? (Only where the sender thread marks the row done once the Future completes: after a real
    commit with a worker; elsewhere handlers finish their work before they return.)"""
    return _may_hand_over.get()


def _run(messages, *, claimed: bool = True, mark=None) -> int:
    """Run claimed rows (or, `claimed=False`, the committer's own rows right after its commit: their
    attempt is counted when they are marked). `mark`: what marks the committer's rows done (default: an
    UPDATE here and now); with it, a handler may return a Future (see may_hand_over): its row is marked
    when that completes."""
    done, failed = [], []
    token = _may_hand_over.set(mark is not None)
    try:
        for message in messages:
            handler = _handlers.get(message.kind)
            try:
                if handler is None:
                    raise LookupError(f"no outbox handler registered for {message.kind!r}")
                result = handler.func(message.payload, message)
            except Exception as exc:  # noqa: BLE001 — one failing follow-up must not stop the others
                logger.exception("outbox: %s #%s failed (attempt %s)", message.kind, message.id, message.attempts)
                failed.append((message, exc))
            else:
                if isinstance(result, Future):
                    sender().follow(message, result)
                else:
                    done.append(message.id)
    finally:
        _may_hand_over.reset(token)
    counted = {} if claimed else {"attempts": F("attempts") + 1}
    if done and mark is not None:
        mark(done)
    elif done:
        _mark_done(done, count_attempt=not claimed)
    for message, exc in failed:
        _failed(message, exc, **counted)
    return len(done)


def _mark_done(ids, *, count_attempt: bool):
    """`UPDATE … SET done_at, last_error = '' [, attempts + 1] WHERE id IN ids AND done_at IS NULL`, written
    out: it follows every intake, and the ORM's building of it cost more than the statement (py-spy)."""
    conn = transaction.get_connection()
    table = conn.ops.quote_name(OutboxMessage._meta.db_table)
    attempts = ", attempts = attempts + 1" if count_attempt else ""
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET done_at = %s, last_error = ''{attempts} WHERE id IN ({', '.join(['%s'] * len(ids))})"
            " AND done_at IS NULL", [conn.ops.adapt_datetimefield_value(timezone.now()), *ids])


def _failed(message: Message, exc: Exception, **counted):
    waits = tuple(_setting("OUTBOX_BACKOFF_SECONDS", DEFAULT_BACKOFF)) or (60,)
    wait = waits[min(message.attempts, len(waits)) - 1]
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    OutboxMessage.objects.filter(pk=message.id, done_at__isnull=True).update(
        claimed_at=None, available_at=timezone.now() + timedelta(seconds=wait), last_error=error[:MAX_ERROR_CHARS],
        **counted)


def drain(*, now=None, batch: int | None = None, seconds: float | None = None) -> int:
    """The safety net (Celery beat every second; the embedded ticker): run every due row not done, in
    batches, for up to `seconds`; then delete done rows older than OUTBOX_KEEP_DAYS. Returns how many ran."""
    batch = batch or int(_setting("OUTBOX_DRAIN_BATCH", 500))
    seconds = float(_setting("OUTBOX_DRAIN_SECONDS", 0.8)) if seconds is None else seconds
    end = time.monotonic() + seconds
    ran = 0
    while True:
        at = now or timezone.now()
        # Looked for first, without writing: on SQLite a write takes the database's one write lock.
        if not OutboxMessage.objects.filter(done_at__isnull=True, available_at__lte=at).exists():
            break
        messages = _claim(None, now=at, limit=batch)
        ran += _run(messages)
        if len(messages) < batch or time.monotonic() >= end:
            break
    purge(now=now)
    return ran


def purge(*, now=None, limit: int = 5000) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=float(_setting("OUTBOX_KEEP_DAYS", 7)))
    old = list(OutboxMessage.objects.filter(done_at__lt=cutoff).order_by("done_at").values_list("pk", flat=True)[:limit])
    return OutboxMessage.objects.filter(pk__in=old).delete()[0] if old else 0


def status(now=None) -> dict:
    """Counts for staff: rows waiting, rows whose last attempt failed, the oldest waiting one's age (s)."""
    now = now or timezone.now()
    waiting = OutboxMessage.objects.filter(done_at__isnull=True)
    oldest = waiting.order_by("created_at").values_list("created_at", flat=True).first()
    return {"waiting": waiting.count(), "failing": waiting.exclude(last_error="").count(),
            "oldest_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0}
