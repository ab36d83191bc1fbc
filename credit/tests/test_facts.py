"""The ledger: posting, withdrawing and confirming facts (credit.services.facts)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import Conflict, NotFound, ValidationFailed
from core.models import AuditLog
from credit.choices import FactKind
from credit.models import CreditFact, CreditHistory, CreditScore
from credit.services import facts

pytestmark = pytest.mark.django_db

REF = {"source_app": "enforcement", "source_model": "case"}


def post(subject, kind=FactKind.VIOLATION, pk=1, **kw):
    return facts.post_fact(subject, kind, **REF, source_pk=pk, **kw)


def test_post_fact_rescores_on_commit_and_is_idempotent(subjects, on_commit, users):
    fact, created = on_commit(post, subjects["s1"], pk=10, points=15, actor=users["bureau"])
    assert created
    score = CreditScore.objects.get(subject=subjects["s1"])
    assert (score.score, score.color) == (15, "yellow")
    assert score.reasons["factors"][0]["facts"][0]["id"] == fact.pk
    again, created = on_commit(post, subjects["s1"], pk=10, points=99)
    assert (again.pk, created, again.points) == (fact.pk, False, 15)
    assert CreditFact.objects.count() == 1
    (h,) = CreditHistory.objects.filter(subject=subjects["s1"])
    assert (h.from_color, h.to_color, h.cause, h.fact_id) == ("green", "yellow", "fact_posted", fact.pk)
    assert AuditLog.objects.filter(action="credit.fact_posted", object_id=str(fact.pk)).exists()


def test_same_source_for_another_subject_is_a_conflict(subjects, on_commit):
    on_commit(post, subjects["s1"], pk=11)
    with pytest.raises(Conflict):
        post(subjects["s2"], pk=11)


@pytest.mark.parametrize("kw,field", [
    ({"kind": "gossip"}, "kind"),
    ({"points": -1}, "points"),
    ({"points": float("nan")}, "points"),
    ({"kind": FactKind.COMPLAINT, "leniency": "first"}, "leniency"),
    ({"leniency": "friendly"}, "leniency"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": timezone.now() + timedelta(days=2)}, "occurred_at"),
    ({"kind": FactKind.SENSOR_EXCEEDANCE}, "metric"),
])
def test_post_fact_refuses_bad_input(subjects, kw, field):
    kind = kw.pop("kind", FactKind.VIOLATION)
    with pytest.raises(ValidationFailed) as exc:
        facts.post_fact(subjects["s1"], kind, **REF, source_pk=1, **kw)
    assert field in exc.value.fields
    assert not CreditFact.objects.exists()


def test_post_fact_unknown_subject(db):
    with pytest.raises(NotFound):
        facts.post_fact(987654, FactKind.COMPLAINT, **REF, source_pk=1)


def test_withdraw_keeps_the_row_and_the_score_follows(subjects, on_commit, users):
    on_commit(post, subjects["s1"], pk=1, points=20)
    on_commit(post, subjects["s1"], pk=2, points=10)
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "red"
    withdrawn = on_commit(facts.withdraw_fact, source_app="enforcement", source_model="case", source_pk=2,
                          reason="复议撤销", actor=users["bureau"])
    assert len(withdrawn) == 1
    score = CreditScore.objects.get(subject=subjects["s1"])
    assert (score.score, score.color) == (20, "yellow")
    row = CreditFact.objects.get(source_pk="2")
    assert row.withdrawn_at and row.withdrawn_by == users["bureau"] and row.withdrawn_reason == "复议撤销"
    # Again: nothing changes; no reason: refused.
    on_commit(facts.withdraw_fact, row, reason="again")
    assert CreditFact.objects.get(pk=row.pk).withdrawn_reason == "复议撤销"
    with pytest.raises(ValidationFailed):
        facts.withdraw_fact(row, reason=" ")
    causes = list(CreditHistory.objects.filter(subject=subjects["s1"]).order_by("id").values_list("cause", "to_color"))
    assert causes == [("fact_posted", "yellow"), ("fact_posted", "red"), ("fact_withdrawn", "yellow")]


def test_confirming_a_complaint_raises_its_weight(subjects, on_commit):
    fact, _ = on_commit(facts.post_fact, subjects["s1"], FactKind.COMPLAINT, source_app="command_center",
                        source_model="event", source_pk=5)
    assert CreditScore.objects.get(subject=subjects["s1"]).score == 0.9
    on_commit(facts.confirm_fact, fact)
    assert CreditScore.objects.get(subject=subjects["s1"]).score == 3


def test_post_facts_in_bulk_all_or_nothing_and_idempotent(subjects, on_commit):
    items = [{"subject": subjects["s1"], "kind": FactKind.VIOLATION, **REF, "source_pk": n, "points": 10}
             for n in range(3)]
    assert on_commit(facts.post_facts, items) == 3
    assert CreditScore.objects.get(subject=subjects["s1"]).color == "red"
    assert facts.post_facts(items) == 0  # the same references again: nothing new
    bad = [*items, {"subject": subjects["s2"], "kind": "gossip", **REF, "source_pk": 9},
           {"subject": 987654, "kind": FactKind.COMPLAINT, **REF, "source_pk": 10}]
    with pytest.raises(ValidationFailed) as exc:
        facts.post_facts(bad)
    assert "3.kind" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        facts.post_facts([bad[-1]])
    assert "subject" in exc.value.fields
    assert CreditFact.objects.count() == 3
    assert AuditLog.objects.filter(action="credit.facts_posted").count() == 1
