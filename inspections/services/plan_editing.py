"""Editing and approving a plan: add, remove and move visits, approve (the street's team leader only); a
change to an approved plan is an amendment (counted, audited). Also standalone and one-off visits."""
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import Conflict, NotFound, ValidationFailed
from grids.models import Area
from inspections import routing, selectors
from inspections.choices import DueReason, OneOffReason, PlanStatus, VisitKind, VisitStatus
from inspections.models import InspectionPlan, Visit
from inspections.services.common import (
    _check_cap, _checklist_of, _clean_day, _clean_officers, _int_id_or_404, _subject_in_street, require_leader,
    require_planner, street_for,
)


def _amended(actor, plan: InspectionPlan, what: str):
    """A change to an approved plan is an amendment: counted and audited on the plan."""
    if plan is not None and plan.status == PlanStatus.APPROVED:
        InspectionPlan.objects.filter(pk=plan.pk).update(amendments=plan.amendments + 1)
        audit.record(actor, "inspections.plan_amended", plan, changes={"amendments": [plan.amendments,
                                                                                       plan.amendments + 1],
                                                                        "change": [None, what]})
        plan.amendments += 1


def _visit_changes(visit) -> dict:
    return {"subject": visit.subject_id, "date": visit.date, "kind": visit.kind,
            "officers": sorted(visit.officers.values_list("pk", flat=True)), "reason": visit.reason}


def _insert_visit(visit: Visit, officers, department_ids):
    """Insert in a savepoint: the database's one-visit rule may refuse it (a concurrent planner won)."""
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        raise Conflict(_("该管理对象本月已有一次集中检查（一月一次）。"), code="one_visit_per_month")
    visit.officers.set(officers)
    visit.departments.set(department_ids)


def _already_planned(subject_id, first: date) -> bool:
    return Visit.objects.filter(subject_id=subject_id, month=first, kind=VisitKind.CONCENTRATED).exists()


def _reroute_day(visit_day: date, street: Area, lead_officer_id: int | None):
    """Recompute the route order of one lead officer's day after a visit was added or moved."""
    if lead_officer_id is None:
        return
    members = [v for v in Visit.objects.filter(street=street, date=visit_day).select_related("subject")
               .prefetch_related("officers").order_by("subject_id")
               if v.officers.all() and min(o.pk for o in v.officers.all()) == lead_officer_id]
    points = [(v.subject.lat, v.subject.lng) for v in members]
    for n, i in enumerate(routing.nearest_neighbour_order(points), start=1):
        if members[i].route_order != n:
            Visit.objects.filter(pk=members[i].pk).update(route_order=n)


# --- editing the plan ----------------------------------------------------------------------------

def _locked_plan(actor, plan_id) -> InspectionPlan:
    plan = selectors.get_plan_for(actor, plan_id) if actor is not None else InspectionPlan.objects.get(pk=plan_id)
    plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("street").get(pk=plan.pk)
    require_planner(actor, plan.street)
    return plan


def add_visit(actor, plan_id, *, subject, date, officers, kind=VisitKind.CONCENTRATED, one_off_reason="",
              reason_text="") -> Visit:
    """The leader adds a visit to the plan. A second concentrated visit of the subject this month is a
    409 (checked here, and by the database's constraint when two planners race). A subject the planner
    could not schedule (the plan's `unscheduled`) is placed with the reason it was due."""
    with transaction.atomic():
        plan = _locked_plan(actor, plan_id)
        waiting = _waiting_entry(plan, subject) if kind == VisitKind.CONCENTRATED else None
        visit = _new_visit(actor, plan.street, plan=plan, subject=subject, day=date, officers=officers, kind=kind,
                           one_off_reason=one_off_reason, reason_text=reason_text or (waiting or {}).get("text", ""),
                           first=plan.month, due_reason=(waiting or {}).get("reason"))
        if waiting is not None:
            audit.record(actor, "inspections.unscheduled_placed", plan, changes={
                "subject": [None, visit.subject_id], "date": [None, visit.date]})
        _amended(actor, plan, f"add visit {visit.pk}")
    return visit


def _waiting_entry(plan: InspectionPlan, subject) -> dict | None:
    """The plan's unscheduled entry of this subject, if the planner left it out."""
    try:
        subject_id = int(subject)
    except (TypeError, ValueError, OverflowError):
        return None
    return next((e for e in plan.unscheduled or () if isinstance(e, dict) and e.get("subject") == subject_id
                 and e.get("reason") in DueReason.values), None)


def create_visit(actor, *, street, subject, date, officers, kind=VisitKind.ONE_OFF, one_off_reason="",
                 reason_text="") -> Visit:
    """A visit outside the monthly plan: a one-off (complaint, event, emergency) or a concentrated
    visit of its own (the one-visit rule holds all the same)."""
    street_area = street_for(actor, street)
    require_planner(actor, street_area)
    with transaction.atomic():
        return _new_visit(actor, street_area, plan=None, subject=subject, day=date, officers=officers, kind=kind,
                          one_off_reason=one_off_reason, reason_text=reason_text, first=None)


