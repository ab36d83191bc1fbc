"""Appeals against a credit colour alone (复议/申诉 of the colour, not of a case's decision).

Lodged by the street's team leader or bureau staff for a subject in their areas: every live credit fact
of the subject is marked contested, so its credit shows "under review" while the appeal is open. The
outcome: upheld (the facts stand), changed (the named facts are withdrawn, the rest stand) or revoked
(all of them are withdrawn); the subject is rescored on commit. A fact another open appeal still
contests (a case's appeal, see cases.services.appeals) stays contested.
"""
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import selectors
from cases.choices import AppealKind, AppealResult
from cases.models import Appeal, CaseMatter, ColorAppeal
from cases.services.common import TEXT_MAX, _setting, _text
from core import audit
from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.roles import BUREAU_STAFF, TEAM_LEADER, has_role
from credit.models import CreditFact, CreditScore
from credit.services import facts as credit_facts
from credit.services import rescoring
from grids import selectors as grid_selectors
from grids.models import Subject

APPEAL_ROLES = (TEAM_LEADER, BUREAU_STAFF)


def _require_role(actor):
    if not has_role(actor, *APPEAL_ROLES):
        raise Forbidden(_("只有执法队长或区综合执法局工作人员可以登记、办理复议/申诉。"))


def _lodged_at(lodged_on, now) -> datetime:
    if lodged_on is None:
        return now
    if not isinstance(lodged_on, date) or lodged_on > timezone.localdate():
        raise ValidationFailed(fields={"lodged_on": [_("日期不能晚于今天。")]})
    return timezone.make_aware(datetime.combine(lodged_on, datetime.min.time()))


def refs_held_open(subject_id, *, except_color_appeal=None, except_case_appeal=None) -> set:
    """The source references of the subject's facts that an open appeal other than the given one contests."""
    held = set()
    case_ids = Appeal.objects.filter(result=AppealResult.PENDING, case__subject_id=subject_id)
    if except_case_appeal is not None:
        case_ids = case_ids.exclude(pk=except_case_appeal)
    for pk in CaseMatter.objects.filter(case_id__in=case_ids.values("case_id")).values_list("pk", flat=True):
        held.add(("cases", "casematter", str(pk)))
    fact_ids = [i for ids in ColorAppeal.objects.filter(subject_id=subject_id, result=AppealResult.PENDING)
                .exclude(pk=except_color_appeal).values_list("fact_ids", flat=True) for i in ids]
    held.update(CreditFact.objects.filter(pk__in=fact_ids).values_list("source_app", "source_model", "source_pk"))
    return held


def _refs(fact_ids) -> set:
    return set(CreditFact.objects.filter(pk__in=fact_ids).values_list("source_app", "source_model", "source_pk"))


def _current_color(subject: Subject) -> str:
    score = CreditScore.objects.filter(subject_id=subject.pk).first() or rescoring.score_from_ledger(subject)
    return score.color or score.computed_color


