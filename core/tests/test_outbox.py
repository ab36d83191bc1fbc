"""core.outbox: follow-ups written in the change's transaction, run right after its commit, and by the
drain when the process died first; claimed exactly once, retried with backoff, purged when old."""
import os
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core import outbox, tasks
from core.models import OutboxMessage

pytestmark = pytest.mark.django_db

TOPIC = "test.thing_changed"


@pytest.fixture
def calls():
    """Two handlers on TOPIC (one deferred, one only for payloads with "n" > 0); every call recorded."""
    got = []
    lock = threading.Lock()

    def record(name):
        def handler(payload, message):
            if payload.get("fail"):
                raise RuntimeError("boom")
            with lock:
                got.append((name, payload["n"], message.id))
        return handler

    outbox.register(TOPIC, "test.a", record("a"))
    outbox.register(TOPIC, "test.b", record("b"), deferred=True, wants=lambda p: p["n"] > 0)
    yield got
    for kind in ("test.a", "test.b"):
        h = outbox._handlers.pop(kind)
        outbox._by_topic[h.topic] = [x for x in outbox._by_topic[h.topic] if x.kind != kind]


@pytest.fixture(autouse=True)
def _sender_done():
    """No send of this test's ids still in flight on the process's sender when the next test starts."""
    yield
    assert outbox.wait_sent(10)


def later(seconds=3):
    return timezone.now() + timedelta(seconds=seconds)


