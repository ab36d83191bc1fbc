"""The embedded default's SLA clock: a daemon thread in the web process runs, once a second, the same
tick that Celery beat sends in production (`services.sweep.keep_sweeping`: sweep, then fire deadlines as they
fall due until the next tick).

Started by the ASGI app (config/asgi.py) only when it should be: not with REDIS_URL set (beat does it),
not under pytest, not in management commands other than runserver, and at most once per process (a
forked child starts its own). The thread closes its database connections around every tick, so a
dropped connection or a long-idle one never poisons the next tick, and logs every error instead of
dying.
"""
import atexit
import logging
import os
import sys
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)


def next_tick(previous_at: float, interval: float, now: float) -> tuple[float, float]:
    """When the next tick is due and how long to wait for it: one interval after the previous one, or
    at once if that moment has passed (a long tick is not made up for with a burst of catch-up ticks)."""
    next_at = max(previous_at + interval, now)
    return next_at, next_at - now


class Ticker:
    """Calls `func` every `interval` seconds on a daemon thread until stopped. A tick that runs long
    delays the next one instead of queueing a burst of catch-up ticks (the sweep catches up itself)."""

    def __init__(self, func, interval: float = 1.0, name: str = "sla-ticker"):
        self.func = func
        self.interval = interval
        self.ticks = 0
        self.errors = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self, timeout: float = 5.0):
        self._stop.set()
        self.thread.join(timeout)

    def is_alive(self) -> bool:
        return self.thread.is_alive()

    def _run(self):
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                close_old_connections()
                try:
                    self.func()
                except Exception:  # noqa: BLE001 — the clock must keep running; the error is logged
                    self.errors += 1
                    logger.exception("%s: tick failed", self.thread.name)
                    connections.close_all()  # this thread's connections: start the next tick clean
                finally:
                    close_old_connections()
                self.ticks += 1
                next_at, wait = next_tick(next_at, self.interval, time.monotonic())
                self._stop.wait(wait)
        finally:
            connections.close_all()


_lock = threading.Lock()


class _OncePerProcess:
    """One background thread of a kind per process: started on first use, again in a forked child (the
    parent's thread does not survive the fork) or when it died."""

    def __init__(self):
        self.pid = None
        self.ticker = None

    def get_or_start(self, make) -> Ticker:
        with _lock:
            if self.pid == os.getpid() and self.ticker is not None and self.ticker.is_alive():
                return self.ticker
            self.ticker, self.pid = make(), os.getpid()
            return self.ticker

    def stop(self):
        with _lock:
            ticker, self.ticker, self.pid = self.ticker, None, None
        if ticker is not None:
            ticker.stop()


_sla = _OncePerProcess()
_webhook_retry = _OncePerProcess()
_drain = _OncePerProcess()
_inspections = _OncePerProcess()
_case_deadlines = _OncePerProcess()
_demo_walk = _OncePerProcess()
_submissions = _OncePerProcess()
# Periodic jobs of apps above the command center (Celery beat's in production), each on a thread of its
# own: name → (interval s, func, its once-per-process holder). Registered from those apps' ready().
_periodic: dict[str, tuple[float, object, _OncePerProcess]] = {}


def every(name: str, interval: float, func):
    """Run `func` every `interval` seconds in the embedded default (`make run`), beside the SLA clock."""
    _periodic[name] = (float(interval), func, _OncePerProcess())


def should_run() -> bool:
    mode = str(getattr(settings, "COMMAND_CENTER_TICKER", "auto")).lower()
    if mode in ("off", "0", "false", "no"):
        return False
    if mode in ("on", "1", "true", "yes"):
        return True
    if getattr(settings, "REDIS_URL", ""):
        return False  # production: Celery beat runs command_center.tasks.sweep
    if "pytest" in sys.modules or os.environ.get("PYTEST_CURRENT_TEST"):
        return False
    prog = os.path.basename(sys.argv[0]) if sys.argv else ""
    if prog in ("manage.py", "django-admin", "django-admin.py"):
        return len(sys.argv) > 1 and sys.argv[1] == "runserver"
    return True