@transaction.atomic
def appeal_color(actor, subject_id, *, kind: str, grounds: str, lodged_on: date | None = None) -> ColorAppeal:
    """Record the subject's appeal against its colour; its live facts are contested while it is open."""
    _require_role(actor)
    subject = grid_selectors.get_subject_for(actor, subject_id)
    if kind not in AppealKind.values:
        raise ValidationFailed(fields={"kind": [_("未知的类型。")]})
    grounds = _text(grounds, "grounds", max_length=TEXT_MAX)
    now = timezone.now()
    lodged_at = _lodged_at(lodged_on, now)
    Subject.objects.select_for_update(of=("self",)).filter(pk=subject.pk).first()
    if ColorAppeal.objects.filter(subject=subject, result=AppealResult.PENDING).exists():
        raise Conflict(_("该对象已有未决的信用颜色复议/申诉。"), code="appeal_open")
    fact_ids = list(CreditFact.objects.filter(subject=subject, withdrawn_at__isnull=True).order_by("id")
                    .values_list("pk", flat=True))
    if not fact_ids:
        raise Conflict(_("该对象没有可申诉的信用记录。"), code="nothing_to_contest")
    item = ColorAppeal.objects.create(
        subject=subject, kind=kind, grounds=grounds, color=_current_color(subject), fact_ids=fact_ids,
        lodged_at=lodged_at, recorded_by=actor,
        due_at=lodged_at + timedelta(days=int(_setting("CASES_APPEAL_DAYS", 60))))
    why = _("信用颜色复议/申诉中（%(s)s）") % {"s": subject.name}
    for app, model, pk in sorted(_refs(fact_ids)):
        credit_facts.set_contested(source_app=app, source_model=model, source_pk=pk, contested=True, reason=why,
                                   actor=actor)
    audit.record(actor, "case.color_appeal", item, changes={
        "subject": [None, subject.pk], "color": [None, item.color], "kind": [None, kind], "facts": [None, fact_ids]})
    return item


def _withdrawn(result: str, chosen, fact_ids) -> list[int]:
    chosen = sorted({int(i) for i in chosen or [] if str(i).isdigit()}) if isinstance(chosen, (list, tuple)) else None
    if chosen is None:
        raise ValidationFailed(fields={"withdraw_fact_ids": [_("须为信用记录编号的列表。")]})
    if result == AppealResult.REVOKED:
        return list(fact_ids)
    if result == AppealResult.UPHELD:
        if chosen:
            raise ValidationFailed(fields={"withdraw_fact_ids": [_("维持时不撤回信用记录。")]})
        return []
    if not chosen:
        raise ValidationFailed(fields={"withdraw_fact_ids": [_("变更须指明撤回哪些信用记录。")]})
    unknown = [i for i in chosen if i not in set(fact_ids)]
    if unknown:
        raise ValidationFailed(fields={"withdraw_fact_ids": [
            _("这些记录不在本次申诉范围内：%(ids)s。") % {"ids": "、".join(map(str, unknown))}]})
    return chosen


@transaction.atomic
def decide_color_appeal(actor, appeal_id, *, result: str, note: str, withdraw_fact_ids=()) -> ColorAppeal:
    """The outcome, applied to credit: the facts no longer contested, the withdrawn ones withdrawn."""
    _require_role(actor)
    item = selectors.get_color_appeal_for(actor, appeal_id)
    item = ColorAppeal.objects.select_for_update().get(pk=item.pk)
    if item.result != AppealResult.PENDING:
        raise Conflict(_("该复议/申诉已有结果。"), code="no_appeal")
    if result not in (AppealResult.UPHELD, AppealResult.REVOKED, AppealResult.CHANGED):
        raise ValidationFailed(fields={"result": [_("结果须为维持、撤销或变更。")]})
    note = _text(note, "note")
    withdrawn = _withdrawn(result, withdraw_fact_ids, item.fact_ids)
    now = timezone.now()
    item.result, item.result_note, item.withdrawn_fact_ids = result, note, withdrawn
    item.decided_by, item.decided_at = actor, now
    item.save(update_fields=["result", "result_note", "withdrawn_fact_ids", "decided_by", "decided_at"])
    why = _("信用颜色复议/申诉结果：%(r)s") % {"r": AppealResult(result).label}
    held = refs_held_open(item.subject_id, except_color_appeal=item.pk)
    for app, model, pk in sorted(_refs(item.fact_ids) - held):
        credit_facts.set_contested(source_app=app, source_model=model, source_pk=pk, contested=False, reason=why,
                                   actor=actor)
    for fact_id in withdrawn:
        credit_facts.withdraw_fact(fact_id, reason=f"{why}：{note}", actor=actor)
    audit.record(actor, "case.color_appeal_decided", item, changes={
        "result": [None, result], "withdrawn_facts": [None, withdrawn]})
    return item
