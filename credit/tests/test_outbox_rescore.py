"""Rescoring follows a fact's commit through the outbox: a process killed right after the commit still has
the subject rescored (by the drain), once."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core import outbox
from core.models import OutboxMessage
from credit.choices import FactKind
from credit.models import CreditHistory, CreditScore
from credit.services import facts

pytestmark = pytest.mark.django_db

REF = {"source_app": "enforcement", "source_model": "case"}


def test_a_fact_committed_by_a_process_that_died_is_rescored_by_the_drain(subjects, users,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        fact, _ = facts.post_fact(subjects["s1"], FactKind.VIOLATION, **REF, source_pk=1, points=15,
                                  actor=users["bureau"])
    assert not CreditScore.objects.filter(subject=subjects["s1"]).exists()
    (row,) = OutboxMessage.objects.filter(kind="credit.rescore")
    assert row.payload["subject_id"] == subjects["s1"].pk and row.payload["actor_id"] == users["bureau"].pk
    for _ in range(2):
        outbox.drain(now=timezone.now() + timedelta(seconds=3))
    score = CreditScore.objects.get(subject=subjects["s1"])
    assert (score.score, score.color) == (15, "yellow")
    (h,) = CreditHistory.objects.filter(subject=subjects["s1"])
    assert (h.cause, h.fact_id, h.actor_id) == ("fact_posted", fact.pk, users["bureau"].pk)


def test_a_batch_of_facts_is_one_insert_of_rows(subjects, django_capture_on_commit_callbacks):
    items = [{"subject": subjects[k], "kind": FactKind.VIOLATION, "points": 5, "source_pk": str(i), **REF}
             for i, k in enumerate(["s1", "s1b", "s2"])]
    with django_capture_on_commit_callbacks(execute=True):
        assert facts.post_facts(items) == 3
    assert OutboxMessage.objects.filter(kind="credit.rescore", done_at__isnull=False).count() == 3
    assert CreditScore.objects.count() == 3


def test_a_subject_that_is_gone_is_nothing_to_retry(subjects):
    row = OutboxMessage.objects.create(kind="credit.rescore", available_at=timezone.now(), payload={
        "subject_id": 10**9, "cause": "fact_posted", "fact_id": None, "actor_id": None})
    assert outbox.drain() == 1
    row.refresh_from_db()
    assert row.done_at is not None and row.last_error == ""


def test_a_fact_of_a_new_source_is_rescored_by_a_worker_not_in_place(subjects, settings, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    """A fact posted with its source (a complaint at intake): the request that commits it hands the rescore
    to a worker (one enqueue with the other deferred rows) and does not run it itself."""
    from django.db import transaction

    settings.CELERY_TASK_ALWAYS_EAGER = False
    enqueued = []
    monkeypatch.setattr(outbox, "enqueue_deferred", lambda ids, producer=None: enqueued.extend(ids))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            facts.post_fact(subjects["s1"], FactKind.VIOLATION, **REF, source_pk=2, points=15, new_source=True)
    (row,) = OutboxMessage.objects.filter(kind="credit.rescore.in_worker")
    assert outbox.wait_sent() and enqueued == [row.pk] and row.done_at is None
    assert not CreditScore.objects.filter(subject=subjects["s1"]).exists()
    assert outbox.process(enqueued) == 1  # what the worker's task runs
    assert CreditScore.objects.get(subject=subjects["s1"]).score == 15
