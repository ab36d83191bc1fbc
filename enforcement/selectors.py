"""Reads of the matter catalog.

The catalog itself (matters, delegations, problem types, checklists, scenarios) is the district's published
power list: every signed-in user may read it. What is scoped is what concerns a place: the merged checklist
of a subject is only given to users whose areas cover the subject (404 otherwise).

`route()` (the power list decision used by event intake) lives in enforcement.routing and is re-exported here.
"""
from collections import OrderedDict
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import NotFound, ValidationFailed
from enforcement.choices import ScenarioStatus, VersionStatus
from enforcement.models import (
    CatalogVersion, Checklist, ChecklistItem, Delegation, Matter, ProblemType, Scenario, ScenarioItem, TierTemplate,
)
from enforcement.routing import RouteDecision, about_subject, route, route_in_street  # noqa: F401  (the public routing API)
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.models import Area, Department

__all__ = [
    "RouteDecision", "route", "route_in_street", "current_version", "draft_version", "get_version", "matters",
    "delegations", "delegations_on", "matters_held", "streets_holding", "diff_versions", "merged_checklist",
]


# --- Versions ---------------------------------------------------------------------------------

def current_version() -> CatalogVersion | None:
    return CatalogVersion.objects.filter(status=VersionStatus.PUBLISHED).first()


def draft_version() -> CatalogVersion | None:
    return CatalogVersion.objects.filter(status=VersionStatus.DRAFT).first()


def versions() -> QuerySet:
    return CatalogVersion.objects.select_related("created_by", "published_by", "based_on").annotate(
        matter_count=Count("matters", distinct=True)).order_by("-number")


def get_version(version_id) -> CatalogVersion:
    try:
        return CatalogVersion.objects.get(pk=int(version_id))
    except (CatalogVersion.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("事项清单版本不存在。"))


def version_or_current(version_id=None) -> CatalogVersion | None:
    """The version asked for (`?version=<id>`), else the published one (None when nothing is published)."""
    if version_id not in (None, ""):
        return get_version(version_id)
    return current_version()


def parse_day(value, field="on") -> date:
    if value in (None, ""):
        return timezone.localdate()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(fields={field: [_("日期格式应为 YYYY-MM-DD。")]})


# --- Matters and delegations ------------------------------------------------------------------

def matters(version: CatalogVersion | None = None) -> QuerySet:
    version = version if version is not None else current_version()
    if version is None:
        return Matter.objects.none()
    return Matter.objects.filter(version=version).select_related("department", "version")


def delegations(version: CatalogVersion | None = None) -> QuerySet:
    version = version if version is not None else current_version()
    if version is None:
        return Delegation.objects.none()
    return Delegation.objects.filter(matter__version=version).select_related(
        "matter", "matter__department", "matter__version", "street", "revoked_by")


def in_force_q(on_date: date, prefix: str = "") -> Q:
    """Delegations in force on a day: started, not ended, not revoked on or before that day."""
    next_midnight = timezone.make_aware(datetime.combine(on_date + timedelta(days=1), dtime.min))
    return (
        Q(**{f"{prefix}effective_from__lte": on_date})
        & (Q(**{f"{prefix}effective_to__isnull": True}) | Q(**{f"{prefix}effective_to__gte": on_date}))
        & (Q(**{f"{prefix}revoked_at__isnull": True}) | Q(**{f"{prefix}revoked_at__gte": next_midnight}))
    )


def delegations_on(qs: QuerySet, on_date: date) -> QuerySet:
    return qs.filter(in_force_q(on_date), matter__status="active")


def matters_held(street: Area, on_date: date | None = None, version: CatalogVersion | None = None) -> QuerySet:
    """The matters street S holds on day D (default today), in the given version (default the published one)."""
    on_date = on_date or timezone.localdate()
    held = delegations_on(delegations(version), on_date).filter(street=street).values("matter_id")
    return Matter.objects.filter(pk__in=held).select_related("department").order_by("code")


def streets_holding(matter_code: str, on_date: date | None = None, version: CatalogVersion | None = None) -> QuerySet:
    """The streets holding matter M on day D (default today)."""
    on_date = on_date or timezone.localdate()
    held = delegations_on(delegations(version), on_date).filter(matter__code=matter_code).values("street_id")
    return Area.objects.filter(pk__in=held, kind=AreaKind.STREET).order_by("code")


def street_holdings(on_date: date | None = None, version: CatalogVersion | None = None) -> list[dict]:
    """Per street: how many matters it holds on the day, in how many domains (for the catalog browser)."""
    on_date = on_date or timezone.localdate()
    rows = (delegations_on(delegations(version), on_date).values("street_id")
            .annotate(n=Count("matter__code", distinct=True), domains=Count("matter__domain", distinct=True)))
    counts = {r["street_id"]: r for r in rows}
    out = []
    for street in Area.objects.filter(kind=AreaKind.STREET).order_by("code"):
        r = counts.get(street.pk, {})
        out.append({"street": street, "matters": r.get("n", 0), "domains": r.get("domains", 0)})
    return out


