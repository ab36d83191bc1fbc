"""HTML pages of the catalog: a read-only browser for everyone signed in, and bureau-staff pages for
versions (publish, diff), the one-thing supermarket and imports. Thin: rules live in services/selectors."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.import_page import ImportPreviewView, error_text
from enforcement import importers, selectors
from enforcement.services import access as access_services
from enforcement.services import catalog as catalog_services
from enforcement.services import scenarios as scenarios_services
from enforcement.api.filters import MatterFilter
from enforcement.choices import MatterKind, ScenarioItemKind, VersionStatus
from enforcement.forms import CatalogImportForm
from enforcement.models import ChecklistItem, Delegation
from grids.choices import AreaKind
from grids.models import Area, Department, SubjectCategory

TABS = [("matters", gettext_lazy("执法事项")), ("delegations", gettext_lazy("赋权")),
        ("problem_types", gettext_lazy("权责清单")), ("checklists", gettext_lazy("综合查一次")),
        ("scenarios", gettext_lazy("监管一件事"))]


def _staff_only(request):
    if not access_services.may_edit_catalog(request.user):
        raise PermissionDenied


def _page(request, qs, size=50):
    return Paginator(qs, size).get_page(request.GET.get("page"))


@login_required
def catalog_browser(request):
    tab = request.GET.get("tab") or "matters"
    if tab not in dict(TABS):
        tab = "matters"
    try:
        version = selectors.version_or_current(request.GET.get("version"))
    except DomainError:
        raise Http404
    ctx = {"tab": tab, "tabs": TABS, "version": version, "is_staff": access_services.may_edit_catalog(request.user),
           "versions": selectors.versions().order_by("-number")}
    if tab == "matters":
        qs = MatterFilter(request.GET, queryset=selectors.matters(version)).qs.order_by("code")
        base = selectors.matters(version)
        ctx.update({
            "page": _page(request, qs), "departments": Department.objects.order_by("code"),
            "kinds": MatterKind.choices,
            "domains": list(base.values("domain").annotate(n=Count("id")).order_by("domain")),
            "total": base.count(), "non_site_total": base.filter(non_site=True).count(),
        })
    elif tab == "delegations":
        on = selectors.parse_day(request.GET.get("on")) if request.GET.get("on") else timezone.localdate()
        ctx.update({"on": on, "holdings": selectors.street_holdings(on, version),
                    "templates": selectors.tier_templates()})
        street_code = request.GET.get("street")
        if street_code:
            street = Area.objects.filter(code=street_code, kind=AreaKind.STREET).first()
            if street is None:
                raise Http404
            held = selectors.delegations_on(selectors.delegations(version), on).filter(street=street)
            ctx.update({"street": street, "page": _page(request, held.order_by("matter__code"))})
    elif tab == "problem_types":
        ctx["page"] = _page(request, selectors.problem_types().order_by("group", "code"), 100)
    elif tab == "checklists":
        ctx["checklists"] = selectors.checklists().order_by("code")
        if request.GET.get("checklist"):
            try:
                ctx["checklist"] = selectors.checklist_detail(request.GET["checklist"])
            except DomainError:
                raise Http404
    else:
        ctx["scenarios"] = selectors.scenarios().order_by("code")
    return render(request, "enforcement/catalog.html", ctx)


@login_required
def scenario_detail(request, pk):
    try:
        scenario = selectors.scenario_detail(pk)
    except DomainError:
        raise Http404
    if request.method == "POST":
        _staff_only(request)
        try:
            if request.POST.get("action") == "withdraw":
                scenarios_services.withdraw_scenario(request.user, scenario)
                messages.success(request, _("场景已撤回为草稿。"))
            else:
                scenarios_services.publish_scenario(request.user, scenario)
                messages.success(request, _("场景已发布。"))
        except DomainError as exc:
            messages.error(request, error_text(exc))
        return redirect("catalog-scenario", pk=scenario.pk)
    groups = {}
    for item in scenario.items.all():
        groups.setdefault((item.kind, item.department), []).append(item)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0] != "supervision", kv[0][1].code))
    return render(request, "enforcement/scenario_detail.html", {
        "scenario": scenario, "summary": selectors.scenario_summary(scenario),
        "groups": [{"kind": ScenarioItemKind(k).label, "department": d, "items": items} for (k, d), items in ordered],
        "is_staff": access_services.may_edit_catalog(request.user),
    })


@login_required
def version_list(request):
    _staff_only(request)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "publish":
                v = catalog_services.publish_draft(request.user, note=request.POST.get("note") or None)
                messages.success(request, _("已发布 V%(n)d，上一版本已归档。") % {"n": v.number})
            else:
                v = catalog_services.open_draft(request.user, note=request.POST.get("note", ""))
                messages.success(request, _("草稿 V%(n)d 已打开。") % {"n": v.number})
        except DomainError as exc:
            messages.error(request, error_text(exc))
        return redirect("catalog-versions")
    versions = list(selectors.versions().order_by("-number"))
    return render(request, "enforcement/versions.html", {
        "versions": versions, "draft": next((v for v in versions if v.status == VersionStatus.DRAFT), None),
    })


@login_required
def version_diff(request, pk):
    _staff_only(request)
    try:
        version = selectors.get_version(pk)
        against = selectors.get_version(request.GET["against"]) if request.GET.get("against") else selectors.default_against(version)
    except DomainError:
        raise Http404
    diff = selectors.diff_versions(against, version) if against else None
    return render(request, "enforcement/diff.html", {
        "version": version, "against": against, "diff": diff, "versions": selectors.versions().order_by("-number"),
    })


SUPERMARKET_ROWS = 3000  # every active matter of a district's catalog: the page filters them in the browser


@login_required
def supermarket(request):
    """The one-thing supermarket: pick matters and checklist items (filtered by department and kind), see the
    counts of departments and items, create the scenario and publish it. The filters hide rows in the browser
    (static/js/supermarket.js), so filtering never wipes the scenario being composed; without scripts the
    filter form still filters on the server."""
    _staff_only(request)
    if request.method == "POST":
        return _compose_scenario(request)
    return _supermarket_page(request, request.GET)


def _supermarket_page(request, filters, composed=None, status=200):
    dept, kind, q = filters.get("department", ""), filters.get("kind", ""), filters.get("q", "")
    matters = selectors.matters().filter(status="active").order_by("department__code", "code")
    items = ChecklistItem.objects.select_related("checklist", "department", "area").order_by("checklist__code", "order")
    if dept:
        matters = matters.filter(department__code=dept)
        items = items.filter(department__code=dept)
    if kind:
        matters = matters.filter(kind=kind)
    if q:
        matters = matters.filter(Q(name__icontains=q) | Q(code__icontains=q))
        items = items.filter(Q(text__icontains=q) | Q(matter_code__icontains=q))
    composed = composed or {}
    kinds = composed.get("kinds", {})
    matter_rows, item_rows = list(matters[:SUPERMARKET_ROWS]), list(items[:SUPERMARKET_ROWS])
    for m in matter_rows:
        m.picked = m.code in composed.get("matters", ())
        m.picked_kind = kinds.get(f"kind_matter_{m.code}", ScenarioItemKind.ENFORCEMENT)
    for i in item_rows:
        i.picked = str(i.pk) in composed.get("items", ())
        i.picked_kind = kinds.get(f"kind_item_{i.pk}", ScenarioItemKind.SUPERVISION)
    return render(request, "enforcement/supermarket.html", {
        "matters": matter_rows, "matter_total": matters.count(), "items": item_rows, "item_total": items.count(),
        "departments": Department.objects.order_by("code"), "kinds": MatterKind.choices,
        "categories": SubjectCategory.objects.select_related("parent").order_by("code"),
        "areas": Area.objects.filter(kind__in=[AreaKind.DISTRICT, AreaKind.STREET, AreaKind.ZONE]).order_by("code").only("id", "code", "name", "kind"),
        "item_kinds": ScenarioItemKind.choices, "filters": {"department": dept, "kind": kind, "q": q},
        "composed": composed, "shown_text": _("显示 {shown} / {total} 行（已选的行筛选后仍保留）"),
    }, status=status)


def _compose_scenario(request):
    post = request.POST
    items = []
    for value in post.getlist("matter"):
        kind = post.get(f"kind_matter_{value}") or ScenarioItemKind.ENFORCEMENT
        items.append({"kind": kind, "matter_code": value})
    for value in post.getlist("checklist_item"):
        kind = post.get(f"kind_item_{value}") or ScenarioItemKind.SUPERVISION
        items.append({"kind": kind, "checklist_item": value})
    try:
        scenario = scenarios_services.create_scenario(
            request.user, name=post.get("name", ""), code=post.get("code") or None, description=post.get("description", ""),
            categories=SubjectCategory.objects.filter(pk__in=[int(x) for x in post.getlist("categories") if x.isdigit()]),
            areas=Area.objects.filter(pk__in=[int(x) for x in post.getlist("areas") if x.isdigit()]),
            items=items, publish=post.get("publish") == "on",
        )
    except DomainError as exc:
        # Back to the page with everything picked still picked (and every row shown), the error on top.
        messages.error(request, error_text(exc))
        composed = {
            "name": post.get("name", ""), "code": post.get("code", ""), "description": post.get("description", ""),
            "publish": post.get("publish") == "on", "categories": set(post.getlist("categories")),
            "areas": set(post.getlist("areas")), "matters": set(post.getlist("matter")),
            "items": set(post.getlist("checklist_item")),
            "kinds": {k: v for k, v in post.items() if k.startswith(("kind_matter_", "kind_item_"))},
        }
        return _supermarket_page(request, {}, composed, status=400)
    messages.success(request, _("场景“%(name)s”已创建。") % {"name": scenario.name})
    return redirect("catalog-scenario", pk=scenario.pk)


class ImportPage(ImportPreviewView):
    """Upload → dry-run preview with every bad row → confirm to write (the previewed bytes). Catalog editors only."""

    template_name = "enforcement/import.html"
    form_class = CatalogImportForm
    success_url = "catalog-import"

    def may_import(self, user):
        return access_services.may_edit_catalog(user)

    def run_import(self, user, kind, data, filename, *, dry_run, skip_invalid):
        return importers.run_import(user, kind, data, filename, dry_run=dry_run)  # a catalog import is all or nothing

    def render_page(self, form, status=200, **context):
        return super().render_page(form, status=status, kinds=importers.KIND_LABELS, **context)

    def template_file(self, kind, fmt):
        return importers.blank_template(kind, fmt), f"{kind}-template.{fmt}"


@login_required
def export_file(request):
    kind, fmt = request.GET.get("kind", ""), request.GET.get("format", "xlsx")
    try:
        version = selectors.version_or_current(request.GET.get("version"))
        content = importers.export(kind, fmt, version)
    except DomainError:
        raise Http404
    ctype = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{kind}.{fmt}"'
    return response


@login_required
@require_POST
def revoke_page(request, pk):
    """Revoke one delegation from the browser (staff): the reason is required."""
    _staff_only(request)
    delegation = Delegation.objects.filter(pk=pk).first()
    if delegation is None:
        raise Http404
    try:
        catalog_services.revoke_delegation(request.user, delegation, reason=request.POST.get("reason", ""))
        messages.success(request, _("赋权已撤销。"))
    except DomainError as exc:
        messages.error(request, error_text(exc))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "catalog"
    return redirect(target)
