"""Appeals against a case's decision (复议/申诉): the credit facts contested while open, withdrawn when
revoked."""
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import DECIDED_STATUSES, AppealKind, AppealResult, Step
from cases.models import Appeal, Case
from cases.services.color_appeals import refs_held_open
from cases.services.common import TEXT_MAX, _finish, _lock, _setting, _text
from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.roles import BUREAU_STAFF, TEAM_LEADER, has_role
from credit.services import facts as credit_facts


def _appeal_recorder(actor, case):
    if not has_role(actor, TEAM_LEADER, BUREAU_STAFF):
        raise Forbidden(_("只有执法队长或区综合执法局工作人员可以登记、办理复议/申诉。"))


def _source_refs(case: Case):
    return [("cases", "casematter", pk) for pk in case.matters.values_list("pk", flat=True)]


@transaction.atomic
def appeal(actor, case, *, kind: str, grounds: str, lodged_on: date | None = None, expected_version=None) -> Appeal:
    """The party contests the decision (复议/申诉): recorded; the subject's credit is "under review"."""
    case = _lock(actor, case, expected_version, _appeal_recorder, DECIDED_STATUSES)
    if kind not in AppealKind.values:
        raise ValidationFailed(fields={"kind": [_("未知的类型。")]})
    grounds = _text(grounds, "grounds", max_length=TEXT_MAX)
    if Appeal.objects.filter(case=case, result=AppealResult.PENDING).exists():
        raise Conflict(_("已有未决的复议/申诉。"), code="appeal_open")
    now = timezone.now()
    if lodged_on is not None and (not isinstance(lodged_on, date) or lodged_on > timezone.localdate()):
        raise ValidationFailed(fields={"lodged_on": [_("日期不能晚于今天。")]})
    lodged_at = now if lodged_on is None else timezone.make_aware(datetime.combine(lodged_on, datetime.min.time()))
    item = Appeal.objects.create(case=case, kind=kind, grounds=grounds, lodged_at=lodged_at, recorded_by=actor,
                                 due_at=lodged_at + timedelta(days=int(_setting("CASES_APPEAL_DAYS", 60))))
    for app, model, pk in _source_refs(case):
        credit_facts.set_contested(source_app=app, source_model=model, source_pk=pk, contested=True,
                                   reason=_("案件 %(n)s 复议/申诉中") % {"n": case.number}, actor=actor)
    _finish(case, actor, Step.APPEAL, before=case.status, now=now, note=grounds,
            data={"appeal": item.pk, "kind": kind})
    return item


@transaction.atomic
def decide_appeal(actor, case, *, result: str, note: str, expected_version=None) -> Appeal:
    """The appeal's outcome: upheld or changed (the facts stand), or revoked (the credit facts are
    withdrawn and the disclosure taken down)."""
    case = _lock(actor, case, expected_version, _appeal_recorder, DECIDED_STATUSES)
    item = Appeal.objects.select_for_update().filter(case=case, result=AppealResult.PENDING).first()
    if item is None:
        raise Conflict(_("没有未决的复议/申诉。"), code="no_appeal")
    if result not in (AppealResult.UPHELD, AppealResult.REVOKED, AppealResult.CHANGED):
        raise ValidationFailed(fields={"result": [_("结果须为维持、撤销或变更。")]})
    note = _text(note, "note")
    now = timezone.now()
    item.result, item.result_note, item.decided_by, item.decided_at = result, note, actor, now
    item.save(update_fields=["result", "result_note", "decided_by", "decided_at"])
    why = _("复议/申诉结果：%(r)s（%(n)s）") % {"r": AppealResult(result).label, "n": case.number}
    held = refs_held_open(case.subject_id, except_case_appeal=item.pk) if case.subject_id else set()
    for app, model, pk in _source_refs(case):
        if (app, model, str(pk)) not in held:  # a colour appeal still open keeps contesting it
            credit_facts.set_contested(source_app=app, source_model=model, source_pk=pk, contested=False,
                                       reason=why, actor=actor)
        if result == AppealResult.REVOKED:
            credit_facts.withdraw_fact(source_app=app, source_model=model, source_pk=pk, reason=why, actor=actor)
    if result == AppealResult.REVOKED and case.disclosed_at is not None:
        case.disclosure_withdrawn_at = now
    _finish(case, actor, Step.APPEAL_DECIDED, before=case.status, now=now, note=note,
            data={"appeal": item.pk, "result": result}, audit_changes={"appeal_result": [None, result]})
    return item
