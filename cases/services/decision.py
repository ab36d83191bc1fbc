"""The decision (决定), with its leniency, and the `violation` facts it posts to credit."""
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import LenientGround, Outcome, Procedure, Status, Step
from cases.models import Case
from cases.services.common import TEXT_MAX, add_working_days, _by_leader, _finish, _is_handler, _lock, _setting, _text
from cases.services.outcomes import (
    _apply_outcomes, _clean_outcomes, _hearing_eligible, _needs_legal_review, _outcome_data,
)
from core.exceptions import Conflict
from credit.choices import FactKind, Leniency
from credit.services import facts as credit_facts


def _decider():
    def check(actor, case):
        if case.procedure == Procedure.SIMPLE:
            if getattr(actor, "is_superuser", False) or _is_handler(actor, case):
                return
            _by_leader(_("作出决定"))(actor, case)
        else:
            _by_leader(_("作出决定"))(actor, case)
    return check


LENIENCY_OF = {LenientGround.MINOR: Leniency.MINOR, LenientGround.FIRST: Leniency.FIRST,
               LenientGround.MEDIATED: Leniency.MEDIATED}


def _post_violations(actor, case: Case, when):
    """One `violation` fact per matter of the decision, with its leniency, on the subject's credit."""
    if case.subject_id is None:
        return
    for row in case.matters.select_related("matter"):
        leniency = LENIENCY_OF.get(row.lenient_ground, "")
        if row.outcome == Outcome.REDUCED:
            leniency = Leniency.REDUCED
        text = f"{case.number} {row.matter.name}：{row.get_outcome_display()}"
        if row.fine:
            text += f" {row.fine}元"
        credit_facts.post_fact(case.subject_id, FactKind.VIOLATION, source_app="cases", source_model="casematter",
                               source_pk=row.pk, occurred_at=when, confirmed=True, leniency=leniency,
                               source_text=text[:255], actor=actor)


@transaction.atomic
def decide(actor, case, *, outcomes, decision_text: str = "", expected_version=None) -> Case:
    """The decision (决定), one for every matter of the case (综合罚一次). Under the general procedure
    by the team leader after the notice, and after legal review when it is required; under the simple
    procedure on the spot by the handlers."""
    probe = case if isinstance(case, Case) else Case.objects.filter(pk=case).first()
    procedure = probe.procedure if probe is not None else Procedure.GENERAL
    allowed = (Status.FILED, Status.INVESTIGATION) if procedure == Procedure.SIMPLE \
        else (Status.NOTIFIED, Status.LEGAL_REVIEW)
    case = _lock(actor, case, expected_version, _decider(), allowed)
    cleaned = _clean_outcomes(case, outcomes)
    if case.procedure == Procedure.GENERAL:
        required = case.legal_review_required or _needs_legal_review(case, cleaned)
        if required and not (case.status == Status.LEGAL_REVIEW and case.legal_review_passed):
            raise Conflict(_("该决定须先经法制审核同意。"), code="legal_review_required")
        if case.status == Status.LEGAL_REVIEW and not case.legal_review_passed:
            raise Conflict(_("法制审核尚未同意。"), code="legal_review_required")
        if _hearing_eligible(case, cleaned) and not case.hearing_eligible:
            raise Conflict(_("决定的罚款已达听证标准，须重新告知当事人听证权利。"), code="notice_required")
    _apply_outcomes(cleaned)
    before = case.status
    now = timezone.now()
    case.status = Status.DECIDED
    case.decided_at, case.decided_by = now, actor
    case.decision_text = _text(decision_text, "decision_text", required=False, max_length=TEXT_MAX)
    case.total_fine = sum((v["fine"] for _row, v in cleaned), Decimal("0"))
    case.disclose_by = add_working_days(now, int(_setting("CASES_DISCLOSURE_WORKING_DAYS", 7)))
    _post_violations(actor, case, now)
    return _finish(case, actor, Step.DECIDE, before=before, now=now, note=case.decision_text,
                   data={"outcomes": _outcome_data(cleaned), "total_fine": str(case.total_fine)},
                   audit_changes={"total_fine": [None, case.total_fine]})