def problem_types() -> QuerySet:
    return ProblemType.objects.all()


def tier_templates() -> QuerySet:
    return TierTemplate.objects.all()


# --- Diff between versions --------------------------------------------------------------------

DIFF_MATTER_FIELDS = ("name", "law", "article", "department", "kind", "domain", "non_site", "major_decision", "status")
DIFF_DELEGATION_FIELDS = ("tier", "effective_to", "revoked", "revoke_reason")


def _matter_rows(version):
    return {
        r["code"]: r for r in Matter.objects.filter(version=version).values(
            "code", "name", "law", "article", "department__code", "kind", "domain", "non_site", "major_decision",
            "status")
    }


def _delegation_rows(version):
    out = {}
    for r in Delegation.objects.filter(matter__version=version).values(
            "matter__code", "matter__name", "street__code", "street__name", "tier", "effective_from", "effective_to",
            "revoked_at", "revoke_reason"):
        key = (r["matter__code"], r["street__code"], r["effective_from"].isoformat())
        out[key] = {
            "matter_code": r["matter__code"], "matter_name": r["matter__name"], "street_code": r["street__code"],
            "street_name": r["street__name"], "effective_from": r["effective_from"].isoformat(), "tier": r["tier"],
            "effective_to": r["effective_to"].isoformat() if r["effective_to"] else None,
            "revoked": r["revoked_at"] is not None, "revoke_reason": r["revoke_reason"],
        }
    return out


def diff_versions(old: CatalogVersion, new: CatalogVersion) -> dict:
    """What changed from `old` to `new`: matters and delegations added, removed, changed (field: [old, new])."""
    a, b = _matter_rows(old), _matter_rows(new)

    def plain(row):
        out = {k: row[k] for k in ("code", "name", "law", "article", "kind", "domain", "non_site", "major_decision", "status")}
        out["department"] = row["department__code"]
        return out

    changed = []
    for code in sorted(set(a) & set(b)):
        pa, pb = plain(a[code]), plain(b[code])
        delta = {f: [pa[f], pb[f]] for f in DIFF_MATTER_FIELDS if pa[f] != pb[f]}
        if delta:
            changed.append({"code": code, "name": pb["name"], "changes": delta})
    da, db = _delegation_rows(old), _delegation_rows(new)
    d_changed = []
    for key in sorted(set(da) & set(db)):
        delta = {f: [da[key][f], db[key][f]] for f in DIFF_DELEGATION_FIELDS if da[key][f] != db[key][f]}
        if delta:
            d_changed.append({**db[key], "changes": delta})
    return {
        "from": {"id": old.pk, "number": old.number, "status": old.status},
        "to": {"id": new.pk, "number": new.number, "status": new.status},
        "matters": {
            "added": [plain(b[c]) for c in sorted(set(b) - set(a))],
            "removed": [plain(a[c]) for c in sorted(set(a) - set(b))],
            "changed": changed,
        },
        "delegations": {
            "added": [db[k] for k in sorted(set(db) - set(da))],
            "removed": [da[k] for k in sorted(set(da) - set(db))],
            "changed": d_changed,
        },
    }


def default_against(version: CatalogVersion) -> CatalogVersion | None:
    """What a version is compared with by default: the one it was based on, else the previous number."""
    if version.based_on_id:
        return version.based_on
    return CatalogVersion.objects.filter(number__lt=version.number).order_by("-number").first()


# --- Checklists and scenarios -----------------------------------------------------------------

def checklists() -> QuerySet:
    return Checklist.objects.select_related("category", "category__parent").annotate(
        item_count=Count("items")).order_by("code")


def checklist_detail(checklist_id) -> Checklist:
    try:
        return Checklist.objects.select_related("category").prefetch_related(
            Prefetch("items", queryset=ChecklistItem.objects.select_related("area", "department")), "areas",
        ).get(pk=int(checklist_id))
    except (Checklist.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("检查清单不存在。"))


def scenarios() -> QuerySet:
    return Scenario.objects.prefetch_related("categories", "areas").annotate(
        item_count=Count("items", distinct=True),
        supervision_count=Count("items", filter=Q(items__kind="supervision"), distinct=True),
        enforcement_count=Count("items", filter=Q(items__kind="enforcement"), distinct=True),
        department_count=Count("items__department", distinct=True),
    ).order_by("code")


def scenario_detail(scenario_id) -> Scenario:
    try:
        return Scenario.objects.prefetch_related(
            "categories", "areas", Prefetch("items", queryset=ScenarioItem.objects.select_related("department")),
        ).get(pk=int(scenario_id))
    except (Scenario.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("场景不存在。"))


