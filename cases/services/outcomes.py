"""Each matter's outcome as the handlers propose it and the leader decides it: the legal range, the
no-penalty lists (免罚清单), first violation, public-interest reduction, the simple procedure's cap; and
whether legal review or a hearing follows from it."""
from decimal import Decimal

from django.utils.translation import gettext as _

from cases import selectors
from cases.choices import LenientGround, Outcome, PartyKind, Procedure
from cases.models import Case, CaseMatter
from cases.services.common import _amount, _setting, _text
from core.exceptions import ValidationFailed


def _clean_outcomes(case: Case, outcomes) -> list[tuple[CaseMatter, dict]]:
    """Each of the case's matters with its outcome: a fine within the matter's legal range, or no penalty
    on a lenient ground the district's lists allow for it (首违 only when it is the first), or a reduced
    fine with its reason; under the simple procedure only a warning or a small fine."""
    rows = list(case.matters.select_related("matter").order_by("id"))
    given = {}
    for i, item in enumerate(outcomes or []):
        code = str((item or {}).get("matter_code", "")).strip()
        if code in given:
            raise ValidationFailed(fields={f"outcomes.{i}.matter_code": [_("事项重复。")]})
        given[code] = (i, item)
    missing = [r.matter.code for r in rows if r.matter.code not in given]
    extra = [c for c in given if c not in {r.matter.code for r in rows}]
    if missing or extra:
        raise ValidationFailed(fields={"outcomes": [
            _("须为本案每个事项给出处理结果（缺少：%(m)s；多余：%(e)s）。") % {
                "m": "、".join(missing) or "-", "e": "、".join(extra) or "-"}]})
    allowed = selectors.lenient_grounds([r.matter.code for r in rows])
    out, errors = [], {}
    for row in rows:
        i, item = given[row.matter.code]
        key = f"outcomes.{i}"
        outcome = item.get("outcome")
        ground = item.get("lenient_ground") or ""
        measures = _text(item.get("measures"), f"{key}.measures", required=False, max_length=255)
        reason = _text(item.get("reason"), f"{key}.reason", required=False)
        fine = _amount(item.get("fine"), f"{key}.fine")
        m = row.matter
        if outcome not in Outcome.values:
            errors[f"{key}.outcome"] = [_("未知的处理结果。")]
            continue
        if outcome == Outcome.NO_PENALTY:
            if ground not in (LenientGround.MINOR, LenientGround.FIRST, LenientGround.MEDIATED):
                errors[f"{key}.lenient_ground"] = [_("不予处罚须选择从轻情形（轻微、首违或调解）。")]
            elif ground not in allowed.get(m.code, set()):
                errors[f"{key}.lenient_ground"] = [_("事项 %(code)s 不在免罚清单（%(ground)s）上。") % {
                    "code": m.code, "ground": LenientGround(ground).label}]
            elif ground == LenientGround.FIRST and (
                    case.subject_id is None
                    or selectors.earlier_violations(case.subject_id, m.code, exclude_case_id=case.pk)):
                errors[f"{key}.lenient_ground"] = [_("当事人此前已因该事项受过处罚，不属首次违法。")]
            if fine:
                errors[f"{key}.fine"] = [_("不予处罚时罚款须为 0。")]
        else:
            if ground:
                errors[f"{key}.lenient_ground"] = [_("只有不予处罚可以选择免罚情形。")]
            if outcome == Outcome.REDUCED and not reason:
                errors[f"{key}.reason"] = [_("公益减罚须说明理由。")]
            if m.fine_max is None and fine:
                errors[f"{key}.fine"] = [_("事项 %(code)s 未规定罚款。") % {"code": m.code}]
            elif m.fine_max is not None and fine > m.fine_max:
                errors[f"{key}.fine"] = [_("罚款不能超过法定上限 %(max)s 元。") % {"max": m.fine_max}]
            elif outcome == Outcome.PENALTY and m.fine_min is not None and fine and fine < m.fine_min:
                errors[f"{key}.fine"] = [_("罚款不能低于法定下限 %(min)s 元（减轻处罚请选择公益减罚并说明理由）。") % {
                    "min": m.fine_min}]
            if not fine and not measures:
                errors[f"{key}.measures"] = [_("处罚须有罚款金额或其他处理措施（如警告）。")]
        out.append((row, {"outcome": outcome, "lenient_ground": ground if outcome == Outcome.NO_PENALTY else "",
                          "fine": fine if outcome != Outcome.NO_PENALTY else Decimal("0"), "measures": measures,
                          "reason": reason}))
    if errors:
        raise ValidationFailed(fields=errors)
    if case.procedure == Procedure.SIMPLE:
        cap = Decimal(_setting("CASES_SIMPLE_FINE_BUSINESS" if case.party_kind == PartyKind.BUSINESS
                               else "CASES_SIMPLE_FINE_PERSON", 200))
        if sum(v["fine"] for _row, v in out) > cap:
            raise ValidationFailed(fields={"outcomes": [
                _("简易程序的罚款合计不能超过 %(cap)s 元，请按普通程序办理。") % {"cap": cap}]})
    return out


def _needs_legal_review(case: Case, outcomes) -> bool:
    default_over = Decimal(str(_setting("CASES_LEGAL_REVIEW_FINE_OVER", 50000)))
    for row, v in outcomes:
        over = row.matter.legal_review_fine_over if row.matter.legal_review_fine_over is not None else default_over
        if row.matter.major_decision or v["fine"] > over:
            return True
    return case.hearing_held


def _hearing_eligible(case: Case, outcomes) -> bool:
    name = "CASES_HEARING_FINE_BUSINESS" if case.party_kind == PartyKind.BUSINESS else "CASES_HEARING_FINE_PERSON"
    return sum(v["fine"] for _row, v in outcomes) >= Decimal(str(_setting(name, 10000)))


def _apply_outcomes(outcomes):
    for row, v in outcomes:
        for k, value in v.items():
            setattr(row, k, value)
        row.save(update_fields=list(v))


def _outcome_data(outcomes) -> list[dict]:
    return [{"matter": row.matter.code, "outcome": v["outcome"], "lenient_ground": v["lenient_ground"],
             "fine": str(v["fine"]), "measures": v["measures"], "reason": v["reason"]} for row, v in outcomes]