def _new_visit(actor, street, *, plan, subject, day, officers, kind, one_off_reason, reason_text, first,
               due_reason=None) -> Visit:
    errors = {}
    if kind not in VisitKind.values:
        errors["kind"] = [_("必须是 %(v)s 之一。") % {"v": ", ".join(VisitKind.values)}]
    elif kind == VisitKind.ONE_OFF and one_off_reason not in (OneOffReason.COMPLAINT, OneOffReason.EVENT,
                                                               OneOffReason.EMERGENCY):
        errors["one_off_reason"] = [_("专项检查须说明原因：投诉、事件或突发情况。")]
    elif kind == VisitKind.CONCENTRATED and one_off_reason:
        errors["one_off_reason"] = [_("集中检查不填专项原因。")]
    if errors:
        raise ValidationFailed(fields=errors)
    subject_row = _subject_in_street(actor, street, subject)
    day = _clean_day(day, first)
    officer_rows = _clean_officers(street, officers)
    month = day.replace(day=1)
    if kind == VisitKind.CONCENTRATED and _already_planned(subject_row.pk, month):
        raise Conflict(_("该管理对象本月已有一次集中检查（一月一次）。"), code="one_visit_per_month")
    _check_cap(officer_rows, day)
    dept_ids, item_count = _checklist_of(actor, subject_row)
    visit = Visit(plan=plan, street=street, subject=subject_row, date=day, month=month, kind=kind,
                  one_off_reason=one_off_reason if kind == VisitKind.ONE_OFF else "",
                  reason=DueReason.ONE_OFF if kind == VisitKind.ONE_OFF else due_reason or DueReason.MANUAL,
                  reason_text=(reason_text or "")[:500], item_count=item_count,
                  created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _insert_visit(visit, officer_rows, dept_ids)
    _reroute_day(day, street, officer_rows[0].pk)
    audit.record(actor, "inspections.visit_added", visit, changes={k: [None, v] for k, v in _visit_changes(visit).items()})
    return visit


def _plan_visit(actor, plan_id, visit_id) -> tuple[InspectionPlan, Visit]:
    plan = _locked_plan(actor, plan_id)
    visit = Visit.objects.select_for_update().filter(pk=_int_id_or_404(visit_id), plan=plan).first()
    if visit is None:
        raise NotFound(_("检查不存在。"))
    if visit.status != VisitStatus.PLANNED or visit.findings.exists():
        raise Conflict(_("检查已开始或已完成，不能再调整。"), code="visit_started")
    return plan, visit


def remove_visit(actor, plan_id, visit_id):
    with transaction.atomic():
        plan, visit = _plan_visit(actor, plan_id, visit_id)
        before = _visit_changes(visit)
        audit.record(actor, "inspections.visit_removed", visit, changes={k: [v, None] for k, v in before.items()})
        visit.officers.clear()
        visit.departments.clear()
        visit.delete()
        _amended(actor, plan, f"remove visit {visit_id}")


def move_visit(actor, plan_id, visit_id, *, date=None, officers=None) -> Visit:
    """Move a planned visit to another day and/or other officers (cap and street checked again)."""
    if date is None and officers is None:
        raise ValidationFailed(fields={"date": [_("请指定新的日期或检查人员。")]})
    with transaction.atomic():
        plan, visit = _plan_visit(actor, plan_id, visit_id)
        before = _visit_changes(visit)
        day = _clean_day(date, plan.month) if date is not None else visit.date
        officer_rows = (_clean_officers(plan.street, officers) if officers is not None
                        else list(visit.officers.select_for_update().order_by("pk")))
        _check_cap(officer_rows, day, exclude_visit=visit)
        old_lead = min((o.pk for o in visit.officers.all()), default=None)
        old_day = visit.date
        visit.date = day
        visit.save(update_fields=["date"])
        visit.officers.set(officer_rows)
        changes = audit.diff(before, _visit_changes(visit))
        if changes:
            audit.record(actor, "inspections.visit_moved", visit, changes=changes)
            _amended(actor, plan, f"move visit {visit.pk}")
        _reroute_day(old_day, plan.street, old_lead)
        _reroute_day(day, plan.street, officer_rows[0].pk)
        visit.refresh_from_db()
    return visit


def approve_plan(actor, plan_id) -> InspectionPlan:
    with transaction.atomic():
        plan = selectors.get_plan_for(actor, plan_id) if actor is not None else InspectionPlan.objects.get(pk=plan_id)
        plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("street").get(pk=plan.pk)
        require_leader(actor, plan.street)
        if plan.status == PlanStatus.APPROVED:
            raise Conflict(_("计划已批准。"), code="already_approved")
        plan.status, plan.approved_at = PlanStatus.APPROVED, timezone.now()
        plan.approved_by = actor if getattr(actor, "is_authenticated", False) else None
        plan.save(update_fields=["status", "approved_at", "approved_by"])
        audit.record(actor, "inspections.plan_approved", plan, changes={"status": [PlanStatus.DRAFT, PlanStatus.APPROVED]})
    return plan
