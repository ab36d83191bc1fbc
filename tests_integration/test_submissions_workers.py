"""Asynchronous intake on PostgreSQL: two workers at once process every submission exactly once
(FOR UPDATE SKIP LOCKED), each client's in the order they were accepted."""
import threading

import pytest
from django.db import connections

from command_center import submissions
from command_center.models import Event, EventSubmission
from command_center.testing import S1_POINT
from core import roles
from grids import accounts

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_workers_process_each_submission_once_in_order_per_client(users, catalog, monkeypatch):
    clients = [users["platform"]] + [
        accounts.add_user(None, username=f"camera{i}", role=roles.API_CLIENT, area_codes=["D"], password="x-Pass-2026")[0]
        for i in range(3)]
    for n in range(10):
        for c, client in enumerate(clients):
            submissions.submit(client, {"source": "ai_camera", "problem_type": "ZDJY", "description": f"摄像头 {c}-{n}",
                                        "lat": S1_POINT[0], "lng": S1_POINT[1], "external_id": f"C{c}-{n:02d}"})
    # Both workers make their first claim at the same moment, each inside its own transaction.
    start = threading.Barrier(2, timeout=30)
    real_claim = submissions._claim
    first = threading.local()

    def claim(now):
        if not getattr(first, "done", False):
            first.done = True
            start.wait()
        return real_claim(now)

    monkeypatch.setattr(submissions, "_claim", claim)
    counts, errors = [], []

    def worker():
        try:
            done = 0
            while submissions.with_busy_retries(submissions.process_next):
                done += 1
            counts.append(done)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sum(counts) == 40 and all(counts), counts  # both worked, none processed anything twice
    assert set(EventSubmission.objects.values_list("status", "attempts")) == {("done", 1)}
    assert Event.objects.count() == 40
    assert EventSubmission.objects.values("event").distinct().count() == 40
    for c, client in enumerate(clients):
        made = list(Event.objects.filter(client=client).order_by("id").values_list("external_id", flat=True))
        assert made == [f"C{c}-{n:02d}" for n in range(10)]
