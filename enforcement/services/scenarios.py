"""Scenarios (监管一件事): one thing to supervise, the matters and checklist items of every department it takes."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import Conflict, Unprocessable, ValidationFailed
from core.unset import UNCHANGED, given
from enforcement.choices import ScenarioItemKind, ScenarioStatus, VersionStatus
from enforcement.models import ChecklistItem, Matter, Scenario, ScenarioItem
from enforcement.services.access import require_catalog_editor
from enforcement.services.catalog import CODE_FORMAT_MESSAGE, CODE_RE
from grids.models import Department

SCENARIO_FIELDS = ("code", "name", "description", "status", "categories", "areas")


def _next_scenario_code() -> str:
    n = Scenario.objects.count() + 1
    while Scenario.objects.filter(code=f"CJ{n:03d}").exists():
        n += 1
    return f"CJ{n:03d}"


def clean_scenario_items(items) -> list[dict]:
    """Each item: kind, and a matter_code or a checklist_item (id), optional department (its code) and text.

    Department and text default to the matter's (or checklist item's). Errors are reported per item
    as items[i].field."""
    items = list(items or [])
    errors = {}
    matter_codes = {str(i.get("matter_code") or "").strip() for i in items if isinstance(i, dict)} - {""}
    matters = {}
    for status in (VersionStatus.DRAFT, VersionStatus.PUBLISHED):
        matters.update({m.code: m for m in Matter.objects.filter(version__status=status, code__in=matter_codes)})
    ci_ids = [i.get("checklist_item") for i in items if isinstance(i, dict) and i.get("checklist_item")]
    checklist_items = {}
    if ci_ids:
        try:
            checklist_items = {ci.pk: ci for ci in ChecklistItem.objects.filter(pk__in=[int(x) for x in ci_ids])}
        except (TypeError, ValueError):
            checklist_items = {}
    departments = {d.code: d for d in Department.objects.all()}
    out = []
    for n, raw in enumerate(items):
        key = f"items[{n}]"
        if not isinstance(raw, dict):
            errors[key] = [_("每一项必须是对象。")]
            continue
        kind = raw.get("kind") or ScenarioItemKind.ENFORCEMENT
        if kind not in ScenarioItemKind.values:
            errors[f"{key}.kind"] = [_("未知类型：%(kind)s（应为 supervision/enforcement）。") % {"kind": kind}]
            continue
        code = str(raw.get("matter_code") or "").strip()
        matter = matters.get(code) if code else None
        if code and matter is None:
            errors[f"{key}.matter_code"] = [_("事项清单中没有事项 %(code)s。") % {"code": code}]
            continue
        ci = None
        if raw.get("checklist_item"):
            try:
                ci = checklist_items.get(int(raw["checklist_item"]))
            except (TypeError, ValueError):
                ci = None
            if ci is None:
                errors[f"{key}.checklist_item"] = [_("检查条目 %(checklist_item)s 不存在。")
                    % {"checklist_item": raw['checklist_item']}]
                continue
            code = code or ci.matter_code
        dept = raw.get("department")  # a department code
        if dept:
            department = departments.get(str(dept).strip())
            if department is None:
                errors[f"{key}.department"] = [_("未知部门编码：%(dept)s。") % {"dept": dept}]
                continue
        else:
            department = (Department(pk=ci.department_id) if ci else None) or (matter.department if matter else None)
            if department is None:
                errors[f"{key}.department"] = [_("请指定部门，或选择一个事项/检查条目。")]
                continue
        text = str(raw.get("text") or "").strip() or (ci.text if ci else "") or (matter.name if matter else "")
        if not text:
            errors[f"{key}.text"] = [_("此字段为必填项。")]
            continue
        out.append({"kind": kind, "department_id": department.pk, "matter_code": code, "checklist_item": ci,
                    "text": text[:500]})
    if errors:
        raise ValidationFailed(fields=errors)
    return out


@transaction.atomic
def create_scenario(actor, *, name: str, code: str | None = None, description: str = "", categories=(), areas=(),
                    items=(), publish: bool = False) -> Scenario:
    require_catalog_editor(actor)
    errors = {}
    code = (code or "").strip() or _next_scenario_code()
    if not CODE_RE.match(code):
        errors["code"] = [CODE_FORMAT_MESSAGE]
    elif Scenario.objects.filter(code=code).exists():
        errors["code"] = [_("场景编码 %(code)s 已存在。") % {"code": code}]
    if not (name or "").strip():
        errors["name"] = [_("此字段为必填项。")]
    try:
        cleaned = clean_scenario_items(items)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        cleaned = []
    if errors:
        raise ValidationFailed(fields=errors)
    scenario = Scenario.objects.create(code=code, name=name.strip(), description=description or "",
                                       created_by=actor if getattr(actor, "is_authenticated", False) else None)
    scenario.categories.set(categories)
    scenario.areas.set(areas)
    ScenarioItem.objects.bulk_create([ScenarioItem(scenario=scenario, order=n, **i) for n, i in enumerate(cleaned, 1)])
    audit.record(actor, "scenario.created", scenario, changes={
        **{k: [None, v] for k, v in audit.snapshot(scenario, SCENARIO_FIELDS).items()}, "items": [None, len(cleaned)]})
    if publish:
        publish_scenario(actor, scenario)
    return scenario


@transaction.atomic
def add_scenario_items(actor, scenario: Scenario, *, items) -> int:
    """Add items not already in the scenario (same kind, department, matter code and text). Returns the count added."""
    require_catalog_editor(actor)
    cleaned = clean_scenario_items(items)
    have = set(scenario.items.values_list("kind", "department_id", "matter_code", "text"))
    start = scenario.items.count()
    new = []
    for i in cleaned:
        key = (i["kind"], i["department_id"], i["matter_code"], i["text"])
        if key in have:
            continue
        have.add(key)
        new.append(ScenarioItem(scenario=scenario, order=start + len(new) + 1, **i))
    ScenarioItem.objects.bulk_create(new)
    if new:
        Scenario.objects.filter(pk=scenario.pk).update(updated_at=timezone.now())
        audit.record(actor, "scenario.items_added", scenario, changes={"items": [start, start + len(new)]})
    return len(new)


@transaction.atomic
def update_scenario(actor, scenario: Scenario, *, name: str = UNCHANGED, description: str = UNCHANGED,
                    categories=UNCHANGED, areas=UNCHANGED) -> Scenario:
    """Change the given fields; `categories` and `areas` replace the scenario's sets."""
    require_catalog_editor(actor)
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    before = audit.snapshot(scenario, SCENARIO_FIELDS)
    for key, value in given(name=name, description=description).items():
        value = (value or "").strip()
        if key == "name" and not value:
            raise ValidationFailed(fields={"name": [_("此字段为必填项。")]})
        setattr(scenario, key, value)
    if categories is not UNCHANGED:
        scenario.categories.set(categories)
    if areas is not UNCHANGED:
        scenario.areas.set(areas)
    scenario.save()
    delta = audit.diff(before, audit.snapshot(scenario, SCENARIO_FIELDS))
    if delta:
        audit.record(actor, "scenario.updated", scenario, changes=delta)
    return scenario


