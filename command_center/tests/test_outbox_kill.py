"""The kill test of the durable follow-ups (core.outbox), in production's shape: a uvicorn web process and a
Celery worker with beat on PostgreSQL + Redis. A burst of reports; the web process is SIGKILLed mid-burst
(whatever it had committed but not yet followed up is left in the outbox), restarted; the client retries
what got no answer with the same Idempotency-Key. Then every created event is dispatched (automatic rule),
its `event.created` webhook delivered exactly once to a local receiver, and its `event.created` push seen
exactly once on the district stream (or, for a push lost between taking its seq and sending it, a gap in
the stream's seq: what makes the desk resync).
"""
import asyncio
import contextlib
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from channels.layers import channel_layers
from django.db import connection
from django.db.models import F
from django.utils import timezone
from rest_framework.authtoken.models import Token

from command_center import push
from command_center.choices import Status
from command_center.models import DispatchRule, Event, WebhookDelivery, WebhookSubscription
from command_center.testing import S1_POINT
from command_center.testing import Receiver
from config.celery import app
from core.models import OutboxMessage
from grids import accounts
from grids.models import Officer
from tests_integration.conftest import LiveProcess, free_port, live_env, python_cmd, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

N_EVENTS = 24
KILL_AFTER = 8  # answers seen before the kill
# Short claims, so a row the killed server had claimed is taken again within the test's time.
# The webhook receiver listens on loopback, which deliveries refuse unless allowed.
FAST = {"OUTBOX_CLAIM_SECONDS": "4", "OUTBOX_DRAIN_AFTER_SECONDS": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}


class PushListener:
    """A member of the district group on the Redis channel layer, in a thread of its own: every message
    the web process and the worker push, as the desk's consumer would get it."""

    def __init__(self):
        self.payloads = []
        self.ready = threading.Event()
        self._loop = self._task = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "listener did not join the group"

    def _main(self):
        asyncio.run(self._run())

    async def _run(self):
        layer = channel_layers.make_backend("default")
        channel = await layer.new_channel()
        await layer.group_add(push.DISTRICT_GROUP, channel)
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self.ready.set()
        try:
            while True:
                message = await layer.receive(channel)
                self.payloads.append(message["payload"])
        except asyncio.CancelledError:
            pass
        finally:
            with contextlib.suppress(Exception):
                await layer.group_discard(push.DISTRICT_GROUP, channel)

    def stop(self):
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self.thread.join(10)


def _officers(teams, departments, n=4):
    now = timezone.now()
    for i in range(n):
        user = accounts.add_user(None, username=f"kill-o{i}", role="officer", area_codes=["S1"])[0]
        Officer.objects.create(user=user, name=f"队员{i}", badge_no=f"K-{i}", team=teams["S1"],
                               home_department=departments["ZHZF"], rank=1, duty_status="available",
                               last_lat=S1_POINT[0] + (i + 1) * 1e-3, last_lng=S1_POINT[1], last_position_at=now)


