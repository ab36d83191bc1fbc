"""The visit on the phone: findings (idempotent by client id; corrections are new linked records), photos,
the comply-by default, completion with the representative's signature or refusal."""
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, files
from core.exceptions import Conflict, Forbidden, ValidationFailed
from credit.choices import FactKind
from credit.services import facts as credit_facts
from grids.models import Department
from inspections import selectors
from inspections.choices import PlanStatus, RectificationKind, RectificationStatus, Result, VisitStatus
from inspections.models import Finding, FindingPhoto, Visit
from inspections.services.common import (
    FINDING_MODEL, MAX_PHOTO_BYTES, MAX_SIGNATURE_BYTES, SOURCE_APP, _clean_client_id,
    _int_id_or_404, _system_user,
)
from inspections.services.rules import comply_by_days


# --- the visit ------------------------------------------------------------------------------------

def _visit_for_writing(actor, visit_id) -> Visit:
    visit = selectors.get_visit_for(actor, visit_id) if actor is not None else Visit.objects.get(pk=visit_id)
    visit = Visit.objects.select_for_update(of=("self",)).select_related("street", "subject", "plan").get(pk=visit.pk)
    if actor is not None:
        if not selectors.may_record(actor, visit):
            raise Forbidden(_("只有本次检查的执法人员或本街道队长可以记录检查。"))
    if visit.plan_id and visit.plan.status != PlanStatus.APPROVED:
        raise Conflict(_("计划尚未批准，不能开始检查。"), code="plan_not_approved")
    return visit


