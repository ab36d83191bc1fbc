"""The embedded default's in-process SLA ticker."""
import threading
import time

import pytest

from command_center import ticker


def test_ticker_calls_repeatedly_and_survives_errors(caplog):
    calls = []
    two_done = threading.Event()

    def tick():
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("database went away")
        if len(calls) >= 4:
            two_done.set()

    t = ticker.Ticker(tick, interval=0.01).start()
    try:
        assert two_done.wait(5)
    finally:
        t.stop()
    assert not t.is_alive() and t.thread.daemon
    assert t.errors == 1 and len(calls) >= 4
    assert "database went away" in caplog.text


def test_ticker_does_not_burst_after_a_slow_tick():
    # on time: the next tick one interval after the previous one
    assert ticker.next_tick(10.0, 1.0, now=10.2) == (11.0, pytest.approx(0.8))
    # after a tick ten intervals long, the next runs at once and the schedule restarts from now:
    # the missed ten are not made up for in a burst
    next_at, wait = ticker.next_tick(10.0, 1.0, now=20.0)
    assert (next_at, wait) == (20.0, 0.0)
    assert ticker.next_tick(next_at, 1.0, now=20.01) == (21.0, pytest.approx(0.99))


def test_should_run_guards(settings, monkeypatch):
    settings.COMMAND_CENTER_TICKER = "auto"
    settings.REDIS_URL = ""
    assert ticker.should_run() is False  # under pytest
    monkeypatch.delitem(__import__("sys").modules, "pytest")
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.setattr("sys.argv", ["manage.py", "migrate"])
    assert ticker.should_run() is False
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
    assert ticker.should_run() is True
    monkeypatch.setattr("sys.argv", ["/usr/lib/python3/site-packages/daphne/__main__.py", "config.asgi:application"])
    assert ticker.should_run() is True
    settings.REDIS_URL = "redis://localhost:6379/0"
    assert ticker.should_run() is False  # production: Celery beat
    settings.COMMAND_CENTER_TICKER = "on"
    assert ticker.should_run() is True
    settings.COMMAND_CENTER_TICKER = "off"
    settings.REDIS_URL = ""
    assert ticker.should_run() is False


def test_start_is_once_per_process():
    n = []
    try:
        first = ticker.start(lambda: n.append(1), interval=0.05)
        assert ticker.start(lambda: n.append(2), interval=0.05) is first
    finally:
        ticker.stop()
    assert set(n) <= {1}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ticker_runs_the_real_sweep_on_its_own_connection(report):
    from datetime import timedelta

    from command_center.models import Breach, Deadline

    e = report()
    Deadline.objects.filter(event=e, stage="respond").update(due_at=e.created_at - timedelta(seconds=1))
    real_tick = ticker._sla_tick(0.05)
    fired = threading.Event()

    def tick():
        # The check runs on the ticker's own thread: the test's thread keeps off the database while the
        # ticker writes (polling from here met SQLite's "database table is locked" now and then).
        real_tick()
        if Breach.objects.filter(event=e).exists():
            fired.set()

    t = ticker.start(tick, interval=0.05)
    try:
        assert fired.wait(10), "the sweep did not fire the due deadline"
    finally:
        ticker.stop()
    assert Breach.objects.filter(event=e).count() == 1 and t.errors == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_embedded_drain_runs_what_a_dead_process_left(settings):
    """`make run`'s outbox drain: a row nobody ran (its process died after the commit) is run on the
    ticker's own thread and connection."""
    from django.utils import timezone

    from core import outbox
    from core.models import OutboxMessage

    ran = []
    handled = threading.Event()

    def handler(payload, message):
        ran.append(payload["n"])
        handled.set()

    outbox.register("test.ticker", "test.ticker.kind", handler)
    row = OutboxMessage.objects.create(kind="test.ticker.kind", payload={"n": 5}, available_at=timezone.now())
    t = ticker.start_drain(interval=0.05)
    try:
        assert ticker.start_drain() is t  # once per process
        # Wait on the drain's own signal, off the database: stop_drain() then joins the thread, so the
        # tick that ran the row has marked it done before the test reads it.
        assert handled.wait(10), "the drain did not run the row"
    finally:
        ticker.stop_drain()
        outbox._handlers.pop("test.ticker.kind")
        outbox._by_topic.pop("test.ticker")
    assert ran == [5] and t.errors == 0
    assert OutboxMessage.objects.filter(pk=row.pk, done_at__isnull=False).exists()
