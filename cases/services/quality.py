"""Case-file quality review (案卷评查), views of personal data and document exports (全过程记录)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import documents
from cases import selectors
from cases.choices import DECIDED_STATUSES, Status, Step
from cases.models import Case, QualityReview
from cases.services.common import _by_bureau_not_handler, _finish, _lock, _record, _text
from core import audit
from core.exceptions import Conflict, NotFound, ValidationFailed


@transaction.atomic
def quality_review(actor, case, *, scores: dict, comment: str = "", expected_version=None) -> QualityReview:
    """A reviewer scores a closed case against the checklist (案卷评查), every active item once."""
    case = _lock(actor, case, expected_version, _by_bureau_not_handler(_("评查案卷")), (Status.CLOSED,))
    items = selectors.checklist()
    if not items:
        raise Conflict(_("尚未设置评查项目。"), code="no_checklist")
    scores = scores if isinstance(scores, dict) else {}
    rows, errors = [], {}
    for item in items:
        value = scores.get(item.code)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= item.max_points:
            errors[f"scores.{item.code}"] = [_("须为 0 到 %(max)d 的整数。") % {"max": item.max_points}]
            continue
        rows.append({"code": item.code, "text": item.text, "max": item.max_points, "points": value})
    unknown = set(scores) - {i.code for i in items}
    if unknown:
        errors["scores"] = [_("未知的评查项目：%(c)s。") % {"c": "、".join(sorted(map(str, unknown)))}]
    if errors:
        raise ValidationFailed(fields=errors)
    if QualityReview.objects.filter(case=case, reviewer=actor).exists():
        raise Conflict(_("您已评查过本案。"), code="reviewed")
    now = timezone.now()
    review = QualityReview.objects.create(
        case=case, reviewer=actor, scores=rows, total=sum(r["points"] for r in rows),
        max_total=sum(r["max"] for r in rows), comment=_text(comment, "comment", required=False), reviewed_at=now)
    _finish(case, actor, Step.QUALITY_REVIEW, before=case.status, now=now, note=review.comment,
            data={"review": review.pk, "total": review.total, "max_total": review.max_total})
    return review


@transaction.atomic
def record_view(actor, case: Case, *, what: str):
    """A handler saw the private party's data in full: recorded (全过程记录), not a change of the case."""
    _record(case, Step.VIEW_PERSONAL, actor, note=what)
    audit.record(actor, "case.view_personal", case, changes={"what": [None, what]})


DOCUMENT_READY = {"notice": (Status.NOTIFIED, Status.LEGAL_REVIEW) + DECIDED_STATUSES, "decision": DECIDED_STATUSES}


@transaction.atomic
def export_document(actor, case_id, *, kind: str) -> tuple[Case, bytes]:
    """Render a document of the case (documents.KINDS) and record the export (全过程记录)."""
    case = selectors.get_case_for(actor, case_id, detail=True)
    if kind not in documents.KINDS:
        raise NotFound(_("文书不存在。"))
    if kind in DOCUMENT_READY and case.status not in DOCUMENT_READY[kind]:
        raise Conflict(_("案件尚未到达该文书的环节。"), code="not_ready")
    body = documents.render(case, kind, full_party=selectors.may_see_person(actor, case))
    _record(case, Step.EXPORT, actor, note=kind, data={"document": kind, "bytes": len(body)})
    audit.record(actor, "case.export", case, changes={"document": [None, kind]})
    return case, body
