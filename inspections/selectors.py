"""Reads of plans and visits, scoped by the asking user's areas and role.

- Plans: team leaders, bureau staff and dispatchers of the street (or above) read them; others 403,
  plans of streets outside the user's areas 404.
- Visits: the same people see their streets' visits; an officer sees the visits they are on, once the
  plan is approved ("only approved visits reach the officers").
- Public results (双随机、一公开): completed spot checks, no login, no personal data.
"""
from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from core.exceptions import Forbidden, NotFound
from core.ids import MAX_ID
from core.review import ReviewItem
from core.roles import BUREAU_STAFF, DISPATCHER, OFFICER, TEAM_LEADER, has_role
from enforcement import selectors as catalog
from grids import selectors as grid_selectors
from grids.models import Officer, Subject
from inspections.choices import (
    DueReason, PlanStatus, RectificationKind, RectificationStatus, Result, UnscheduledWhy, VisitKind, VisitStatus,
)
from inspections.models import Finding, FindingPhoto, InspectionPlan, Visit

IN_CHUNK = 5000
PLAN_READ_ROLES = (TEAM_LEADER, BUREAU_STAFF, DISPATCHER)
PLAN_WRITE_ROLES = (TEAM_LEADER, BUREAU_STAFF)
VISIT_ROLES = (TEAM_LEADER, BUREAU_STAFF, DISPATCHER, OFFICER)


def require_plan_reader(user):
    if not has_role(user, *PLAN_READ_ROLES):
        raise Forbidden(_("您的角色无权查看检查计划。"))


