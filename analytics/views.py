"""Pages of analytics: /reports/ (the figures as charts, each with its table and exports) and
/reports/warnings/ (hot-area warnings, acknowledged with a note). Thin: figures come from the selectors the
API uses, with the same parameter checks."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics import monthly, params, services, tables
from analytics.choices import GroupBy
from analytics.forms import ReportForm
from analytics.selectors import cases as case_figures
from analytics.selectors import events as event_figures
from analytics.selectors import inspections as inspection_figures
from analytics.selectors import trends as trend_figures
from analytics.selectors import warnings as warning_selectors
from core.exceptions import DomainError, NotFound, ValidationFailed
from core.roles import BUREAU_STAFF, DISPATCHER, TEAM_LEADER, has_role
from core.tabular import write_table
from grids import selectors as grid_selectors

REPORT_ROLES = (DISPATCHER, TEAM_LEADER, BUREAU_STAFF)
FORM_FIELDS = {"from": "date_from", "to": "date_to", "area": "area", "group_by": "group_by"}  # parameter → field
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _require_reader(user):
    if not (has_role(user, *REPORT_ROLES) or user.is_superuser):
        raise PermissionDenied


@login_required
def reports(request):
    _require_reader(request.user)
    form = ReportForm(request.GET or None, user=request.user)
    context = {"form": form, "definitions": {k: str(v) for k, v in event_figures.DEFINITIONS.items()},
               "inspection_definitions": [str(v) for v in inspection_figures.DEFINITIONS.values()],
               "case_definitions": [str(v) for v in case_figures.DEFINITIONS.values()]}
    if form.is_bound and not form.is_valid():
        return render(request, "analytics/reports.html", context, status=400)
    query = form.query() if form.is_bound else {}
    try:
        period = params.parse(request.user, query)
    except NotFound:
        raise Http404
    except ValidationFailed as exc:
        for field, errors in exc.fields.items():
            form.add_error(FORM_FIELDS.get(field), errors)
        return render(request, "analytics/reports.html", context, status=400)
    rows = event_figures.event_figures(request.user, period)
    interval = (form.cleaned_data.get("interval") if form.is_bound else "") or GroupBy.WEEK
    trend = trend_figures.trends(request.user, params.make_period(period.area, period.date_from, period.date_to,
                                                                  interval), interval=interval)
    # Inspections and cases group by street, team, officer, grid or time only; another grouping shows them ungrouped.
    by_street_or_time = params.make_period(period.area, period.date_from, period.date_to,
                                           period.group_by if period.group_by in inspection_figures.GROUPS else None)
    inspections = inspection_figures.inspection_figures(request.user, by_street_or_time)
    cases = case_figures.case_figures(request.user, by_street_or_time)
    built = {"events": tables.event_table(rows), "stages": tables.stage_table(rows),
             "sources": tables.source_table(rows), "trends": tables.trend_table(trend),
             "inspections": tables.inspection_table(inspections), "cases": tables.case_table(cases)}
    export, fmt = request.GET.get("export"), request.GET.get("format", "csv")
    if export:
        if export not in built or fmt not in CONTENT_TYPES:
            raise Http404
        headers, body = built[export]
        response = HttpResponse(write_table(fmt, headers, body), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{export}-{period.date_from}-{period.date_to}.{fmt}"'
        return response
    context.update(period=period, tables=built, columns={k: tables.columns(k, v[0]) for k, v in built.items()},
                   chart={"events": rows, "trend": trend,
                                                       "sources": built["sources"][1],
                                                       "stages": built["stages"][1],
                                                       "inspections": inspections, "cases": cases},
                   query=request.GET.urlencode(), grouped_apart=period.group_by != by_street_or_time.group_by)
    return render(request, "analytics/reports.html", context)


@login_required
def monthly_pdf(request):
    """A street's monthly report as a printable PDF (?area=<street code>&month=YYYY-MM). Another street: 404;
    not a street, a bad month: 400 saying which."""
    _require_reader(request.user)
    try:
        pdf, name = monthly.monthly_report(request.user, area_code=request.GET.get("area", ""),
                                           month=request.GET.get("month", ""))
    except NotFound:
        raise Http404
    except ValidationFailed as exc:
        return HttpResponseBadRequest("\n".join(m for ms in exc.fields.values() for m in ms),
                                      content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def warnings_page(request):
    _require_reader(request.user)
    only_open = request.GET.get("open", "1") == "1"
    warnings = warning_selectors.warnings_for(request.user, open_only=only_open)[:200]
    return render(request, "analytics/warnings.html", {"warnings": warnings, "only_open": only_open})


@login_required
@require_POST
def acknowledge(request, pk):
    _require_reader(request.user)
    try:
        warning = warning_selectors.get_warning_for(request.user, pk)
    except NotFound:
        raise Http404
    try:
        services.acknowledge_warning(request.user, warning, note=request.POST.get("note", ""))
        messages.success(request, _("预警已确认。"))
    except DomainError as exc:
        messages.error(request, str(exc) or "; ".join(m for ms in (exc.fields or {}).values() for m in ms))
    return redirect("report-warnings")


@login_required
def assessment_page(request):
    """The monthly assessment: the ranked scorecard (CSV/XLSX), and for district bureau staff the weights."""
    _require_reader(request.user)
    from analytics.selectors import assessment

    month = request.GET.get("month") or timezone.localdate().strftime("%Y-%m")
    level = request.GET.get("level") or "team"
    errors, card = {}, None
    may_set = has_role(request.user, BUREAU_STAFF) and grid_selectors.user_area_paths(request.user) is None
    if request.method == "POST":
        if not may_set:
            raise PermissionDenied
        try:
            raw = {k: request.POST.get(k, "") for k in assessment.INDICATORS}
            weights = {}
            for k, v in raw.items():
                try:
                    weights[k] = float(v)
                except ValueError:
                    raise ValidationFailed(fields={k: [_("权重应为 0 到 100 之间的数。")]})
            services.set_assessment_weights(request.user, weights=weights)
            messages.success(request, _("考核权重已保存。"))
            return redirect(f"{request.path}?month={month}&level={level}")
        except ValidationFailed as exc:
            errors = exc.fields
    try:
        card = assessment.scorecard(request.user, month=month, level=level)
    except ValidationFailed as exc:
        errors = {**errors, **exc.fields}
    headers = [_("名次"), _("名称"), _("得分"), *[str(v) for v in assessment.INDICATORS.values()], _("受理")]
    body = [[r["rank"], r["label"], r["score"], *[r["indicators"][k] for k in assessment.INDICATORS], r["received"]]
            for r in (card["rows"] if card else [])]
    fmt = request.GET.get("format")
    if fmt and card:
        if fmt not in CONTENT_TYPES:
            raise Http404
        response = HttpResponse(write_table(fmt, headers, body), content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="assessment-{card["month"]}-{level}.{fmt}"'
        return response
    return render(request, "analytics/assessment.html", {
        "month": month, "level": level, "table": (headers, body), "errors": errors, "may_set": may_set,
        "weights": [(k, str(label), (card or {}).get("weights", assessment.weights())[k])
                    for k, label in assessment.INDICATORS.items()],
    }, status=400 if errors else 200)
