"""Pages of inspect-once: the leader's monthly plan (calendar, route map, move, approve), the visit list
and a visit's page, the public spot-check results, and the officer's phone flow (/m/inspections/).
Thin: reads in inspections.selectors, writes in inspections.services (domain errors become form errors)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import script_text
from core.exceptions import DomainError, Forbidden, NotFound, ValidationFailed
from core.roles import has_role
from grids.models import Area, Officer
from inspections import selectors, services
from inspections.choices import PlanStatus, RectificationStatus, Result, VisitStatus
from inspections.models import FindingPhoto

PAGE_SIZE = 50
MAX_FORM_ROWS = 600  # the rules form's rows (500 items + bands), whatever count the post claims


def _guard(func):
    """Domain refusals as pages: 403 and 404 as such."""
    def wrapper(request, *args, **kwargs):
        try:
            return func(request, *args, **kwargs)
        except Forbidden:
            raise PermissionDenied
        except NotFound:
            raise Http404
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@login_required
@_guard
def plans(request):
    """The month's plan of a street: calendar by day and officer, the day's route, move, approve."""
    qs = selectors.plans_for(request.user)
    plan = None
    if request.GET.get("plan"):
        plan = selectors.get_plan_for(request.user, request.GET["plan"])
    else:
        plan = qs.order_by("-month", "street__code").first()
    plan_list = list(qs.order_by("-month", "street__code")[:24])
    figures = selectors.figures_for(p.pk for p in plan_list)
    for p in plan_list:
        p.figures = figures[p.pk]
    context = {"plan_list": plan_list, "total": selectors.total_figures(list(figures.values())),
               "streets": Area.objects.filter(kind="street").defer("boundary").order_by("code"),
               "can_plan": has_role(request.user, *selectors.PLAN_WRITE_ROLES),
               "next_month": f"{services.next_month(timezone.localdate()):%Y-%m}"}
    if plan is not None:
        visits = list(selectors.plan_visits(plan))
        days = sorted({v.date for v in visits} | set(services.working_days(plan.month)))
        officers = list(Officer.objects.filter(team__street=plan.street).order_by("id"))
        cells = {(o.pk, d): [] for o in officers for d in days}
        for v in visits:
            for o in v.officers.all():
                cells.setdefault((o.pk, v.date), []).append(v)
        rows = [{"officer": o, "cells": [{"day": d, "visits": cells.get((o.pk, d), [])} for d in days]}
                for o in officers]
        day = request.GET.get("day") or (days[0].isoformat() if days else "")
        route = [{"id": v.pk, "name": v.subject.name, "lat": v.subject.lat, "lng": v.subject.lng,
                  "order": v.route_order, "lead": min((o.pk for o in v.officers.all()), default=0)}
                 for v in visits if v.date.isoformat() == day]
        context.update({
            "plan": plan, "figures": selectors.plan_figures(plan), "visits": visits, "days": days, "rows": rows,
            "unscheduled": selectors.unscheduled_rows(plan),
            "officers": officers, "day": day,
            "may_approve": plan.status == PlanStatus.DRAFT and has_role(request.user, "team_leader"),
            "config": {"plan": plan.pk, "api": reverse("inspection-plan-detail", args=[plan.pk]), "route": route,
                       "messages": script_text.pick(("failed", "loading"))},
        })
    return render(request, "inspections/plans.html", context)


@login_required
@require_POST
def plan_new(request):
    try:
        plan = services.draft_plan(request.user, street=request.POST.get("street", ""),
                                   month=request.POST.get("month", ""))
    except Forbidden:
        raise PermissionDenied
    except NotFound:
        raise Http404
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("inspections:plans")
    return redirect(reverse("inspections:plans") + f"?plan={plan.pk}")


def _act(request, action, done_message, target):
    """A page's POST: the service call, its refusals as 403/404, other domain errors as a message."""
    try:
        action()
        messages.success(request, done_message)
    except Forbidden:
        raise PermissionDenied
    except NotFound:
        raise Http404
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect(target)


@login_required
@require_POST
def plan_approve(request, pk):
    return _act(request, lambda: services.approve_plan(request.user, pk), _("计划已批准。"),
                reverse("inspections:plans") + f"?plan={pk}")


@login_required
@require_POST
def visit_move(request, pk, visit_id):
    """The keyboard way to move a visit (the calendar's drag does the same through the API)."""
    officers = [o for o in request.POST.getlist("officers") if o]
    return _act(request, lambda: services.move_visit(request.user, pk, visit_id, date=request.POST.get("date") or None,
                                                     officers=officers or None), _("已调整。"),
                reverse("inspections:plans") + f"?plan={pk}&day={request.POST.get('date', '')}")


@login_required
@require_POST
def visit_add(request, pk):
    """Place a subject the planner could not schedule (or any subject) on a day with officers."""
    officers = [o for o in request.POST.getlist("officers") if o]
    return _act(request, lambda: services.add_visit(request.user, pk, subject=request.POST.get("subject"),
                                                    date=request.POST.get("date"), officers=officers),
                _("已加入计划。"), reverse("inspections:plans") + f"?plan={pk}")


@login_required
@_guard
def visit_list(request):
    qs = selectors.visit_list(request.user).order_by("-date", "route_order", "id")
    f = {k: request.GET.get(k, "") for k in ("status", "result", "department", "overdue")}
    if f["status"] in VisitStatus.values:
        qs = qs.filter(status=f["status"])
    if f["department"]:
        qs = qs.filter(departments__code=f["department"][:32]).distinct()
    if f["result"] == Result.FAIL:
        qs = qs.filter(status=VisitStatus.COMPLETED, failed_count__gt=0)
    elif f["result"] == Result.PASS:
        qs = qs.filter(status=VisitStatus.COMPLETED, failed_count=0)
    if f["overdue"] == "1":
        qs = qs.filter(findings__rectification_status=RectificationStatus.OVERDUE,
                       findings__corrected_by__isnull=True).distinct()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    from grids.models import Department
    return render(request, "inspections/list.html", {
        "page": page, "f": f, "statuses": VisitStatus.choices, "departments": Department.objects.order_by("code")})