def _id(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise NotFound()
    if not 0 < number <= MAX_ID:
        raise NotFound()
    return number


def plans_for(user) -> QuerySet:
    require_plan_reader(user)
    return grid_selectors.scope(InspectionPlan.objects.select_related("street").defer("street__boundary"),
                                user, "street__path")


def get_plan_for(user, plan_id) -> InspectionPlan:
    try:
        return plans_for(user).get(pk=_id(plan_id))
    except (InspectionPlan.DoesNotExist, NotFound):
        raise NotFound(_("检查计划不存在。"))


def plan_visits(plan) -> QuerySet:
    return (plan.visits.select_related("subject").prefetch_related("officers", "departments")
            .annotate(finding_count=Count("findings")).order_by("date", "route_order", "id"))


def plan_figures(plan) -> dict:
    """The visits the plan makes against the separate ones the departments would have made (one per
    department per subject; a visit of no department's items counts as one), computed from the visits
    as they stand. One-off visits are counted apart."""
    return figures_for([plan.pk])[plan.pk]


def unscheduled_rows(plan) -> list[dict]:
    """The due subjects the planner could not place (no officer with room), minus those placed since,
    each with why, and whether next month's plan has taken it up (carried over)."""
    entries = [e for e in plan.unscheduled or () if isinstance(e, dict) and e.get("subject")]
    if not entries:
        return []
    ids = [e["subject"] for e in entries]
    names = {}
    for start in range(0, len(ids), IN_CHUNK):  # a plan may leave thousands out: no giant IN list
        names.update(Subject.objects.filter(pk__in=ids[start:start + IN_CHUNK]).values_list("pk", "name"))
    # A subject's concentrated visits are its street's (the services place visits in the subject's street).
    concentrated = Visit.objects.filter(kind=VisitKind.CONCENTRATED, street_id=plan.street_id)
    placed = set(concentrated.filter(month=plan.month).values_list("subject_id", flat=True))
    after = (plan.month.replace(day=28) + timedelta(days=4)).replace(day=1)
    carried = set(concentrated.filter(month=after).values_list("subject_id", flat=True))
    rows = []
    for e in entries:
        if e["subject"] in placed:
            continue
        reason = e.get("reason") if e.get("reason") in DueReason.values else DueReason.MANUAL
        why = e.get("why") if e.get("why") in UnscheduledWhy.values else UnscheduledWhy.CAP
        rows.append({"subject": e["subject"], "subject_name": names.get(e["subject"], ""), "reason": reason,
                     "reason_label": DueReason(reason).label, "reason_text": str(e.get("text", "")), "why": why,
                     "why_label": UnscheduledWhy(why).label, "carried_to_next_month": e["subject"] in carried})
    return rows


def figures_for(plan_ids) -> dict[int, dict]:
    """plan_figures for many plans in three queries (a list of plans, the district's totals)."""
    plan_ids = list(plan_ids)
    visits = defaultdict(lambda: {"concentrated": 0, "one_off": 0})
    for plan_id, kind, n in (Visit.objects.filter(plan_id__in=plan_ids).values_list("plan_id", "kind")
                             .annotate(n=Count("id")).order_by()):
        visits[plan_id][kind] = n
    dept_rows = dict(Visit.departments.through.objects.filter(
        visit__plan_id__in=plan_ids, visit__kind=VisitKind.CONCENTRATED).values_list("visit__plan_id")
        .annotate(n=Count("id")).order_by())
    no_dept = dict(Visit.objects.filter(plan_id__in=plan_ids, kind=VisitKind.CONCENTRATED, departments__isnull=True)
                   .values_list("plan_id").annotate(n=Count("id")).order_by())
    out = {}
    for plan_id in plan_ids:
        planned = visits[plan_id]["concentrated"]
        separate = dept_rows.get(plan_id, 0) + no_dept.get(plan_id, 0)
        out[plan_id] = {"visits_planned": planned, "separate_visits_replaced": separate,
                        "reduction_percent": round((separate - planned) * 100 / separate, 1) if separate else 0.0,
                        "one_off_visits": visits[plan_id]["one_off"]}
    return out


def total_figures(figures: list[dict]) -> dict:
    planned = sum(f["visits_planned"] for f in figures)
    separate = sum(f["separate_visits_replaced"] for f in figures)
    return {"visits_planned": planned, "separate_visits_replaced": separate,
            "reduction_percent": round((separate - planned) * 100 / separate, 1) if separate else 0.0,
            "one_off_visits": sum(f["one_off_visits"] for f in figures)}


def visits_for(user) -> QuerySet:
    if not has_role(user, *VISIT_ROLES):
        raise Forbidden(_("您的角色无权查看检查。"))
    qs = Visit.objects.select_related("subject", "street", "plan").defer("street__boundary")
    if has_role(user, TEAM_LEADER, BUREAU_STAFF, DISPATCHER):
        return grid_selectors.scope(qs, user, "street__path")
    officer = Officer.objects.filter(user=user).first()
    if officer is None:
        return qs.none()
    return qs.filter(Q(plan__isnull=True) | Q(plan__status=PlanStatus.APPROVED), officers=officer)


def get_visit_for(user, visit_id) -> Visit:
    try:
        return visits_for(user).get(pk=_id(visit_id))
    except (Visit.DoesNotExist, NotFound):
        raise NotFound(_("检查不存在。"))


def may_record(user, visit) -> bool:
    """Who records on a visit (findings, photos, completion, re-inspection, referral): its officers and
    the street's team leader."""
    if visit.officers.filter(user=user).exists():
        return True
    return has_role(user, TEAM_LEADER) and grid_selectors.user_covers_area(user, visit.street)


def open_rectifications(visit) -> QuerySet:
    """The subject's deadline rectifications still open or overdue: what a visit re-inspects."""
    return (Finding.objects.filter(visit__subject_id=visit.subject_id, rectification=RectificationKind.DEADLINE,
                                   corrected_by__isnull=True,
                                   rectification_status__in=(RectificationStatus.OPEN, RectificationStatus.OVERDUE))
            .select_related("visit").order_by("comply_by", "id"))


def get_finding_for(user, finding_id) -> Finding:
    """A finding of a visit the user may see (another street's, or a missing one: 404 alike)."""
    try:
        return (Finding.objects.select_related("visit__subject__grid", "visit__street", "corrected_by")
                .defer("visit__street__boundary")
                .get(pk=_id(finding_id), visit__in=visits_for(user).values("pk")))
    except (Finding.DoesNotExist, NotFound):
        raise NotFound(_("检查发现不存在。"))


def visit_list(user) -> QuerySet:
    return (visits_for(user).prefetch_related("officers", "departments")
            .annotate(finding_count=Count("findings", distinct=True),
                      failed_count=Count("findings", filter=Q(findings__result=Result.FAIL,
                                                              findings__corrected_by__isnull=True), distinct=True)))


def visit_detail(user, visit_id) -> Visit:
    visit = get_visit_for(user, visit_id)
    return (visit_list(user).prefetch_related(
        Prefetch("findings", queryset=Finding.objects.select_related("department", "corrected_by", "referral")
                 .prefetch_related(Prefetch("photos", queryset=FindingPhoto.objects.only(
                     "id", "finding_id", "client_id", "name", "size", "content_type", "sha256", "uploaded_at")))),
        "reinspections").get(pk=visit.pk))


def today_for_officer(user, day) -> QuerySet:
    return visit_list(user).filter(date=day).order_by("route_order", "id")


def visit_items(user, visit) -> list[dict]:
    """The visit's checklist: the merged items of every department for its subject (enforcement's
    merged checklist), each with a stable `code` the findings name."""
    merged = catalog.merged_checklist(user, visit.subject_id)
    out = []
    for group in merged["groups"]:
        dept = group["department"]
        for n, entry in enumerate(group["items"], start=1):
            code = entry["item_code"] or f"{entry['sources'][0]['code']}-{dept['code']}-{n}"
            out.append({"code": code, "text": entry["text"], "matter_code": entry["matter_code"],
                        "department": dept["code"], "department_name": dept["short_name"] or dept["name"],
                        "area": entry["area"], "weight": entry["weight"]})
    return out


def review_items(user) -> list[ReviewItem]:
    """Draft plans waiting for this team leader's approval (their streets)."""
    if not has_role(user, TEAM_LEADER):
        return []
    plans = grid_selectors.scope(InspectionPlan.objects.filter(status=PlanStatus.DRAFT).select_related("street")
                                 .defer("street__boundary"), user, "street__path")
    return [ReviewItem(
        kind="inspection_plan", id=p.pk,
        title=_("%(street)s %(month)s 月度综合查一次计划待批准") % {"street": p.street.name, "month": f"{p.month:%Y-%m}"},
        street=p.street.code, street_name=p.street.name, waiting_since=p.submitted_at, due_at=None,
        url=reverse("inspections:plans") + f"?plan={p.pk}",
        api_url=reverse("inspection-plan-detail", args=[p.pk]),
    ) for p in plans.order_by("submitted_at", "id")]


def public_results() -> QuerySet:
    """Completed random spot checks (双随机、一公开): what any visitor may read, no personal data."""
    return (Visit.objects.filter(status=VisitStatus.COMPLETED, reason=DueReason.GREEN_SPOT_CHECK)
            .select_related("subject", "subject__category", "street").defer("street__boundary")
            .prefetch_related("departments")
            .annotate(failed_count=Count("findings", filter=Q(findings__result=Result.FAIL,
                                                              findings__corrected_by__isnull=True)))
            .order_by("-date", "-id"))