def test_rows_are_written_in_the_transaction_and_run_right_after_the_commit(calls, settings,
                                                                            django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # also on the PostgreSQL + Redis pass
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            ids = outbox.publish(TOPIC, {"n": 1})
            assert OutboxMessage.objects.filter(pk__in=ids).count() == 2 and calls == []  # nothing before the commit
    assert sorted(c[0] for c in calls) == ["a", "b"]  # tasks are eager here: the deferred one ran inline too
    assert OutboxMessage.objects.filter(pk__in=ids, done_at__isnull=False, attempts=1).count() == 2
    assert outbox.drain(now=later()) == 0


def test_a_rollback_leaves_no_follow_up(calls, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            outbox.publish(TOPIC, {"n": 1})
            1 / 0
    assert calls == [] and callbacks == [] and not OutboxMessage.objects.exists()


def test_wants_decides_at_publish(calls, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        outbox.publish(TOPIC, {"n": 0})
    assert [c[0] for c in calls] == ["a"] and OutboxMessage.objects.get().kind == "test.a"


def test_killed_after_the_commit_the_drain_runs_it_once(calls, django_capture_on_commit_callbacks):
    """The process died between the commit and its callbacks (simulated: they are never run)."""
    with django_capture_on_commit_callbacks(execute=False):
        outbox.publish_many(TOPIC, [{"n": 1}, {"n": 2}])
    assert calls == []
    assert outbox.drain() == 0  # too fresh: the committing process may still be on it
    assert outbox.drain(now=later()) == 4
    assert sorted((c[0], c[1]) for c in calls) == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
    assert outbox.drain(now=later()) == 0 and outbox.drain(now=later(3600)) == 0
    assert len(calls) == 4 and not OutboxMessage.objects.filter(done_at__isnull=True).exists()


def test_a_row_claimed_by_a_runner_that_died_is_run_again_once_its_claim_is_stale(calls, settings,
                                                                                  django_capture_on_commit_callbacks):
    settings.OUTBOX_CLAIM_SECONDS = 60
    with django_capture_on_commit_callbacks(execute=False):
        (row_id,) = outbox.publish(TOPIC, {"n": 0})
    assert [m.id for m in outbox._claim([row_id], now=timezone.now())] == [row_id]  # claimed; then it died
    assert outbox._claim([row_id], now=timezone.now()) == []  # nobody else while the claim is fresh
    assert outbox.drain(now=later(30)) == 0 and calls == []
    assert outbox.drain(now=later(61)) == 1 and len(calls) == 1
    assert OutboxMessage.objects.get().attempts == 2


def test_a_failing_handler_is_retried_with_backoff_and_shows_its_error(calls, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.OUTBOX_BACKOFF_SECONDS = (5, 30)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.publish(TOPIC, {"n": 0, "fail": True})
    row = OutboxMessage.objects.get()
    assert row.done_at is None and row.claimed_at is None and row.attempts == 1
    assert "RuntimeError: boom" in row.last_error
    assert timezone.now() + timedelta(seconds=4) < row.available_at <= timezone.now() + timedelta(seconds=5)
    assert outbox.status()["failing"] == 1
    assert outbox.drain(now=row.available_at - timedelta(seconds=1)) == 0
    outbox.drain(now=row.available_at + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.attempts == 2 and row.available_at > timezone.now() + timedelta(seconds=25)  # the next wait
    outbox.drain(now=row.available_at + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.attempts == 3 and row.available_at > timezone.now() + timedelta(seconds=25)  # the last repeats
    OutboxMessage.objects.filter(pk=row.pk).update(payload={"n": 7})  # the cause is fixed
    assert outbox.drain(now=row.available_at + timedelta(seconds=1)) == 1
    row.refresh_from_db()
    assert row.done_at is not None and row.last_error == "" and calls == [("a", 7, row.pk)]
    assert outbox.status() == {"waiting": 0, "failing": 0, "oldest_seconds": 0}


def test_a_kind_nobody_handles_fails_visibly(django_capture_on_commit_callbacks):
    row = OutboxMessage.objects.create(kind="gone.handler", payload={}, available_at=timezone.now())
    assert outbox.drain() == 0
    row.refresh_from_db()
    assert row.done_at is None and "no outbox handler" in row.last_error


def test_deferred_rows_go_to_a_worker_after_the_commit(calls, settings, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(outbox, "enqueue_deferred", lambda ids, producer=None: queued.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        a, b = outbox.publish(TOPIC, {"n": 1})
    assert outbox.wait_sent() and [c[0] for c in calls] == ["a"] and queued == [[b]]  # the in-place one ran; the other is queued
    assert tasks.process_outbox.run([b]) == 1 and [c[0] for c in calls] == ["a", "b"]
    assert tasks.process_outbox.run([b]) == 0  # a duplicate task finds it done


def test_a_broker_that_is_down_loses_nothing(calls, settings, monkeypatch, caplog, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def down(ids, producer=None):
        raise ConnectionError("broker down")

    monkeypatch.setattr(outbox, "enqueue_deferred", down)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.publish(TOPIC, {"n": 1})
    assert outbox.wait_sent() and [c[0] for c in calls] == ["a"] and "could not enqueue" in caplog.text
    assert outbox.drain(now=later()) == 1 and [c[0] for c in calls] == ["a", "b"]


def test_old_done_rows_are_purged(settings):
    settings.OUTBOX_KEEP_DAYS = 7
    now = timezone.now()
    old = OutboxMessage.objects.create(kind="x", done_at=now - timedelta(days=8))
    recent = OutboxMessage.objects.create(kind="x", done_at=now - timedelta(days=6))
    undone = OutboxMessage.objects.create(kind="x", created_at=now - timedelta(days=30), available_at=now + timedelta(days=1))
    outbox.drain()
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, undone.pk}
    assert old.pk not in OutboxMessage.objects.values_list("pk", flat=True)


def test_the_drain_is_on_beat_every_second(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["core-outbox-drain"]
    assert entry["task"] == tasks.drain_outbox.name and entry["schedule"] == 1.0


def test_staff_see_the_outbox_read_only(client, users):
    OutboxMessage.objects.create(kind="x.failing", last_error="RuntimeError: boom", available_at=timezone.now())
    client.force_login(users["bureau"])
    page = client.get("/admin/core/outboxmessage/?state=failing")
    assert page.status_code == 200 and "x.failing" in page.content.decode()
    assert client.get("/admin/core/outboxmessage/add/").status_code == 403
    client.force_login(users["dispatcher"])
    assert client.get("/admin/core/outboxmessage/").status_code in (302, 403)


def test_two_drainers_that_saw_the_same_rows(calls, django_capture_on_commit_callbacks):
    """Sequential stand-in for two processes (SQLite serialises writers): both looked at the due rows,
    the first ran them; the second's conditional UPDATE then claims none."""
    with django_capture_on_commit_callbacks(execute=False):
        ids = outbox.publish(TOPIC, {"n": 1})
    now = later()
    assert outbox.process(ids, now=now) == 2 and outbox.process(ids, now=now) == 0
    assert outbox.process(now=now) == 0 and len(calls) == 2


@pytest.mark.integration  # real concurrency: PostgreSQL (SQLite's shared in-memory test database locks tables)
@pytest.mark.django_db(transaction=True)
def test_concurrent_drainers_run_each_row_once(calls, settings):
    assert connection.vendor == "postgresql"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with transaction.atomic():
        outbox.publish_many(TOPIC, [{"n": i} for i in range(1, 31)])  # 60 rows
    # The commit ran them in place already (eager); make them undone again, as if the process had died.
    calls.clear()
    OutboxMessage.objects.update(done_at=None, claimed_at=None, available_at=timezone.now() - timedelta(seconds=1))
    barrier = threading.Barrier(3)
    errors = []

    def drain():
        try:
            barrier.wait(timeout=10)
            outbox.drain(batch=7, seconds=30)  # not the default 0.8 s budget: a busy machine left rows
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(calls) == 60 and len({c[2] for c in calls}) == 60
    assert not OutboxMessage.objects.filter(done_at__isnull=True).exists()


def test_the_enqueue_is_one_message_whose_result_nobody_waits_for(monkeypatch):
    """No result-backend subscription per commit (the rows record what happened)."""
    from celery import current_app

    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kw: sent.append((name, kw)))
    outbox.enqueue_deferred([3, 4])
    (name, kw), = sent
    assert name == outbox.PROCESS_TASK and kw["args"] == [[3, 4]] and kw["ignore_result"] is True


# --- the per-process sender: one message for the commits of the same moment -------------------------

class Recorder:
    """A stand-in for the Celery send: records each message's ids; `hold` keeps the first send in flight
    until released, so the commits that follow it pile up behind."""

    def __init__(self, hold=False):
        self.sent, self.started, self.release = [], threading.Event(), threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, ids, producer=None):
        self.started.set()
        assert self.release.wait(10)
        self.sent.append(list(ids))


def _commit(n):
    """One transaction publishing TOPIC (its deferred row: the "b" handler's), committed; the row ids."""
    with transaction.atomic():
        return outbox.publish(TOPIC, {"n": n})


def test_commits_made_while_a_send_is_in_flight_share_one_message(calls, settings, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    send = Recorder(hold=True)
    monkeypatch.setattr(outbox, "enqueue_deferred", send)
    with django_capture_on_commit_callbacks(execute=True):
        first = _commit(1)
    assert send.started.wait(10)  # the lone commit went out at once, without waiting for company
    later_ids = []
    for n in range(2, 6):
        with django_capture_on_commit_callbacks(execute=True):
            later_ids += _commit(n)
    send.release.set()
    assert outbox.wait_sent(10)
    deferred = set(OutboxMessage.objects.filter(kind="test.b").values_list("pk", flat=True))
    assert send.sent == [[first[1]], [i for i in later_ids if i in deferred]]  # 5 commits, 2 messages
    assert sorted(sum(send.sent, [])) == sorted(deferred) and len(deferred) == 5


def test_a_lone_commit_is_sent_without_waiting_for_another(calls, settings, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    send = Recorder()
    monkeypatch.setattr(outbox, "enqueue_deferred", send)
    with django_capture_on_commit_callbacks(execute=True):
        a, b = _commit(1)
    assert send.started.wait(10) and outbox.wait_sent(10) and send.sent == [[b]]


def test_a_big_backlog_goes_in_bounded_messages(settings, monkeypatch):
    send = Recorder(hold=True)
    monkeypatch.setattr(outbox, "enqueue_deferred", send)
    sender = outbox.DeferredSender(limit=100, batch_max=4)
    assert sender.submit([1]) and send.started.wait(10)
    assert sender.submit(list(range(2, 12)))
    assert not sender.submit(list(range(12, 200)))  # past the bound: refused, left to the drain
    send.release.set()
    assert sender.wait_idle(10)
    assert send.sent == [[1], [2, 3, 4, 5], [6, 7, 8, 9], [10, 11]]


def test_a_full_sender_queue_is_logged_and_left_to_the_drain(calls, settings, monkeypatch, caplog,
                                                             django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(outbox.sender(), "limit", 0)
    send = Recorder()
    monkeypatch.setattr(outbox, "enqueue_deferred", send)
    with django_capture_on_commit_callbacks(execute=True):
        _commit(1)
    assert outbox.wait_sent() and send.sent == [] and "sender queue full" in caplog.text
    assert outbox.drain(now=later()) == 1 and [c[0] for c in calls] == ["a", "b"]


def test_a_failed_send_does_not_stop_the_next(calls, settings, monkeypatch, caplog,
                                              django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    outcomes = [ConnectionError("broker down"), None]
    sent = []

    def flaky(ids, producer=None):
        outcome = outcomes.pop(0)
        if outcome:
            raise outcome
        sent.append(ids)

    monkeypatch.setattr(outbox, "enqueue_deferred", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        lost = _commit(1)
    assert outbox.wait_sent() and "could not enqueue" in caplog.text
    with django_capture_on_commit_callbacks(execute=True):
        kept = _commit(2)
    assert outbox.wait_sent() and sent == [[kept[1]]]
    assert outbox.drain(now=later()) == 2  # the lost message's row, and the other's: no worker here
    assert OutboxMessage.objects.filter(pk=lost[1], done_at__isnull=False).exists()


def test_a_forked_child_gets_a_sender_of_its_own(monkeypatch):
    parent = outbox.sender()
    assert outbox.sender() is parent and parent.alive()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave at once (no pytest teardown here)
        try:
            child = outbox.sender()
            sent = []
            outbox.enqueue_deferred = lambda ids, producer=None: sent.append(ids)
            ok = (child is not parent and child.pid == os.getpid() and child.alive()
                  and child.submit([7]) and child.wait_idle(10) and sent == [[7]])
            os.write(write, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        assert answer.read() == b"ok"
    os.waitpid(pid, 0)
    assert outbox.sender() is parent


def test_the_sender_sends_on_its_own_producer_with_the_queue_declared_once(monkeypatch):
    """Its producer's connection has the task's queue declared when taken: no maybe_declare per message."""
    from celery import current_app

    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kw: sent.append((name, kw)))
    sender = outbox.DeferredSender(limit=10, batch_max=10)
    try:
        assert sender.submit([1]) and sender.wait_idle(10) and sender.submit([2]) and sender.wait_idle(10)
        assert [kw["args"] for _name, kw in sent] == [[[1]], [[2]]]
        assert all(kw["declare"] == [] and kw["ignore_result"] is True for _name, kw in sent)
        assert sent[0][1]["producer"] is sent[1][1]["producer"] is not None
    finally:
        sender._drop_producer()


def test_under_a_steady_stream_one_message_per_interval_carries_the_commits_between(monkeypatch):
    send = Recorder()
    monkeypatch.setattr(outbox, "enqueue_deferred", send)
    sender = outbox.DeferredSender(limit=100, batch_max=100, interval=1.0)
    assert sender.submit([1]) and send.started.wait(10)  # the first goes at once
    for n in range(2, 7):  # five more within the interval: they wait for its end, together
        assert sender.submit([n])
    assert sender.wait_idle(10)
    assert send.sent == [[1], [2, 3, 4, 5, 6]]


@pytest.mark.integration  # the sender's connection writes beside the committer's: PostgreSQL
@pytest.mark.django_db(transaction=True)
def test_after_a_real_commit_the_in_place_rows_are_marked_done_by_the_sender_in_one_update(calls, settings,
                                                                                          monkeypatch):
    """Not a statement and a commit per intake in the request: the sender thread marks the in-place rows of
    the commits of its interval together (the rows are committed, so its own connection sees them)."""
    assert connection.vendor == "postgresql"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(outbox, "enqueue_deferred", Recorder())
    marks = []
    real_mark = outbox._mark_done

    def mark(ids, *, count_attempt):
        marks.append((threading.current_thread().name, sorted(ids)))
        real_mark(ids, count_attempt=count_attempt)

    monkeypatch.setattr(outbox, "_mark_done", mark)
    ids = [_commit(n)[0] for n in range(1, 4)]  # each: the in-place "a" row and the deferred "b" row
    assert sorted(c[0] for c in calls) == ["a", "a", "a"] and outbox.wait_sent(10)
    assert {name for name, _ids in marks} == {"outbox-sender"} and sorted(sum((m for _n, m in marks), [])) == ids
    assert OutboxMessage.objects.filter(pk__in=ids, done_at__isnull=False, attempts=1).count() == 3


def test_a_full_mark_queue_marks_in_the_committer(calls, settings, monkeypatch):
    monkeypatch.setattr(outbox.sender(), "limit", 0)
    with transaction.atomic():
        ids = outbox.publish(TOPIC, {"n": 0})  # the in-place row only
    outbox._mark_later(ids)
    assert OutboxMessage.objects.filter(pk__in=ids, done_at__isnull=False, attempts=1).count() == 1


@pytest.mark.integration  # the row is marked by the sender's connection (see the test above)
@pytest.mark.django_db(transaction=True)
def test_a_handler_may_hand_its_work_over_and_its_row_is_marked_when_that_completes(settings, monkeypatch):
    from concurrent.futures import Future

    assert connection.vendor == "postgresql"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    works, asked = [], []

    def handler(payload, message):
        asked.append(outbox.may_hand_over())
        work = Future()
        works.append(work)
        return work

    outbox.register("test.handed", "test.handed", handler)
    try:
        with transaction.atomic():
            (row,) = outbox.publish("test.handed", {"n": 1})
        assert asked == [True] and not outbox.wait_sent(0.2)  # its work is still running: not idle
        assert OutboxMessage.objects.get(pk=row).done_at is None
        works[0].set_result(None)
        assert outbox.wait_sent(10) and OutboxMessage.objects.get(pk=row).done_at is not None
        with transaction.atomic():
            (failing,) = outbox.publish("test.handed", {"n": 2})
        works[1].set_exception(ConnectionError("redis is down"))
        assert outbox.wait_sent(10) and OutboxMessage.objects.get(pk=failing).done_at is None  # the drain's
    finally:
        outbox._by_topic["test.handed"] = []
        outbox._handlers.pop("test.handed")
    assert not outbox.may_hand_over()  # only while the committer runs its rows


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_the_committer_marks_its_in_place_rows_itself(calls, settings, monkeypatch):
    """One writer: the sender thread's mark would wait behind the next commit (in the shared in-memory test
    database it failed at once, "database table is locked"), so the committer marks its rows as it goes."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's rule; on PostgreSQL the sender thread marks them (the test above)")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(outbox, "enqueue_deferred", Recorder())
    marks, handed = [], []
    real_mark = outbox._mark_done

    def mark(ids, *, count_attempt):
        marks.append(threading.current_thread().name)
        real_mark(ids, count_attempt=count_attempt)

    monkeypatch.setattr(outbox, "_mark_done", mark)
    outbox.register(TOPIC, "test.a", lambda payload, message: handed.append(outbox.may_hand_over()))
    for n in range(1, 4):
        _commit(n)
    assert outbox.wait_sent(10) and set(marks) == {threading.current_thread().name} and handed == [False] * 3
    assert OutboxMessage.objects.filter(kind="test.a", done_at__isnull=False, attempts=1).count() == 3


def test_inside_a_transaction_or_with_eager_tasks_no_handler_hands_over(calls, settings,
                                                                       django_capture_on_commit_callbacks):
    seen = []
    outbox.register(TOPIC, "test.a", lambda payload, message: seen.append(outbox.may_hand_over()))
    for eager in (True, False):
        settings.CELERY_TASK_ALWAYS_EAGER = eager
        with django_capture_on_commit_callbacks(execute=True):
            _commit(0)
    assert seen == [False, False]
