from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import selectors, services
from cases.choices import PartyKind, Status
from cases.models import Case, CaseRecord, Evidence
from cases.testing import outcome
from core.exceptions import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from credit.models import CreditFact
from grids.testing import *  # noqa: F403


def test_filing_numbers_the_case_and_keeps_the_catalog_version(file_case, catalog, district):
    a = file_case()
    b = file_case(matter_codes=["M-SHOP", "M-FUME"])
    year = a.filed_at.year
    assert a.number == f"S1-{year}-0001" and b.number == f"S1-{year}-0002"
    assert a.status == Status.FILED and a.catalog_version == catalog
    assert a.step_due_at is not None and (a.decision_due_at - a.filed_at).days == 90
    # one visit, one penalty: two departments' matters in one case, each part names its department
    assert sorted(b.matters.values_list("department__code", flat=True)) == ["SCJG", "ZHZF"]
    assert CaseRecord.objects.filter(case=a, step="file").count() == 1


def test_filing_needs_two_handlers_of_the_street(file_case, users, handlers, shop):
    with pytest.raises(ValidationFailed) as e:
        services.file_case(users["officer_s1"], party_kind=PartyKind.BUSINESS, subject=shop, facts="x",
                           facts_on=shop.created_at.date(), matter_codes=["M-SHOP"],
                           handler_ids=[handlers["s1"][0].pk])
    assert "handler_ids" in e.value.fields
    with pytest.raises(ValidationFailed):
        services.file_case(users["officer_s1"], party_kind=PartyKind.BUSINESS, subject=shop, facts="x",
                           facts_on=shop.created_at.date(), matter_codes=["M-SHOP"],
                           handler_ids=[handlers["s1"][0].pk, handlers["s2"][0].pk])
    assert not Case.objects.exists()


def test_filing_refusals(file_case, users):
    with pytest.raises(Forbidden):
        file_case(actor=users["platform"])
    with pytest.raises(NotFound):  # a leader of S2 cannot file in S1
        file_case(actor=users["leader_s2"])
    with pytest.raises(ValidationFailed) as e:
        file_case(matter_codes=["NOPE"])
    assert "matter_codes" in e.value.fields


def test_full_general_flow_posts_a_violation(file_case, walk, shop):
    case = walk(file_case(), "closed", outcomes=[outcome(fine="300")])
    assert case.status == Status.CLOSED and case.total_fine == Decimal("300.00")
    fact = CreditFact.objects.get(subject=shop, kind="violation")
    assert (fact.source_app, fact.source_model) == ("cases", "casematter") and fact.leniency == ""
    assert case.number in fact.source_text
    steps = list(CaseRecord.objects.filter(case=case).values_list("step", flat=True))
    assert steps[:3] == ["file", "investigate", "evidence"] and steps[-1] == "close"
    assert case.disclosed_at is not None


def test_return_sends_back_to_handlers_with_reason(file_case, walk, users):
    case = walk(file_case(), "review")
    with pytest.raises(ValidationFailed):
        services.return_case(users["leader_s1"], case, reason=" ")
    with pytest.raises(Forbidden):
        services.return_case(users["officer_s1"], case, reason="证据不足")
    with pytest.raises(NotFound):
        services.return_case(users["leader_s2"], case, reason="证据不足")
    case = services.return_case(users["leader_s1"], case, reason="证据不足")
    assert case.status == Status.INVESTIGATION


def test_order_and_stale_version(file_case, users):
    case = file_case()
    with pytest.raises(Conflict):
        services.approve(users["leader_s1"], case)
    with pytest.raises(PreconditionFailed):
        services.investigate(users["officer_s1"], case, expected_version=case.version + 1)
    services.investigate(users["officer_s1"], case, expected_version=case.version)
    with pytest.raises(Forbidden):  # not a handler
        services.investigate(users["leader_s1"], case)


def test_submit_needs_evidence(file_case, users):
    case = services.investigate(users["officer_s1"], file_case())
    with pytest.raises(Conflict):
        services.submit(users["officer_s1"], case, outcomes=[outcome()])


def test_fine_within_the_legal_range(file_case, walk, users):
    case = walk(file_case(), "evidence")
    with pytest.raises(ValidationFailed) as e:
        services.submit(users["officer_s1"], case, outcomes=[outcome(fine="900")])
    assert "outcomes.0.fine" in e.value.fields
    with pytest.raises(ValidationFailed):
        services.submit(users["officer_s1"], case, outcomes=[outcome(fine="10")])
    with pytest.raises(ValidationFailed):  # every matter needs its outcome
        services.submit(users["officer_s1"], case, outcomes=[])