def _sla_tick(interval: float):
    """What Celery beat's `sweep` task does each second: sweep, then keep firing deadlines as they fall
    due until just before the next tick."""
    from command_center.services.sweep import keep_sweeping

    return lambda: keep_sweeping(interval * 0.9)


def start(func=None, interval: float | None = None) -> Ticker:
    """Start this process's ticker (once; again in a forked child). Returns it."""
    interval = interval or float(getattr(settings, "COMMAND_CENTER_TICK_SECONDS", 1.0))

    def make():
        ticker = Ticker(func or _sla_tick(interval), interval).start()
        logger.info("SLA ticker started in process %s (every %.1f s)", os.getpid(), interval)
        return ticker

    return _sla.get_or_start(make)


def stop():
    _sla.stop()


def start_if_embedded() -> Ticker | None:
    if not should_run():
        return None
    # Webhook retries on their own thread, once a minute (beat's job in production), so a slow
    # platform endpoint never delays the SLA sweep.
    from command_center.webhooks import retry_due

    _webhook_retry.get_or_start(lambda: Ticker(retry_due, 60.0, name="webhook-retry").start())
    for name, (interval, func, holder) in _periodic.items():
        holder.get_or_start(lambda name=name, interval=interval, func=func: Ticker(func, interval, name=name).start())
    # Case deadlines and disclosures (beat's cases.tasks.check_deadlines in production), every 5 minutes.
    from cases.services import check_deadlines

    _case_deadlines.get_or_start(lambda: Ticker(check_deadlines, 300.0, name="case-deadlines").start())
    # Overdue rectifications (beat's inspections.tasks.sweep_overdue in production), once a minute.
    from inspections.services import sweep_overdue

    _inspections.get_or_start(lambda: Ticker(sweep_overdue, 60.0, name="inspections-overdue").start())
    start_drain()
    start_submissions()
    if getattr(settings, "DEMO_SIMULATION", False):
        start_demo_walk()
    return start()


def start_demo_walk(interval: float | None = None) -> Ticker:
    """The embedded demo's officers keep walking and reporting positions (command_center.walk.DemoWalk),
    on a thread of its own at a gentle cadence (DEMO_SIMULATION_TICK_SECONDS), stopped at exit. Only
    when DEMO_SIMULATION is on: `make run` turns it on, tests and production leave it off."""
    from command_center.walk import DemoWalk

    interval = interval or float(getattr(settings, "DEMO_SIMULATION_TICK_SECONDS", 5.0))
    lap = float(getattr(settings, "DEMO_SIMULATION_LAP_SECONDS", 60.0))

    def make():
        walk = DemoWalk(interval=interval, lap_seconds=lap)
        ticker = Ticker(walk.step, interval, name="demo-walk").start()
        logger.info("Demo walk started in process %s (every %.1f s, each on-duty officer once in %.0f s)",
                    os.getpid(), interval, lap)
        return ticker

    ticker = _demo_walk.get_or_start(make)
    atexit.register(stop_demo_walk)
    return ticker


def stop_demo_walk():
    _demo_walk.stop()


def start_drain(interval: float | None = None) -> Ticker:
    """The outbox's safety net (Celery beat's core.tasks.drain_outbox in production): follow-ups a commit
    left undone run within about a second, on a thread of its own beside the SLA clock. Once per process."""
    from core.outbox import drain

    interval = interval or float(getattr(settings, "OUTBOX_DRAIN_INTERVAL_SECONDS", 1.0))
    return _drain.get_or_start(lambda: Ticker(drain, interval, name="outbox-drain").start())


def stop_drain():
    _drain.stop()


def start_submissions(interval: float | None = None) -> Ticker:
    """Asynchronous intake's worker (Celery beat's command_center.tasks.process_event_submissions in
    production): submissions accepted with 202 are processed within about a second, on a thread of
    its own. Once per process."""
    from command_center.submissions import work

    interval = interval or float(getattr(settings, "COMMAND_CENTER_TICK_SECONDS", 1.0))
    return _submissions.get_or_start(lambda: Ticker(work, interval, name="event-submissions").start())


def stop_submissions():
    _submissions.stop()