@login_required
@_guard
def visit_page(request, pk):
    """A visit's findings, photos and signature; for its officers and the street's leader, the actions
    after the visit: refer a failed finding to a case, re-inspect the subject's open rectifications."""
    visit = selectors.visit_detail(request.user, pk)
    may_record = selectors.may_record(request.user, visit)
    return render(request, "inspections/visit.html", {
        "visit": visit, "findings": visit.findings.all(), "may_record": may_record,
        "open_rectifications": list(selectors.open_rectifications(visit)) if may_record else []})


@login_required
@require_POST
def visit_refer(request, pk):
    """Refer a failed finding to a case (移送立案): recorded; the casework app files the case."""
    return _act(request, lambda: services.refer_to_case(
        request.user, pk, finding=request.POST.get("finding"), note=request.POST.get("note", "")),
        _("已移送立案。"), reverse("inspections:visit", args=[pk]))


@login_required
@require_POST
def visit_reinspect(request, pk):
    """Re-inspect one of the subject's deadline rectifications: rectified or not."""
    rectified = {"1": True, "0": False}.get(request.POST.get("rectified", ""), request.POST.get("rectified"))
    return _act(request, lambda: services.reinspect(
        request.user, pk, finding=request.POST.get("finding"), rectified=rectified,
        note=request.POST.get("note", "")), _("复查结果已记录。"), reverse("inspections:visit", args=[pk]))


@login_required
@_guard
def photo(request, pk, photo_id):
    """A finding's photo (or the signature, photo_id 0), only to those who may see the visit."""
    visit = selectors.get_visit_for(request.user, pk)
    if photo_id == 0:
        if not visit.signature:
            raise Http404
        return FileResponse(visit.signature.open("rb"), content_type="image/png")
    row = FindingPhoto.objects.filter(pk=photo_id, finding__visit=visit).first()
    if row is None:
        raise Http404
    return FileResponse(row.image.open("rb"), content_type=row.content_type)


def results_public(request):
    """双随机、一公开: completed spot checks, no login, no personal data."""
    page = Paginator(selectors.public_results(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inspections/results_public.html", {"page": page})


@login_required
@_guard
def mobile(request):
    """The officer's visits of today in route order; a visit opens the recording flow (works offline)."""
    officer = Officer.objects.filter(user=request.user).first()
    if officer is None:
        raise PermissionDenied(_("手机检查页仅供执法队员使用。"))
    today = timezone.localdate()
    visits = list(selectors.today_for_officer(request.user, today))
    config = {"visitsUrl": reverse("inspection-list"), "today": today.isoformat(),
              "swUrl": reverse("inspections:service-worker"), "scope": reverse("inspections:mobile"),
              "text": {"saved": _("已保存"), "queued": _("已暂存，联网后自动发送"), "offline": _("离线：记录暂存在手机上"),
                       "online": _("在线"), "pending": _("待发送"), "allSent": _("全部已发送"),
                       "chooseResult": _("请选择结果"), "needSignature": _("请填写姓名并签名，或勾选拒绝签字"),
                       "completed": _("检查已完成"), "failed": _("操作失败")}}
    return render(request, "inspections/mobile.html", {"officer": officer, "visits": visits, "config": config,
                                                        "today": today})


def service_worker(request):
    """The phone flow's service worker, served from /m/inspections/ so its scope covers the flow."""
    from django.contrib.staticfiles import finders

    path = finders.find("js/inspections/sw.js")
    response = FileResponse(open(path, "rb"), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/m/inspections/"
    response["Cache-Control"] = "no-cache"
    return response


def _posted_rows(post, prefix, key_name) -> list[dict]:
    """Rows `<prefix>-<n>-key` / `<prefix>-<n>-days` of the rules form; a row with both empty is dropped
    (that removes it)."""
    rows = []
    count = post.get(f"{prefix}-count", "")
    for n in range(min(int(count), MAX_FORM_ROWS) if count.isdigit() else 0):
        key, days = post.get(f"{prefix}-{n}-key", "").strip(), post.get(f"{prefix}-{n}-days", "").strip()
        if key or days:
            rows.append({key_name: key, "days": days})
    return rows


@login_required
@_guard
def rules(request):
    """Bureau staff: the per-officer daily cap and the comply-by days (by weight band, by checklist item)."""
    errors = {}
    if request.method == "POST":
        try:
            services.save_rules(
                request.user, daily_cap=request.POST.get("daily_cap", "").strip() or None,
                comply_by_defaults=_posted_rows(request.POST, "band", "min_weight"),
                comply_by_items=_posted_rows(request.POST, "item", "item_code"))
            messages.success(request, _("检查计划规则已保存。"))
            return redirect("inspections:rules")
        except ValidationFailed as exc:
            errors = exc.fields
    current = services.rules_for(request.user)
    bands = current["comply_by_defaults"] or current["comply_by_builtin"]
    return render(request, "inspections/rules.html", {
        "rules": current, "errors": errors, "bands": bands + [{}, {}], "items": current["comply_by_items"] + [{}] * 3,
        "band_count": len(bands) + 2, "item_count": len(current["comply_by_items"]) + 3}, status=400 if errors else 200)