@transaction.atomic
def publish_scenario(actor, scenario: Scenario) -> Scenario:
    require_catalog_editor(actor)
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if scenario.status == ScenarioStatus.PUBLISHED:
        raise Conflict(_("该场景已发布。"))
    if not scenario.items.exists():
        raise Unprocessable(fields={"items": [_("场景至少需要一个事项才能发布。")]})
    if not scenario.categories.exists() and not scenario.areas.exists():
        raise Unprocessable(fields={"categories": [_("请至少指定一个适用对象类别或区域。")]})
    scenario.status = ScenarioStatus.PUBLISHED
    scenario.published_at = timezone.now()
    scenario.published_by = actor if getattr(actor, "is_authenticated", False) else None
    scenario.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    audit.record(actor, "scenario.published", scenario,
                 changes={"status": [ScenarioStatus.DRAFT, ScenarioStatus.PUBLISHED]})
    return scenario


@transaction.atomic
def withdraw_scenario(actor, scenario: Scenario) -> Scenario:
    """Back to draft: it no longer joins merged checklists."""
    require_catalog_editor(actor)
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if scenario.status != ScenarioStatus.PUBLISHED:
        raise Conflict(_("该场景尚未发布。"))
    scenario.status = ScenarioStatus.DRAFT
    scenario.save(update_fields=["status", "updated_at"])
    audit.record(actor, "scenario.withdrawn", scenario, changes={"status": [ScenarioStatus.PUBLISHED, ScenarioStatus.DRAFT]})
    return scenario
