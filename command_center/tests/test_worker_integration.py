"""The SLA clock in its production shape: a real Celery worker process with embedded beat (`-B`: beat sends
`command_center.tasks.sweep` every second, the worker runs it) on PostgreSQL + Redis, and a real websocket
client on a daphne process. Beat rather than calling the task: the schedule is part of what is tested.

(a) post an event over HTTP, see `event.created` pushed; its short-policy deadline passes and the worker's
    sweep fires it: `sla.breached` is pushed exactly once.
(b) SIGKILL the worker (its whole process group: pool, beat) while it is firing a spread of deadlines, start
    another: every deadline fires, none twice, no half-written fire.
"""
import asyncio
import contextlib
import json
import os
import random
import signal
import time
from datetime import timedelta

import httpx
import pytest
import websockets
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from rest_framework.authtoken.models import Token

from command_center.choices import Action
from command_center.models import Breach, Deadline, Escalation, Event, TimelineEntry
from command_center.services import policies
from command_center.testing import S1_POINT
from config.celery import app
from core.models import AuditLog
from tests_integration.conftest import LiveProcess, free_port, live_env, python_cmd, wait_for_port
from tests_integration.test_websocket_live import PASSWORD, login

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# respond within 3 seconds (0.05 minutes), escalated to the team leader when missed
SHORT_POLICY = [{"stage": "respond", "minutes": 0.05, "met_by": "accept", "escalate_to": "team_leader"}]


def _worker(tmp_path, name) -> LiveProcess:
    cmd = python_cmd("-m", "celery", "-A", "config", "worker", "-B", "--schedule", str(tmp_path / f"beat-{name}"),
                     "--pool=solo", "--without-gossip", "--without-mingle",
                     "--without-heartbeat", "--loglevel=INFO", "-n", f"{name}@%h")
    return LiveProcess(cmd, live_env(connection.settings_dict["NAME"]), tmp_path / f"{name}.log")


def _wait(predicate, timeout, what, proc=None, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.proc.poll() is not None:
            pytest.fail(f"{what}: the worker exited with {proc.proc.returncode}:\n{proc.output()}")
        time.sleep(interval)
    pytest.fail(f"{what}: not within {timeout} s" + (f"; worker log:\n{proc.output()}" if proc else ""))


@pytest.fixture
def clean_broker():
    """Tasks an earlier test queued for a worker that wasn't there must not run against this one's rows."""
    app.control.purge()
    yield
    app.control.purge()


async def _feed(base, session, post_event, breach_wait):
    """Connect to /ws/command/, post the event, collect messages until its breach and `breach_wait` s more."""
    headers = {"Cookie": f"sessionid={session}", "Origin": f"http://{base}"}
    async with websockets.connect(f"ws://{base}/ws/command/", additional_headers=headers, open_timeout=20) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
        assert hello["type"] == "hello", hello
        event_id = await asyncio.to_thread(post_event)
        messages, breached_at = [], None
        end = time.monotonic() + 60
        while time.monotonic() < end and (breached_at is None or time.monotonic() < breached_at + breach_wait):
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5))
            except asyncio.TimeoutError:
                continue
            if msg.get("event", {}).get("id") == event_id:
                messages.append(msg)
                if msg["type"] == "sla.breached" and breached_at is None:
                    breached_at = time.monotonic()
        return event_id, messages