def _wait(predicate, timeout, what, *procs, describe=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for p in procs:
            if p.proc.poll() is not None:
                pytest.fail(f"{what}: a process exited with {p.proc.returncode}:\n{p.output()}")
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {timeout} s ({describe()})\n" + "\n".join(p.output()[-3000:] for p in procs))


def test_killing_the_web_process_mid_burst_loses_no_follow_up(tmp_path, users, catalog, district, teams,
                                                              departments):
    started = time.monotonic()
    app.control.purge()  # tasks an earlier test queued must not run against this one's rows
    _officers(teams, departments)
    DispatchRule.objects.create(street=None, severity="yellow", mode="automatic", next_on_decline=False)
    receiver = Receiver()
    WebhookSubscription.objects.create(client=users["platform"], url=receiver.url, secret="s3cret",
                                       kinds=["event.created"])
    token = Token.objects.create(user=users["platform"]).key
    db = connection.settings_dict["NAME"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web_cmd = python_cmd("-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
                         "--no-access-log", "--ws", "websockets-sansio")
    worker_cmd = python_cmd("-m", "celery", "-A", "config", "worker", "-B", "--schedule", str(tmp_path / "beat"),
                            "--pool=prefork", "--concurrency=3", "--without-gossip", "--without-mingle",
                            "--without-heartbeat", "--loglevel=INFO", "-n", f"outbox-{uuid.uuid4().hex[:6]}@%h")
    listener = PushListener()
    keys = [f"kill-{uuid.uuid4().hex[:8]}-{i}" for i in range(N_EVENTS)]
    answered = {}  # key -> event id

    def post(i):
        lat, lng = S1_POINT
        try:
            r = httpx.post(f"{base}/api/v1/events/", timeout=15, headers={
                "Authorization": f"Token {token}", "Idempotency-Key": keys[i]},
                json={"source": "citizen", "problem_type": "ZDJY", "description": f"占道经营 {i}",
                      "lat": lat + i * 2e-4, "lng": lng, "severity": "yellow"})
        except httpx.HTTPError:
            return None  # the server died under it: retried below with the same key
        if r.status_code in (200, 201):
            answered[keys[i]] = r.json()["id"]
            return r.status_code
        return r.status_code

    worker = LiveProcess(worker_cmd, live_env(db, **FAST), tmp_path / "worker.log")
    first = LiveProcess(web_cmd, live_env(db, **FAST), tmp_path / "web-1.log")
    try:
        wait_for_port(port, first, timeout=40)
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(post, i) for i in range(N_EVENTS)]
            _wait(lambda: len(answered) >= KILL_AFTER, 30, "the first answers", first)
            os.killpg(first.proc.pid, signal.SIGKILL)
            for f in futures:
                f.result(timeout=30)
        first.stop(timeout=5)
        assert first.proc.returncode == -signal.SIGKILL
        killed_at = len(answered)
        assert KILL_AFTER <= killed_at < N_EVENTS, killed_at  # killed mid-burst
        with LiveProcess(web_cmd, live_env(db, **FAST), tmp_path / "web-2.log") as second:
            wait_for_port(port, second, timeout=40)
            for i in range(N_EVENTS):  # the client retries what got no answer, with the same key
                if keys[i] not in answered:
                    assert post(i) in (200, 201)
            assert len(answered) == N_EVENTS

            ids = set(answered.values())
            assert Event.objects.count() == len(ids) == N_EVENTS  # a retry never made a second event

            def created_pushes():
                return Counter(p["event"]["id"] for p in list(listener.payloads)
                               if p["type"] == "event.created" and p["stream"] == push.DISTRICT_GROUP)

            def settled():
                return (Event.objects.filter(pk__in=ids, status=Status.DISPATCHED, officer__isnull=False).count() == N_EVENTS
                        and len(receiver.requests) >= N_EVENTS
                        and not OutboxMessage.objects.filter(done_at__isnull=True).exists()
                        and not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED).exists())

            def describe():
                return {"dispatched": Event.objects.filter(status=Status.DISPATCHED).count(),
                        "hooks": len(receiver.requests),
                        "undone": list(OutboxMessage.objects.filter(done_at__isnull=True).values_list(
                            "kind", "attempts", "last_error")[:10]),
                        "deliveries": Counter(WebhookDelivery.objects.values_list("status", flat=True))}

            _wait(settled, max(10.0, 55 - (time.monotonic() - started)), "every follow-up done", worker, second,
                  describe=describe)
            # Pushes are sent before their rows are marked done; give the listener its last messages.
            end = time.monotonic() + 3
            while time.monotonic() < end and not ids <= set(created_pushes()):
                time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.proc.pid, signal.SIGKILL)
        first.stop(timeout=5)
        worker.stop()
        listener.stop()
        receiver.close()

    hooks = Counter(json.loads(r["body"])["event"]["id"] for r in receiver.requests
                    if json.loads(r["body"])["kind"] == "event.created")
    assert hooks == Counter({i: 1 for i in ids}), hooks  # every event's webhook delivered, each once
    assert WebhookDelivery.objects.filter(kind="event.created").count() == N_EVENTS
    pushes = created_pushes()
    assert max(pushes.values()) == 1, pushes  # never twice
    seqs = sorted(p["seq"] for p in listener.payloads if p["stream"] == push.DISTRICT_GROUP)
    gaps = sum(b - a - 1 for a, b in zip(seqs, seqs[1:]))
    missing = ids - set(pushes)
    assert len(missing) <= gaps, (missing, gaps)  # a push lost at the kill shows as a gap: the desk resyncs
    rerun = OutboxMessage.objects.filter(attempts__gt=1).count()
    late = OutboxMessage.objects.filter(done_at__gte=F("available_at")).count()  # by the drain, most likely
    print(f"\nkilled after {killed_at} answers; {late} rows done after the drain may take them, {rerun} run again "
          f"after a stale claim; "
          f"{len(missing)} pushes lost to the kill (gaps {gaps}); {time.monotonic() - started:.1f} s")