def record_finding(actor, visit_id, *, client_id, item, result, note="", rectification="", comply_by=None,
                   correction_reason="") -> tuple[Finding, bool]:
    """Record one checklist item (idempotent by `client_id`: a resend returns the first record, created
    False). An item already recorded is corrected by a new, linked finding; after the visit is complete
    the correction needs a reason. A failed item posts `inspection_finding`; a deadline
    `rectification_open`; the corrected finding's facts are withdrawn."""
    client_id = _clean_client_id(client_id)
    existing = Finding.objects.filter(client_id=client_id).first()
    if existing is not None:
        if existing.visit_id != _int_id_or_404(visit_id):
            raise Conflict(_("该客户端编号已用于另一次检查。"))
        if actor is not None:
            selectors.get_visit_for(actor, visit_id)  # a resend by someone who may not see it: 404
        return existing, False
    errors = {}
    if result not in Result.values:
        errors["result"] = [_("必须是 pass、fail 或 na。")]
    note = "" if note is None else str(note).strip()
    if len(note) > 1000:
        errors["note"] = [_("最多 1000 个字符。")]
    rectification = rectification or ""
    if result == Result.FAIL and rectification not in (RectificationKind.ON_THE_SPOT, RectificationKind.DEADLINE):
        errors["rectification"] = [_("不合格项须选择当场整改或限期整改。")]
    if result in (Result.PASS, Result.NA) and rectification:
        errors["rectification"] = [_("合格或不适用的条目无需整改。")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        items = {i["code"]: i for i in selectors.visit_items(actor if actor is not None else _system_user(), visit)}
        entry = items.get(str(item or ""))
        if entry is None:
            raise ValidationFailed(fields={"item": [_("本次检查清单中没有该条目。")]})
        previous = (Finding.objects.select_for_update(of=("self",)).filter(visit=visit, item_code=entry["code"],
                                                                 corrected_by__isnull=True).first())
        reason = (correction_reason or "").strip()[:500]
        if previous is not None and not reason:
            if visit.status == VisitStatus.COMPLETED:
                raise ValidationFailed(fields={"correction_reason": [_("更正已完成检查的记录须说明原因。")]})
            reason = _("检查中更正")
        if previous is None and visit.status == VisitStatus.COMPLETED:
            raise Conflict(_("检查已完成：只能更正已有记录。"), code="visit_completed")
        due = None
        if rectification == RectificationKind.DEADLINE:
            default = visit.date + timedelta(days=comply_by_days(entry["weight"], entry["code"]))
            due = _clean_comply_by(comply_by, visit.date) if comply_by not in (None, "") else default
        dept = Department.objects.filter(code=entry["department"]).first()
        finding = Finding(
            visit=visit, client_id=client_id, item_code=entry["code"], item_text=entry["text"][:500],
            matter_code=entry["matter_code"][:64], department=dept, weight=entry["weight"], result=result, note=note,
            rectification=rectification, comply_by=due,
            rectification_status=(RectificationStatus.OPEN if rectification == RectificationKind.DEADLINE
                                  else RectificationStatus.DONE if rectification else ""),
            rectified_at=timezone.now() if rectification == RectificationKind.ON_THE_SPOT else None,
            corrects=previous, correction_reason=reason if previous else "",
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
        try:
            with transaction.atomic():
                finding.save()
        except IntegrityError:  # the same client id, sent twice at once: the first one stands
            return Finding.objects.get(client_id=client_id), False
        audit.record(actor, "inspections.finding_recorded", finding, changes={
            "item": [None, finding.item_code], "result": [None, result], "rectification": [None, rectification],
            "comply_by": [None, due], "corrects": [None, previous.pk if previous else None]})
        if previous is not None:
            credit_facts.withdraw_fact(source_app=SOURCE_APP, source_model=FINDING_MODEL, source_pk=previous.pk,
                                       reason=_("检查记录已更正：%(r)s") % {"r": reason}, actor=actor)
        _post_finding_facts(actor, finding, visit)
    return finding, True


def _clean_comply_by(value, visit_day: date) -> date:
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(fields={"comply_by": [_("日期格式应为 YYYY-MM-DD。")]})
    if not visit_day < day <= visit_day + timedelta(days=365):
        raise ValidationFailed(fields={"comply_by": [_("整改期限须在检查日之后一年以内。")]})
    return day


def _post_finding_facts(actor, finding: Finding, visit: Visit):
    if finding.result != Result.FAIL:
        return
    ref = {"source_app": SOURCE_APP, "source_model": FINDING_MODEL, "source_pk": finding.pk}
    text = f"{finding.item_code} {finding.item_text}"[:255]
    credit_facts.post_fact(visit.subject_id, FactKind.INSPECTION_FINDING, points=finding.weight,
                           source_text=text, actor=actor, **ref)
    if finding.rectification == RectificationKind.DEADLINE:
        credit_facts.post_fact(visit.subject_id, FactKind.RECTIFICATION_OPEN, source_text=text, actor=actor, **ref)


def _image(source, field, max_bytes, formats=tuple(files.IMAGE_FORMATS)) -> files.CheckedImage:
    """An uploaded image file or a data URL, checked by content (core.files); 400 on the field otherwise."""
    try:
        return files.read_image(source, max_bytes=max_bytes, formats=formats)
    except files.NotAnImage as exc:
        raise ValidationFailed(fields={field: [str(exc)]})


def add_photo(actor, visit_id, *, client_id, finding, image) -> tuple[FindingPhoto, bool]:
    """A photo of a finding (by the finding's client id), idempotent by the photo's own client id.
    `image` is an uploaded file (the phone sends the picture itself) or a data URL. Stored as a file
    under MEDIA_ROOT with its SHA-256, size and name, who and when (the shape of case evidence)."""
    client_id = _clean_client_id(client_id)
    finding_client = _clean_client_id(finding, "finding")
    existing = FindingPhoto.objects.filter(client_id=client_id).select_related("finding").first()
    if existing is not None:
        if existing.finding.client_id != finding_client:
            raise Conflict(_("该客户端编号已用于另一张照片。"))
        return existing, False
    checked = _image(image, "image", MAX_PHOTO_BYTES)
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        row = Finding.objects.filter(client_id=finding_client, visit=visit).first()
        if row is None:
            raise ValidationFailed(fields={"finding": [_("本次检查没有该条记录。")]})
        if row.photos.count() >= 12:
            raise ValidationFailed(fields={"image": [_("每条记录最多 12 张照片。")]})
        photo = FindingPhoto(finding=row, client_id=client_id, content_type=checked.content_type,
                             sha256=checked.sha256, size=checked.size,
                             name=checked.name or f"{client_id}.{checked.extension}",
                             uploaded_by=actor if getattr(actor, "is_authenticated", False) else None)
        photo.image.save(f"{client_id}.{checked.extension}", ContentFile(checked.content), save=False)
        try:
            with transaction.atomic():
                photo.save()
                audit.record(actor, "inspections.photo_added", photo, changes={"finding": [None, row.pk],
                                                                                "sha256": [None, photo.sha256]})
        except IntegrityError:
            photo.image.delete(save=False)  # nothing half-written: no file without its row
            return FindingPhoto.objects.get(client_id=client_id), False
        except BaseException:
            photo.image.delete(save=False)
            raise
    return photo, True


def complete_visit(actor, visit_id, *, representative_name="", signature=None, refused=False,
                   client_id=None) -> tuple[Visit, bool]:
    """Close the visit: the representative's name and signature (a PNG drawn on the phone), or that they
    refused. A completed visit is a legal record from then on. Sending it again (same client id) returns
    it unchanged."""
    client_id = _clean_client_id(client_id)
    done = Visit.objects.filter(signature_client_id=client_id).first()
    if done is not None:
        if done.pk != _int_id_or_404(visit_id):
            raise Conflict(_("该客户端编号已用于另一次检查。"))
        return done, False
    name = "" if representative_name is None else str(representative_name).strip()
    errors = {}
    if not isinstance(refused, bool):
        errors["refused"] = [_("必须是 true 或 false。")]
    elif refused and signature:
        errors["signature"] = [_("拒绝签字时不应附签名。")]
    elif not refused and (not name or not signature):
        errors["representative_name" if not name else "signature"] = [_("请填写对象代表姓名并签名，或记录拒绝签字。")]
    if len(name) > 50:
        errors["representative_name"] = [_("最多 50 个字符。")]
    if errors:
        raise ValidationFailed(fields=errors)
    content = _image(signature, "signature", MAX_SIGNATURE_BYTES, formats=("PNG",)) if signature else None
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        if visit.status == VisitStatus.COMPLETED:
            raise Conflict(_("检查已完成。"), code="visit_completed")
        if not visit.findings.exists():
            raise ValidationFailed(fields={"findings": [_("请先记录检查条目。")]})
        visit.status, visit.completed_at = VisitStatus.COMPLETED, timezone.now()
        visit.completed_by = actor if getattr(actor, "is_authenticated", False) else None
        visit.representative_name, visit.representative_refused = name, refused
        visit.signature_client_id = client_id
        if content:
            visit.signature.save(f"{client_id}.png", ContentFile(content.content), save=False)
        visit.save()
        audit.record(actor, "inspections.visit_completed", visit, changes={
            "status": [VisitStatus.PLANNED, VisitStatus.COMPLETED], "representative_refused": [None, refused]})
    return visit, True