def test_breach_fired_by_the_worker_is_pushed_once(tmp_path, clean_broker, users, catalog, district):
    policies.save_policy(users["bureau"], street=district["S1"], severity="yellow", stages=SHORT_POLICY, name="3秒")
    hasher = PBKDF2PasswordHasher()  # the live server checks passwords with its own (real) hashers
    dispatcher = users["dispatcher"]
    dispatcher.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    dispatcher.save(update_fields=["password"])
    token = Token.objects.create(user=users["platform"]).key
    port = free_port()
    base = f"127.0.0.1:{port}"
    web = LiveProcess(python_cmd("-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"),
                      live_env(connection.settings_dict["NAME"], ALLOWED_HOSTS="127.0.0.1,localhost"),
                      tmp_path / "daphne.log")
    with web, _worker(tmp_path, "sla-a") as worker:
        wait_for_port(port, web, timeout=60)
        session = login(base, "dispatcher", PASSWORD)

        def post_event():
            lat, lng = S1_POINT
            r = httpx.post(f"http://{base}/api/v1/events/", timeout=20, headers={"Authorization": f"Token {token}"},
                           json={"source": "citizen", "problem_type": "ZDJY", "description": "人行道上有流动摊贩",
                                 "lat": lat, "lng": lng, "severity": "yellow"})
            assert r.status_code == 201, r.text
            return r.json()["id"]

        event_id, messages = asyncio.run(_feed(base, session, post_event, breach_wait=2.0))
        kinds = [m["type"] for m in messages]
        assert "event.created" in kinds, (kinds, worker.output())
        breaches = [m for m in messages if m["type"] == "sla.breached"]
        assert len(breaches) == 1, (kinds, worker.output())
        assert breaches[0]["breach"]["stage"] == "respond" and breaches[0]["event"]["escalation_level"] >= 2
        assert kinds.index("event.created") < kinds.index("sla.breached")
        assert "command_center.tasks.sweep" in worker.output()
    deadline = Deadline.objects.get(event_id=event_id, stage="respond")
    assert Breach.objects.filter(event_id=event_id).count() == 1 and deadline.fired_at >= deadline.due_at
    assert TimelineEntry.objects.filter(event_id=event_id, action=Action.BREACH).count() == 1


def _spread_of_deadlines(district, teams, n, start, spread):
    """n events in S1, each with one open deadline, due at random over `spread` s from `start`
    (bulk-inserted: intake one by one would take longer than the test may)."""
    grid, street = district["S1G1M1"], district["S1"]
    now = timezone.now()
    events = Event.objects.bulk_create([
        Event(source="citizen", problem_type_code="ZDJY", problem_type_name="占道经营", matter_code="M-ZD",
              description=f"批量事件 {i}", lat=S1_POINT[0], lng=S1_POINT[1], area=grid, grid=district["S1G1"],
              street=street, team=teams["S1"], severity="yellow", status="new", created_at=now)
        for i in range(n)
    ])
    rng = random.Random(4)
    return Deadline.objects.bulk_create([
        Deadline(event=e, stage="respond", position=0, met_by="accept", escalate_to="team_leader",
                 policy_name="批量", due_at=start + timedelta(seconds=rng.uniform(0, spread)))
        for e in events
    ])


def test_killing_the_worker_mid_sweep_loses_no_breach_and_fires_none_twice(tmp_path, clean_broker, users, catalog,
                                                                            district, teams):
    n = 800
    first = _worker(tmp_path, "sla-a")
    try:
        _wait(lambda: "beat: Starting" in first.output() and " ready." in first.output(), 60, "worker + beat up",
              first)
        made = _spread_of_deadlines(district, teams, n, timezone.now() + timedelta(seconds=0.5), spread=8.0)
        ids = [d.pk for d in made]
        fired = Deadline.objects.filter(pk__in=ids, fired_at__isnull=False)
        _wait(lambda: fired.count(), 30, "the first fires", first, interval=0.02)
    finally:
        # The whole group at once: the worker (the solo pool runs the sweep in it) and its beat process.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.proc.pid, signal.SIGKILL)
        first.stop(timeout=5)
    assert first.proc.returncode == -signal.SIGKILL
    at_kill = fired.count()
    assert 0 < at_kill < n  # killed while firing: the later ones were not even due yet
    # No half-written fire: whatever the kill interrupted rolled back whole.
    assert Deadline.objects.filter(pk__in=ids, fired_at__isnull=False, breach__isnull=True).count() == 0
    with _worker(tmp_path, "sla-b") as second:
        _wait(lambda: fired.count() == n, 60, "all fired after the restart", second, interval=0.2)
    assert Breach.objects.filter(deadline_id__in=ids).count() == n
    events = [d.event_id for d in made]
    twice = (Breach.objects.filter(event_id__in=events).values("event_id").annotate(k=Count("id")).filter(k__gt=1))
    assert not twice.exists()
    assert Escalation.objects.filter(breach__deadline_id__in=ids).count() == n
    assert TimelineEntry.objects.filter(event_id__in=events, action=Action.BREACH).count() == n
    assert AuditLog.objects.filter(action="event.sla_breached", object_id__in=[str(e) for e in events]).count() == n
    early = [d for d in Deadline.objects.filter(pk__in=ids) if d.fired_at < d.due_at]
    assert early == []