def test_legal_review_triggered_by_major_matter_and_required(file_case, walk, users):
    case = walk(file_case(matter_codes=["M-BIG"]), "notified", outcomes=[outcome("M-BIG", fine="20000")])
    assert case.legal_review_required
    with pytest.raises(Conflict) as e:
        services.decide(users["leader_s1"], case, outcomes=[outcome("M-BIG", fine="20000")])
    assert e.value.code == "legal_review_required"
    case = services.request_legal_review(users["officer_s1"], case)
    with pytest.raises(Forbidden):  # a handler never reviews
        services.legal_review(users["officer_s1"], case, opinion="agree")
    with pytest.raises(ValidationFailed):
        services.legal_review(users["bureau"], case, opinion="return")
    case = services.legal_review(users["bureau"], case, opinion="agree")
    case = services.decide(users["leader_s1"], case, outcomes=[outcome("M-BIG", fine="20000")])
    assert case.status == Status.DECIDED


def test_legal_review_triggered_by_fine_threshold(file_case, walk, settings):
    settings.CASES_LEGAL_REVIEW_FINE_OVER = 1000
    case = walk(file_case(matter_codes=["M-FUME"]), "review", outcomes=[outcome("M-FUME", fine="6000")])
    assert case.legal_review_required


def test_legal_review_return_goes_back(file_case, walk, users):
    case = walk(file_case(matter_codes=["M-BIG"]), "legal_review", outcomes=[outcome("M-BIG", fine="20000")])
    case = services.legal_review(users["bureau"], case, opinion="return", reasons="依据不足")
    assert case.status == Status.INVESTIGATION


def test_hearing_makes_legal_review_required(file_case, walk, users, settings):
    settings.CASES_HEARING_FINE_BUSINESS = 5000
    case = walk(file_case(matter_codes=["M-FUME"]), "notified", outcomes=[outcome("M-FUME", fine="6000")])
    assert case.hearing_eligible and not case.legal_review_required
    case = services.record_hearing(users["officer_s1"], case, held_on=case.filed_at.date(), summary="当事人到场陈述")
    assert case.legal_review_required


def test_hearing_refused_below_threshold(file_case, walk, users):
    case = walk(file_case(), "notified")
    with pytest.raises(Conflict):
        services.record_hearing(users["officer_s1"], case, held_on=case.filed_at.date(), summary="x")


def test_first_violation_detected(file_case, walk, users, shop):
    first = file_case()
    assert first.matters.get().first_violation
    lenient = [outcome(outcome="no_penalty", fine="0", ground="first")]
    walk(first, "closed", outcomes=lenient)
    fact = CreditFact.objects.get(subject=shop)
    assert fact.leniency == "first"
    second = file_case()
    assert not second.matters.get().first_violation
    second = walk(second, "evidence")
    with pytest.raises(ValidationFailed) as e:
        services.submit(users["officer_s1"], second, outcomes=lenient)
    assert "outcomes.0.lenient_ground" in e.value.fields


def test_lenient_ground_only_on_the_list(file_case, walk, users):
    case = walk(file_case(matter_codes=["M-FUME"]), "evidence")
    with pytest.raises(ValidationFailed):
        services.submit(users["officer_s1"], case, outcomes=[outcome("M-FUME", outcome="no_penalty", fine="0",
                                                                      ground="minor")])


def test_reduced_needs_a_reason(file_case, walk, users):
    case = walk(file_case(), "evidence")
    with pytest.raises(ValidationFailed):
        services.submit(users["officer_s1"], case, outcomes=[outcome(outcome="reduced", fine="20")])
    services.submit(users["officer_s1"], case, outcomes=[outcome(outcome="reduced", fine="20", reason="主动整改，公益服务")])


def test_simple_procedure(file_case, users, handlers):
    case = file_case(procedure="simple")
    with pytest.raises(ValidationFailed):
        services.decide(users["officer_s1"], case, outcomes=[outcome(fine="5000")])
    with pytest.raises(Forbidden):  # an officer of the street who is not a handler
        services.decide(handlers["s1"][2].user, case, outcomes=[outcome(fine="100")])
    with pytest.raises(Conflict):  # no review under the simple procedure
        services.submit(users["officer_s1"], services.investigate(users["officer_s1"], case), outcomes=[outcome()])
    case = services.decide(users["officer_s1"], case, outcomes=[outcome(fine="100")])
    assert case.status == Status.DECIDED


