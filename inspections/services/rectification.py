"""After the visit: re-inspection of deadline rectifications, referral to a case, and the overdue sweep
(credit fact + the command center's event through a signal, exactly once per finding)."""
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import Conflict, ValidationFailed
from credit.choices import FactKind
from credit.services import facts as credit_facts
from enforcement.models import ProblemType
from inspections import signals
from inspections.choices import RectificationKind, RectificationStatus, Result
from inspections.models import Finding, Reinspection, Referral
from inspections.services.common import FINDING_MODEL, SOURCE_APP, _clean_client_id
from inspections.services.rules import severity_for
from inspections.services.visits import _visit_for_writing


def reinspect(actor, visit_id, *, finding, rectified, note="") -> Reinspection:
    """The re-inspection of a deadline rectification. Done: the finding's open and overdue facts are
    withdrawn, and past the comply-by date `rectification_late` is posted."""
    if not isinstance(rectified, bool):
        raise ValidationFailed(fields={"rectified": [_("必须是 true 或 false。")]})
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        row = (Finding.objects.select_for_update(of=("self",)).filter(
            client_id=_clean_client_id(finding, "finding"), visit__subject_id=visit.subject_id,
            rectification=RectificationKind.DEADLINE, corrected_by__isnull=True).first())
        if row is None:
            raise ValidationFailed(fields={"finding": [_("该对象没有此限期整改记录。")]})
        if row.rectification_status == RectificationStatus.DONE:
            raise Conflict(_("该问题已整改完毕。"), code="already_rectified")
        rec = Reinspection.objects.create(finding=row, visit=visit, rectified=rectified, note=str(note or "")[:1000],
                                          recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record(actor, "inspections.reinspected", rec, changes={"finding": [None, row.pk],
                                                                     "rectified": [None, rectified]})
        if rectified:
            now = timezone.now()
            before = row.rectification_status
            row.rectification_status, row.rectified_at = RectificationStatus.DONE, now
            row.save(update_fields=["rectification_status", "rectified_at"])
            audit.record(actor, "inspections.rectified", row, changes={"rectification_status": [before, "done"]})
            ref = {"source_app": SOURCE_APP, "source_model": FINDING_MODEL, "source_pk": row.pk}
            for kind in (FactKind.RECTIFICATION_OPEN, FactKind.RECTIFICATION_OVERDUE):
                credit_facts.withdraw_fact(kind=kind, reason=_("复查确认已整改"), actor=actor, **ref)
            if timezone.localdate(now) > row.comply_by:
                credit_facts.post_fact(visit.subject_id, FactKind.RECTIFICATION_LATE, actor=actor,
                                       source_text=row.item_text[:255], **ref)
    return rec


def refer_to_case(actor, visit_id, *, finding, note="") -> Referral:
    """Record that a failed finding needs a penalty: the casework app opens the case from it."""
    with transaction.atomic():
        visit = _visit_for_writing(actor, visit_id)
        row = Finding.objects.filter(client_id=_clean_client_id(finding, "finding"), visit=visit,
                                     result=Result.FAIL, corrected_by__isnull=True).first()
        if row is None:
            raise ValidationFailed(fields={"finding": [_("本次检查没有该不合格记录。")]})
        if Referral.objects.filter(finding=row).exists():
            raise Conflict(_("该问题已移送立案。"), code="already_referred")
        referral = Referral.objects.create(finding=row, note=str(note or "")[:1000],
                                           referred_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record(actor, "inspections.referred_to_case", referral, changes={"finding": [None, row.pk]})
    return referral


def take_up_referral(actor, *, finding: Finding) -> Referral:
    """The casework app filed the case for this failed finding: its referral is marked taken up (recorded
    now, already taken up, when nobody had referred it). Runs inside the caller's filing transaction;
    the case points at the finding (cases sits above inspections), so nothing here names the case."""
    now = timezone.now()
    referral = Referral.objects.select_for_update().filter(finding=finding).first()
    if referral is None:
        referral = Referral.objects.create(finding=finding, consumed_at=now,
                                           referred_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record(actor, "inspections.referred_to_case", referral, changes={"finding": [None, finding.pk]})
        before = None
    else:
        before, referral.consumed_at = referral.consumed_at, now
        referral.save(update_fields=["consumed_at"])
    audit.record(actor, "inspections.referral_taken_up", referral,
                 changes={"consumed_at": [before.isoformat() if before else None, now.isoformat()]})
    return referral


# --- the overdue sweep -------------------------------------------------------------------------------

def sweep_overdue(today: date | None = None) -> int:
    """Mark open deadline rectifications past their comply-by date overdue: post `rectification_overdue`
    and send `rectification_overdue` (the command center raises an event). Once per finding: the
    conditional UPDATE of `overdue_raised_at` lets one sweeper through, however many run. Returns how
    many were raised."""
    today = today or timezone.localdate()
    ids = list(Finding.objects.filter(rectification_status=RectificationStatus.OPEN, comply_by__lt=today,
                                      overdue_raised_at__isnull=True, corrected_by__isnull=True)
               .values_list("pk", flat=True)[:500])
    raised = 0
    for finding_id in ids:
        with transaction.atomic():
            won = Finding.objects.filter(pk=finding_id, overdue_raised_at__isnull=True,
                                         rectification_status=RectificationStatus.OPEN).update(
                overdue_raised_at=timezone.now(), rectification_status=RectificationStatus.OVERDUE)
            if not won:
                continue
            row = Finding.objects.select_related("visit__subject").get(pk=finding_id)
            subject = row.visit.subject
            audit.record(None, "inspections.rectification_overdue", row, changes={
                "rectification_status": [RectificationStatus.OPEN, RectificationStatus.OVERDUE]})
            credit_facts.post_fact(subject.pk, FactKind.RECTIFICATION_OVERDUE, source_app=SOURCE_APP,
                                   source_model=FINDING_MODEL, source_pk=row.pk, source_text=row.item_text[:255])
            problem = (ProblemType.objects.filter(matter_code=row.matter_code, active=True).order_by("code")
                       .values_list("code", flat=True).first()) if row.matter_code else None
            signals.rectification_overdue.send(
                sender=Finding, finding_id=row.pk, subject_id=subject.pk, lat=subject.lat, lng=subject.lng,
                problem_type=problem or "", severity=severity_for(row.weight),
                description=_("限期整改逾期：%(subject)s，%(item)s（期限 %(day)s）") % {
                    "subject": subject.name, "item": row.item_text[:200], "day": row.comply_by.isoformat()},
                external_id=f"inspection-finding-{row.pk}")
            raised += 1
    return raised