def scenario_summary(scenario: Scenario) -> dict:
    """Counts by kind: departments and items (the venue scenario: 11 departments / 37 supervision items …)."""
    out = {}
    for kind in ("supervision", "enforcement"):
        items = [i for i in scenario.items.all() if i.kind == kind]
        out[kind] = {"departments": len({i.department_id for i in items}), "items": len(items)}
    out["departments"] = len({i.department_id for i in scenario.items.all()})
    out["items"] = len(scenario.items.all())
    return out


def scenarios_covering(subject) -> QuerySet:
    """Published scenarios covering a subject by its category (or major category) or by an area it lies in."""
    category_ids = [subject.category_id] + ([subject.category.parent_id] if subject.category.parent_id else [])
    grid = subject.grid
    area_ids = [int(p) for p in grid.path.strip("/").split("/") if p]
    if grid.zone_id:
        area_ids.append(grid.zone_id)
    return Scenario.objects.filter(
        Q(categories__in=category_ids) | Q(areas__in=area_ids), status=ScenarioStatus.PUBLISHED,
    ).distinct().order_by("code")


def _norm(text: str) -> str:
    return "".join((text or "").split())


def merged_checklist(user, subject_id) -> dict:
    """The one checklist for a visit to a subject: its category's (and major category's) checklists and the
    published scenarios covering it, without duplicates, grouped by department, with the departments whose
    officers the visit needs. NotFound for subjects outside the user's areas."""
    subject = grid_selectors.get_subject_for(user, subject_id)
    category_ids = [subject.category_id] + ([subject.category.parent_id] if subject.category.parent_id else [])
    lists = list(Checklist.objects.filter(category_id__in=category_ids, active=True).order_by("code"))
    items = list(ChecklistItem.objects.filter(checklist__in=lists).select_related("area", "checklist")
                 .order_by("checklist__code", "order", "id"))
    covering = list(scenarios_covering(subject))
    scenario_items = list(ScenarioItem.objects.filter(scenario__in=covering).select_related("scenario", "checklist_item")
                          .order_by("scenario__code", "order", "id"))
    codes = {i.matter_code for i in items} | {i.matter_code for i in scenario_items if i.matter_code}
    version = current_version()
    matter_names = dict(Matter.objects.filter(version=version, code__in=codes).values_list("code", "name")) if version else {}
    departments = {d.pk: d for d in Department.objects.filter(
        pk__in={i.department_id for i in items} | {i.department_id for i in scenario_items})}

    merged = OrderedDict()  # key → entry; the first source wins, later ones are listed as sources

    def add(key, dept_id, entry, source):
        if key in merged:
            if source not in merged[key]["sources"]:
                merged[key]["sources"].append(source)
            return
        merged[key] = {**entry, "department_id": dept_id, "sources": [source]}

    for i in items:
        add(("item", i.matter_code, _norm(i.text)), i.department_id, {
            "text": i.text, "matter_code": i.matter_code, "matter_name": matter_names.get(i.matter_code, ""),
            "area": i.area.name if i.area_id else "", "weight": i.weight, "kind": "inspection", "item_code": i.code,
        }, {"type": "checklist", "code": i.checklist.code})
    for si in scenario_items:
        base = si.checklist_item
        key_text = base.text if base is not None else si.text
        key_code = base.matter_code if base is not None else si.matter_code
        add(("item", key_code, _norm(key_text)), si.department_id, {
            "text": si.text, "matter_code": si.matter_code, "matter_name": matter_names.get(si.matter_code, ""),
            "area": "", "weight": base.weight if base is not None else 1, "kind": si.kind,
            "item_code": base.code if base is not None else "",
        }, {"type": "scenario", "code": si.scenario.code})

    groups = OrderedDict()
    for entry in merged.values():
        groups.setdefault(entry.pop("department_id"), []).append(entry)
    ordered = sorted(groups.items(), key=lambda kv: (departments[kv[0]].kind != "enforcement", departments[kv[0]].code))
    dept_out = [{"code": departments[d].code, "name": departments[d].name, "short_name": departments[d].short_name,
                 "kind": departments[d].kind, "item_count": len(entries)} for d, entries in ordered]
    return {
        "subject": {"id": subject.pk, "name": subject.name, "category": subject.category.code,
                    "category_name": subject.category.name, "grid": subject.grid.code},
        "sources": [{"type": "checklist", "code": c.code, "name": c.name} for c in lists]
                   + [{"type": "scenario", "code": s.code, "name": s.name} for s in covering],
        "departments": dept_out,
        "groups": [{"department": dept_out[n], "items": entries} for n, (d, entries) in enumerate(ordered)],
        "item_count": len(merged),
    }