def test_close_needs_execution(file_case, walk, users):
    case = walk(file_case(), "served")
    with pytest.raises(Conflict):
        services.close(users["leader_s1"], case)


def test_appeal_marks_under_review_and_revocation_withdraws(file_case, walk, users, shop):
    case = walk(file_case(), "closed")
    with pytest.raises(Forbidden):
        services.appeal(users["officer_s1"], case, kind="reconsideration", grounds="不服")
    services.appeal(users["leader_s1"], case, kind="reconsideration", grounds="不服")
    fact = CreditFact.objects.get(subject=shop)
    assert fact.contested_at is not None
    with pytest.raises(Conflict):
        services.appeal(users["leader_s1"], case, kind="complaint", grounds="again")
    services.decide_appeal(users["bureau"], case, result="revoked", note="事实不清")
    fact.refresh_from_db()
    assert fact.withdrawn_at is not None and fact.contested_at is None
    assert not selectors.disclosures().filter(pk=case.pk).exists()


def test_transfer_to_street_needs_acceptance(file_case, users, handlers, district):
    case = file_case()
    services.transfer(users["leader_s1"], case, target="street", to_street_code="S2", reason="属地不符")
    with pytest.raises(Conflict):
        services.investigate(users["officer_s1"], case)
    with pytest.raises(Forbidden):
        services.answer_transfer(users["leader_s1"], case, accept=True, handler_ids=[o.pk for o in handlers["s2"]])
    case = services.answer_transfer(users["leader_s2"], case, accept=True, handler_ids=[o.pk for o in handlers["s2"]])
    assert case.street == district["S2"] and case.status == Status.INVESTIGATION
    assert case.number.startswith("S1-")  # a case keeps its number
    with pytest.raises(NotFound):
        selectors.get_case_for(users["leader_s1"], case.pk)


def test_transfer_refused_stays(file_case, users):
    case = file_case()
    services.transfer(users["leader_s1"], case, target="department", to_department_code="SCJG", reason="专业性强")
    with pytest.raises(ValidationFailed):
        services.answer_transfer(users["bureau"], case, accept=False)
    case = services.answer_transfer(users["bureau"], case, accept=False, note="属本部门职权")
    assert case.status == Status.FILED


def test_quality_review(file_case, walk, users, checklist):
    case = walk(file_case(), "closed")
    with pytest.raises(ValidationFailed):
        services.quality_review(users["bureau"], case, scores={"Q1": 50, "Q2": 10})
    review = services.quality_review(users["bureau"], case, scores={"Q1": 40, "Q2": 50}, comment="良好")
    assert review.total == 90 and review.max_total == 100
    with pytest.raises(Conflict):
        services.quality_review(users["bureau"], case, scores={"Q1": 40, "Q2": 50})


def test_evidence_is_append_only(file_case, users):
    case = services.investigate(users["officer_s1"], file_case())
    ev = services.add_evidence(users["officer_s1"], case, file=SimpleUploadedFile("a.txt", b"abc"), kind="document")
    import hashlib

    assert ev.sha256 == hashlib.sha256(b"abc").hexdigest()
    with pytest.raises(ValueError):
        ev.save()
    with pytest.raises(ValueError):
        ev.delete()
    assert Evidence.objects.count() == 1


def test_deadline_check_flags_and_publishes(file_case, walk, users, monkeypatch):
    """A reminder before the step's deadline, an overdue notice after: each once, through the outbox."""
    from datetime import timedelta

    from django.utils import timezone

    from cases import signals
    from cases.services import deadlines

    published = []
    monkeypatch.setattr(deadlines.outbox, "publish", lambda topic, payload: published.append((topic, payload)))
    case = file_case()
    due = case.step_due_at
    out = services.check_deadlines(now=due - timedelta(hours=2))
    assert (out["reminded"], out["overdue"]) == (1, 0)
    assert services.check_deadlines(now=due - timedelta(hours=1))["announced"] == 0  # once
    out = services.check_deadlines(now=due + timedelta(minutes=1))
    case.refresh_from_db()
    assert case.overdue and (out["reminded"], out["overdue"]) == (0, 1)
    assert services.check_deadlines(now=due + timedelta(days=1))["announced"] == 0
    assert {topic for topic, _payload in published} == {signals.deadlines_due}
    rows = [payload["cases"][0] for _topic, payload in published]
    assert [(r["reason"], r["overdue"], r["number"]) for r in rows] == [
        ("reminder", False, case.number), ("overdue", True, case.number)]
    assert rows[0]["url"] == f"/cases/{case.pk}/"
    assert case.records.filter(step="reminder").count() == 2
    assert timezone.now()