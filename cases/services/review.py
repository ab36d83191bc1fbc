"""The team leader's review (审核), the notice (事先告知), the party's statement and hearing, and the
legal review (法制审核)."""
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import LegalOpinion, Procedure, Status, Step
from cases.models import Case
from cases.services.common import TEXT_MAX, _by_bureau_not_handler, _by_handler, _by_leader, _finish, _lock, _text
from cases.services.outcomes import (
    _apply_outcomes, _clean_outcomes, _hearing_eligible, _needs_legal_review, _outcome_data,
)
from core.exceptions import Conflict, ValidationFailed


@transaction.atomic
def submit(actor, case, *, outcomes, note: str = "", expected_version=None) -> Case:
    """The handlers propose each matter's outcome and send the case to the team leader (审核)."""
    case = _lock(actor, case, expected_version, _by_handler(_("提交审核")), (Status.INVESTIGATION,))
    if case.procedure == Procedure.SIMPLE:
        raise Conflict(_("简易程序当场决定，无需审核。"), code="illegal_step")
    if not case.evidence.exists():
        raise Conflict(_("请先添加证据再提交审核。"), code="no_evidence")
    cleaned = _clean_outcomes(case, outcomes)
    _apply_outcomes(cleaned)
    case.legal_review_required = _needs_legal_review(case, cleaned)
    case.hearing_eligible = _hearing_eligible(case, cleaned)
    case.status = Status.REVIEW
    return _finish(case, actor, Step.SUBMIT, before=Status.INVESTIGATION, note=_text(note, "note", required=False),
                   data={"outcomes": _outcome_data(cleaned), "legal_review_required": case.legal_review_required})


@transaction.atomic
def approve(actor, case, *, note: str = "", expected_version=None) -> Case:
    case = _lock(actor, case, expected_version, _by_leader(_("审核案件")), (Status.REVIEW,))
    case.status = Status.APPROVED
    return _finish(case, actor, Step.APPROVE, before=Status.REVIEW, note=_text(note, "note", required=False))


@transaction.atomic
def return_case(actor, case, *, reason: str, expected_version=None) -> Case:
    """The team leader sends the case back to the handlers for rework (退回重办), saying why."""
    case = _lock(actor, case, expected_version, _by_leader(_("退回案件")), (Status.REVIEW,))
    reason = _text(reason, "reason")
    case.status = Status.INVESTIGATION
    return _finish(case, actor, Step.RETURN, before=Status.REVIEW, note=reason)


@transaction.atomic
def notify(actor, case, *, expected_version=None) -> Case:
    """事先告知: the party is told the facts, grounds and rights (the notice is the document 告知书)."""
    case = _lock(actor, case, expected_version, _by_handler(_("事先告知")), (Status.APPROVED,))
    case.status = Status.NOTIFIED
    case.notified_at = timezone.now()
    return _finish(case, actor, Step.NOTIFY, before=Status.APPROVED, now=case.notified_at,
                   data={"hearing_eligible": case.hearing_eligible})


@transaction.atomic
def record_statement(actor, case, *, statement: str, adopted: bool = False, expected_version=None) -> Case:
    """The party's statement and defence (陈述申辩), and whether it was adopted."""
    case = _lock(actor, case, expected_version, _by_handler(_("记录陈述申辩")), (Status.NOTIFIED,))
    statement = _text(statement, "statement", max_length=TEXT_MAX)
    return _finish(case, actor, Step.STATEMENT, before=case.status, note=statement, data={"adopted": bool(adopted)})


@transaction.atomic
def record_hearing(actor, case, *, held_on: date, summary: str, expected_version=None) -> Case:
    """A hearing (听证) held at the party's request; afterwards the decision needs legal review."""
    case = _lock(actor, case, expected_version, _by_handler(_("记录听证")), (Status.NOTIFIED,))
    if not case.hearing_eligible:
        raise Conflict(_("本案拟处罚未达到听证标准。"), code="hearing_not_eligible")
    if case.hearing_held:
        raise Conflict(_("已记录听证。"), code="hearing_held")
    if not isinstance(held_on, date) or held_on > timezone.localdate():
        raise ValidationFailed(fields={"held_on": [_("听证日期不能晚于今天。")]})
    summary = _text(summary, "summary", max_length=TEXT_MAX)
    case.hearing_held = True
    case.legal_review_required = True
    return _finish(case, actor, Step.HEARING, before=case.status, note=summary, data={"held_on": held_on.isoformat()},
                   audit_changes={"hearing_held": [False, True]})


@transaction.atomic
def request_legal_review(actor, case, *, expected_version=None) -> Case:
    case = _lock(actor, case, expected_version, _by_handler(_("提交法制审核")), (Status.NOTIFIED,))
    case.status = Status.LEGAL_REVIEW
    case.legal_review_required = True
    case.legal_review_passed = False
    return _finish(case, actor, Step.REQUEST_LEGAL_REVIEW, before=Status.NOTIFIED)


@transaction.atomic
def legal_review(actor, case, *, opinion: str, reasons: str = "", expected_version=None) -> Case:
    """The legal officer's opinion (法制审核): agree, or return with reasons. Never by a handler."""
    case = _lock(actor, case, expected_version, _by_bureau_not_handler(_("进行法制审核")), (Status.LEGAL_REVIEW,))
    if case.legal_review_passed:
        raise Conflict(_("法制审核已同意，等待决定。"), code="illegal_step")
    if opinion == LegalOpinion.AGREE:
        reasons = _text(reasons, "reasons", required=False)
        case.legal_review_passed = True
    elif opinion == LegalOpinion.RETURN:
        reasons = _text(reasons, "reasons")
        case.status = Status.INVESTIGATION
    else:
        raise ValidationFailed(fields={"opinion": [_("审核意见须为同意或退回。")]})
    return _finish(case, actor, Step.LEGAL_REVIEW, before=Status.LEGAL_REVIEW, note=reasons,
                   data={"opinion": opinion}, audit_changes={"opinion": [None, opinion]})
