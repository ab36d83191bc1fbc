"""CSV/XLSX import and export of the catalog: matters, delegations, checklists, scenarios, problem types.

Every row is checked first and every bad row reported (line, column, reason); nothing is written unless
all rows are valid. Rows are matched to what exists (matters by code, delegations by matter + street +
start date, checklist items by checklist + item code, scenario items by kind + department + matter + text,
problem types by code), so re-importing the same file changes nothing. Matters and delegations go into
the open draft version; a draft is opened only when the file actually changes something.
Headers may be the English column names below or their Chinese labels.
"""
import re
from datetime import date

from django.db import transaction
from django.utils.translation import gettext_lazy

from core import audit
from core.exceptions import ValidationFailed
from core.tabular import ImportReport, RowError, read_rows, require_columns, row_errors, write_table
from enforcement import selectors
from enforcement.services import access as access_services
from enforcement.services import catalog as catalog_services
from enforcement.services import checklists as checklists_services
from enforcement.services import power as power_services
from enforcement.services import scenarios as scenarios_services
from enforcement.choices import (
    SEVERITY_ALIASES, DelegationSource, MatterKind, MatterStatus, ScenarioItemKind, Severity, VersionStatus,
    label_to_value,
)
from enforcement.models import (
    CatalogVersion, Checklist, ChecklistItem, Delegation, Matter, ProblemType, Scenario, ScenarioItem,
)
from grids.choices import AreaKind
from grids.models import Area, Department, SubjectCategory

KINDS = ("matters", "delegations", "checklists", "scenarios", "problem_types")
KIND_LABELS = {"matters": gettext_lazy("执法事项"), "delegations": gettext_lazy("赋权"),
               "checklists": gettext_lazy("检查清单"), "scenarios": gettext_lazy("监管一件事场景"),
               "problem_types": gettext_lazy("问题类型（权责清单）")}

COLUMNS = {
    "matters": ["code", "name", "law", "article", "department_code", "kind", "domain", "non_site", "major_decision",
                "status"],
    "delegations": ["matter_code", "street_code", "effective_from", "effective_to", "matter_name", "street_name", "tier",
                    "revoked_at", "revoke_reason"],
    "checklists": ["checklist_code", "checklist_name", "category_code", "area", "item_code", "matter_code",
                   "department_code", "text", "weight", "order"],
    "scenarios": ["scenario_code", "scenario_name", "description", "categories", "areas", "status", "kind",
                  "department_code", "matter_code", "text"],
    "problem_types": ["code", "name", "matter_code", "default_severity", "group", "about_subject", "description",
                      "active"],
}
REQUIRED = {
    "matters": ["code", "name", "law", "department_code", "kind", "domain"],
    "delegations": ["matter_code", "street_code", "effective_from"],
    "checklists": ["checklist_code", "checklist_name", "category_code", "item_code", "matter_code", "text"],
    "scenarios": ["scenario_code", "scenario_name", "kind"],
    "problem_types": ["code", "name", "matter_code"],
}
ALIASES = {
    "事项编码": "code", "事项名称": "name", "法律依据": "law", "条款": "article", "部门编码": "department_code",
    "事项类型": "kind", "执法领域": "domain", "非现场执法": "non_site", "重大执法决定": "major_decision", "状态": "status",
    "镇街编码": "street_code", "生效日期": "effective_from", "截止日期": "effective_to", "镇街名称": "street_name",
    "镇街类型": "tier", "撤销时间": "revoked_at", "撤销原因": "revoke_reason",
    "清单编码": "checklist_code", "清单名称": "checklist_name", "类别编码": "category_code", "检查领域": "area",
    "条目编码": "item_code", "检查内容": "text", "分值": "weight", "顺序": "order",
    "场景编码": "scenario_code", "场景名称": "scenario_name", "说明": "description", "适用类别": "categories",
    "适用区域": "areas", "类型": "kind", "内容": "text",
    "编码": "code", "名称": "name", "默认等级": "default_severity", "分组": "group", "涉及管理对象": "about_subject",
    "启用": "active",
}
# In files of matters "事项编码" is the row's own code; elsewhere it names the matter a row refers to.
MATTER_CODE_KINDS = ("delegations", "checklists", "scenarios", "problem_types")

TRUE = {"1", "true", "yes", "y", "是", "√", "t"}
FALSE = {"0", "false", "no", "n", "否", "", "f"}
DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def _normalise(kind: str, raw: dict) -> dict:
    out = {}
    for k, v in raw.items():
        key = ALIASES.get(k, k)
        if k == "事项编码" and kind in MATTER_CODE_KINDS:
            key = "matter_code"
        if k == "名称" and kind == "delegations":
            key = "matter_name"
        out[key] = v
    return out


def _bool(value, line, column, errors):
    text = str(value or "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    errors.append(RowError(line, column, f"无法识别的是/否值：{value}。"))
    return None


def _date(value, line, column, errors, required=True):
    text = str(value or "").strip()
    if not text:
        if required:
            errors.append(RowError(line, column, "此字段为必填项。"))
        return None
    m = DATE_RE.match(text)  # Excel cells come back as "2026-01-01 00:00:00"
    try:
        if not m:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        errors.append(RowError(line, column, f"日期格式应为 YYYY-MM-DD：{text}。"))
        return None


def _int(value, line, column, errors, default):
    text = str(value or "").strip()
    if not text:
        return default
    try:
        n = int(float(text))
        if n < 0 or n > 32767:
            raise ValueError
        return n
    except ValueError:
        errors.append(RowError(line, column, f"应为 0–32767 的整数：{text}。"))
        return None


def _codes(value) -> list[str]:
    text = str(value or "").replace("；", ";").replace("，", ";").replace(",", ";")
    return [c.strip() for c in text.split(";") if c.strip()]


def _rows(kind, data, filename):
    rows = [(line, _normalise(kind, raw)) for line, raw in read_rows(data, filename)]
    if rows:
        require_columns(set(rows[0][1]), REQUIRED[kind])
    return rows


def _target_version():
    """Where matter/delegation imports compare and write: the draft, else (until something changes) the published one."""
    return selectors.draft_version() or selectors.current_version()


def _finish(report, errors):
    report.errors = sorted(errors, key=lambda e: (e.line, e.column))
    report.skipped = len({e.line for e in report.errors})


def _write_when_valid(report: ImportReport, *, dry_run: bool, has_changes: bool, write) -> ImportReport:
    """The last step every import shares: nothing is written on a dry run, when a row is invalid, or when
    nothing would change; otherwise `write()` runs, whole, in one transaction."""
    if report.errors or dry_run or not has_changes:
        return report
    with transaction.atomic():
        write()
    report.written = True
    return report


# --- Matters ----------------------------------------------------------------------------------

def import_matters(actor, data: bytes, filename: str, *, dry_run=False) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    rows = _rows("matters", data, filename)
    target = _target_version()
    existing = {m.code: m for m in Matter.objects.filter(version=target)} if target else {}
    errors, plans, seen = [], [], {}
    for line, row in rows:
        errs = []
        code = row.get("code", "")
        if code in seen:
            errs.append(RowError(line, "code", f"事项编码与第{seen[code]}行重复。"))
        seen.setdefault(code, line)
        # Labels (行政处罚, 有效…) become values; anything else goes on to clean_matter, which names it.
        kind = label_to_value(MatterKind, row.get("kind", "")) or row.get("kind", "")
        status = label_to_value(MatterStatus, row.get("status") or MatterStatus.ACTIVE) or row.get("status")
        non_site = _bool(row.get("non_site"), line, "non_site", errs)
        major = _bool(row.get("major_decision"), line, "major_decision", errs)
        fields = {"code": code, "name": row.get("name", ""), "law": row.get("law", ""),
                  "article": row.get("article", ""), "department": row.get("department_code", ""),
                  "kind": kind, "domain": row.get("domain", ""), "non_site": non_site,
                  "major_decision": major, "status": status}
        try:
            clean = catalog_services.clean_matter(**fields)
        except ValidationFailed as exc:
            errs.extend(row_errors(exc, line, {"department": "department_code"}))
            clean = None
        if errs:
            errors.extend(errs)
            continue
        current = existing.get(code)
        if current is None:
            report.created += 1
            plans.append(("create", None, clean))
            continue
        before = audit.snapshot(current, catalog_services.MATTER_FIELDS)
        after = {**before, **{k: (v.pk if hasattr(v, "pk") else v) for k, v in clean.items()}}
        if audit.diff(before, after):
            report.updated += 1
            plans.append(("update", current, clean))
        else:
            report.unchanged += 1
    _finish(report, errors)
    def write():
        draft = catalog_services.open_draft(actor)
        in_draft = {m.code: m for m in Matter.objects.filter(version=draft)}
        for action, _current, clean in plans:
            values = {**clean, "department": clean["department"].code}  # the services take department codes
            current = in_draft.get(clean["code"])
            if current is None:
                catalog_services.create_matter(actor, **values)
            else:
                catalog_services.update_matter(actor, current, **values)

    return _write_when_valid(report, dry_run=dry_run, has_changes=bool(plans), write=write)


def export_matters(fmt: str, version: CatalogVersion | None = None) -> bytes:
    rows = (
        [m.code, m.name, m.law, m.article, m.department.code, m.kind, m.domain, "是" if m.non_site else "否",
         "是" if m.major_decision else "否", m.status]
        for m in selectors.matters(version).order_by("code").iterator(chunk_size=2000)
    )
    return write_table(fmt, COLUMNS["matters"], rows)


# --- Delegations ------------------------------------------------------------------------------

def import_delegations(actor, data: bytes, filename: str, *, dry_run=False) -> ImportReport:
    """Rows: matter_code, street_code, effective_from, effective_to. Revocation columns of an export are
    ignored here (revoking needs a reason and is done one by one)."""
    report = ImportReport(dry_run=dry_run)
    rows = _rows("delegations", data, filename)
    target = _target_version()
    matters = {m.code: m for m in Matter.objects.filter(version=target)} if target else {}
    streets = {a.code: a for a in Area.objects.filter(kind=AreaKind.STREET)}
    existing = {}
    if target:
        for d in Delegation.objects.filter(matter__version=target).select_related("matter", "street"):
            existing[(d.matter.code, d.street.code, d.effective_from)] = d
    errors, plans, seen = [], [], {}
    for line, row in rows:
        errs = []
        code, street_code = row.get("matter_code", ""), row.get("street_code", "")
        matter = matters.get(code)
        if not code:
            errs.append(RowError(line, "matter_code", "此字段为必填项。"))
        elif matter is None:
            errs.append(RowError(line, "matter_code", f"{'草稿' if target and target.is_draft else '现行清单'}中没有事项 {code}。"))
        elif matter.status != MatterStatus.ACTIVE:
            errs.append(RowError(line, "matter_code", f"事项 {code} 已废止，不能赋权。"))
        if street_code not in streets:
            errs.append(RowError(line, "street_code", f"未知镇街编码：{street_code}。"))
        start = _date(row.get("effective_from"), line, "effective_from", errs)
        end = _date(row.get("effective_to"), line, "effective_to", errs, required=False)
        if start and end and end < start:
            errs.append(RowError(line, "effective_to", "截止日期不能早于生效日期。"))
        key = (code, street_code, start)
        if start and key in seen:
            errs.append(RowError(line, "effective_from", f"与第{seen[key]}行重复（同一事项、镇街和生效日期）。"))
        seen.setdefault(key, line)
        if errs:
            errors.extend(errs)
            continue
        current = existing.get(key)
        if current is None:
            report.created += 1
            plans.append(("create", key, end))
        elif current.effective_to != end:
            if current.revoked_at is not None:
                errors.append(RowError(line, "effective_to", "该赋权已撤销，不能修改。"))
                continue
            report.updated += 1
            plans.append(("update", key, end))
        else:
            report.unchanged += 1
    _finish(report, errors)
    def write():
        draft = catalog_services.open_draft(actor)
        in_draft = {(d.matter.code, d.street.code, d.effective_from): d
                    for d in Delegation.objects.filter(matter__version=draft).select_related("matter", "street")}
        for action, (code, street_code, start), end in plans:
            current = in_draft.get((code, street_code, start))
            if current is None:
                catalog_services.delegate(actor, matter_code=code, street_code=street_code, effective_from=start,
                                  effective_to=end, source=DelegationSource.IMPORT)
            else:
                catalog_services.update_delegation(actor, current, effective_to=end)

    return _write_when_valid(report, dry_run=dry_run, has_changes=bool(plans), write=write)


def export_delegations(fmt: str, version: CatalogVersion | None = None) -> bytes:
    rows = (
        [d.matter.code, d.street.code, d.effective_from.isoformat(),
         d.effective_to.isoformat() if d.effective_to else "", d.matter.name, d.street.name, d.tier,
         d.revoked_at.isoformat() if d.revoked_at else "", d.revoke_reason]
        for d in selectors.delegations(version).order_by("street__code", "matter__code", "effective_from")
        .iterator(chunk_size=2000)
    )
    return write_table(fmt, COLUMNS["delegations"], rows)


# --- Checklists -------------------------------------------------------------------------------

def import_checklists(actor, data: bytes, filename: str, *, dry_run=False) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    rows = _rows("checklists", data, filename)
    categories = {c.code: c for c in SubjectCategory.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    dept_of = checklists_services.matter_departments({r.get("matter_code", "") for _, r in rows})
    lists = {c.code: c for c in Checklist.objects.select_related("category")}
    items = {(i.checklist.code, i.code): i for i in ChecklistItem.objects.select_related("checklist", "area")}
    errors, heads, plans, seen = [], {}, [], {}
    for line, row in rows:
        errs = []
        cl_code, item_code = row.get("checklist_code", ""), row.get("item_code", "")
        category = categories.get(row.get("category_code", ""))
        if category is None:
            errs.append(RowError(line, "category_code", f"未知类别编码：{row.get('category_code', '')}。"))
        if not row.get("checklist_name"):
            errs.append(RowError(line, "checklist_name", "此字段为必填项。"))
        if not cl_code or not catalog_services.CODE_RE.match(cl_code):
            errs.append(RowError(line, "checklist_code", catalog_services.CODE_FORMAT_MESSAGE))
        if not item_code or not catalog_services.CODE_RE.match(item_code):
            errs.append(RowError(line, "item_code", catalog_services.CODE_FORMAT_MESSAGE))
        head = (row.get("checklist_name", ""), row.get("category_code", ""))
        if cl_code in heads and heads[cl_code][0] != head:
            errs.append(RowError(line, "checklist_name", f"与第{heads[cl_code][1]}行的清单名称或类别不一致。"))
        heads.setdefault(cl_code, (head, line))
        if (cl_code, item_code) in seen:
            errs.append(RowError(line, "item_code", f"条目编码与第{seen[(cl_code, item_code)]}行重复。"))
        seen.setdefault((cl_code, item_code), line)
        matter_code = row.get("matter_code", "")
        dept_id = dept_of.get(matter_code)
        if dept_id is None:
            errs.append(RowError(line, "matter_code", f"事项清单中没有事项 {matter_code}。"))
        elif row.get("department_code") and departments.get(row["department_code"]) is None:
            errs.append(RowError(line, "department_code", f"未知部门编码：{row['department_code']}。"))
        elif row.get("department_code") and departments[row["department_code"]].pk != dept_id:
            errs.append(RowError(line, "department_code", "部门与事项的主管部门不一致（部门由事项决定）。"))
        text = (row.get("text") or "").strip()
        if not text:
            errs.append(RowError(line, "text", "此字段为必填项。"))
        elif len(text) > 500:
            errs.append(RowError(line, "text", "不能超过500个字符。"))
        weight = _int(row.get("weight"), line, "weight", errs, 1)
        order = _int(row.get("order"), line, "order", errs, 0)
        if errs:
            errors.extend(errs)
            continue
        current = items.get((cl_code, item_code))
        area = (row.get("area") or "").strip()
        values = (area, matter_code, dept_id, text, weight, order)
        if current is None:
            report.created += 1
        elif (current.area.name if current.area_id else "", current.matter_code, current.department_id, current.text,
              current.weight, current.order) != values:
            report.updated += 1
        else:
            report.unchanged += 1
            continue
        plans.append((cl_code, category, row.get("checklist_name", ""), item_code, values))
    _finish(report, errors)
    # A changed checklist name or category is a change even when every item is the same.
    head_changes = {code: (h, categories.get(h[1])) for code, (h, _) in heads.items()
                    if code in lists and (lists[code].name, lists[code].category.code) != h}
    def write():
        saved = {}
        for code, ((name, _cat_code), category) in head_changes.items():
            saved[code], _ = checklists_services.save_checklist(actor, code=code, name=name, category=category,
                                                     description=lists[code].description, active=lists[code].active)
        for cl_code, category, name, item_code, (area, matter_code, _dept, text, weight, order) in plans:
            checklist = saved.get(cl_code) or lists.get(cl_code)
            if checklist is None:
                checklist, _ = checklists_services.save_checklist(actor, code=cl_code, name=name, category=category)
            saved[cl_code] = checklist
            checklists_services.save_checklist_item(actor, checklist, code=item_code, area_name=area, matter_code=matter_code,
                                         text=text, weight=weight, order=order)

    return _write_when_valid(report, dry_run=dry_run, has_changes=bool(plans or head_changes), write=write)


def export_checklists(fmt: str) -> bytes:
    rows = (
        [i.checklist.code, i.checklist.name, i.checklist.category.code, i.area.name if i.area_id else "", i.code,
         i.matter_code, i.department.code, i.text, i.weight, i.order]
        for i in ChecklistItem.objects.select_related("checklist", "checklist__category", "area", "department")
        .order_by("checklist__code", "order", "id")
    )
    return write_table(fmt, COLUMNS["checklists"], rows)


# --- Scenarios --------------------------------------------------------------------------------

def import_scenarios(actor, data: bytes, filename: str, *, dry_run=False) -> ImportReport:
    """One row per item; the scenario columns repeat on each row. New scenarios start as drafts."""
    report = ImportReport(dry_run=dry_run)
    rows = _rows("scenarios", data, filename)
    categories = {c.code: c for c in SubjectCategory.objects.all()}
    areas = {a.code: a for a in Area.objects.all().only("id", "code")}
    departments = {d.code: d for d in Department.objects.all()}
    codes = {r.get("matter_code", "") for _, r in rows} - {""}
    matters = {}
    for status in (VersionStatus.DRAFT, VersionStatus.PUBLISHED):
        matters.update({m.code: m for m in Matter.objects.filter(version__status=status, code__in=codes)})
    scenarios = {s.code: s for s in Scenario.objects.prefetch_related("categories", "areas")}
    have = {}
    for code, kind, dept_id, matter_code, text in ScenarioItem.objects.values_list(
            "scenario__code", "kind", "department_id", "matter_code", "text"):
        have.setdefault(code, set()).add((kind, dept_id, matter_code, text))
    errors, heads, new_items, seen = [], {}, {}, {}
    for line, row in rows:
        errs = []
        sc_code = row.get("scenario_code", "")
        if not sc_code or not catalog_services.CODE_RE.match(sc_code):
            errs.append(RowError(line, "scenario_code", catalog_services.CODE_FORMAT_MESSAGE))
        if not row.get("scenario_name"):
            errs.append(RowError(line, "scenario_name", "此字段为必填项。"))
        cat_codes, area_codes = _codes(row.get("categories")), _codes(row.get("areas"))
        for c in cat_codes:
            if c not in categories:
                errs.append(RowError(line, "categories", f"未知类别编码：{c}。"))
        for c in area_codes:
            if c not in areas:
                errs.append(RowError(line, "areas", f"未知区域编码：{c}。"))
        head = (row.get("scenario_name", ""), row.get("description", ""), tuple(sorted(cat_codes)), tuple(sorted(area_codes)))
        if sc_code in heads and heads[sc_code][0] != head:
            errs.append(RowError(line, "scenario_name", f"与第{heads[sc_code][1]}行的场景名称、说明、类别或区域不一致。"))
        heads.setdefault(sc_code, (head, line))
        kind = label_to_value(ScenarioItemKind, row.get("kind", ""))
        if kind is None:
            errs.append(RowError(line, "kind", f"未知类型：{row.get('kind', '')}（监管事项/执法事项）。"))
        matter_code = row.get("matter_code", "")
        matter = matters.get(matter_code) if matter_code else None
        if matter_code and matter is None:
            errs.append(RowError(line, "matter_code", f"事项清单中没有事项 {matter_code}。"))
        dept_code = row.get("department_code", "")
        department = departments.get(dept_code) if dept_code else (matter.department if matter else None)
        if dept_code and department is None:
            errs.append(RowError(line, "department_code", f"未知部门编码：{dept_code}。"))
        elif department is None and not errs:
            errs.append(RowError(line, "department_code", "请填写部门编码或事项编码。"))
        text = (row.get("text") or "").strip() or (matter.name if matter else "")
        if not text and not errs:
            errs.append(RowError(line, "text", "此字段为必填项。"))
        if errs:
            errors.extend(errs)
            continue
        key = (kind, department.pk, matter_code, text[:500])
        if (sc_code, key) in seen:
            report.unchanged += 1  # the same item twice in one file: one item
            continue
        seen[(sc_code, key)] = line
        if key in have.get(sc_code, set()):
            report.unchanged += 1
            continue
        report.created += 1
        new_items.setdefault(sc_code, []).append(
            {"kind": kind, "department": department.code, "matter_code": matter_code, "text": text})
    _finish(report, errors)
    head_changes = {}
    for code, (head, _line) in heads.items():
        s = scenarios.get(code)
        if s is not None and (s.name, s.description, tuple(sorted(c.code for c in s.categories.all())),
                              tuple(sorted(a.code for a in s.areas.all()))) != head:
            head_changes[code] = head
    def write():
        for code, (head, _line) in heads.items():
            name, description, cat_codes, area_codes = head
            cats, ars = [categories[c] for c in cat_codes], [areas[c] for c in area_codes]
            if code not in scenarios:
                scenarios_services.create_scenario(actor, code=code, name=name, description=description, categories=cats,
                                         areas=ars, items=new_items.get(code, []))
                continue
            if code in head_changes:
                scenarios_services.update_scenario(actor, scenarios[code], name=name, description=description,
                                         categories=cats, areas=ars)
            if new_items.get(code):
                scenarios_services.add_scenario_items(actor, scenarios[code], items=new_items[code])

    changes = bool(new_items or head_changes or set(heads) - set(scenarios))
    return _write_when_valid(report, dry_run=dry_run, has_changes=changes, write=write)


def export_scenarios(fmt: str) -> bytes:
    def rows():
        for s in Scenario.objects.prefetch_related("categories", "areas").order_by("code"):
            cats = ";".join(sorted(c.code for c in s.categories.all()))
            ars = ";".join(sorted(a.code for a in s.areas.all()))
            for i in s.items.select_related("department").order_by("order", "id"):
                yield [s.code, s.name, s.description, cats, ars, s.status, i.kind, i.department.code, i.matter_code, i.text]
    return write_table(fmt, COLUMNS["scenarios"], rows())


# --- Problem types ----------------------------------------------------------------------------

def import_problem_types(actor, data: bytes, filename: str, *, dry_run=False) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    rows = _rows("problem_types", data, filename)
    known = catalog_services.known_matter_codes()
    existing = {p.code: p for p in ProblemType.objects.all()}
    errors, plans, seen = [], [], {}
    for line, row in rows:
        errs = []
        code = row.get("code", "")
        if code in seen:
            errs.append(RowError(line, "code", f"编码与第{seen[code]}行重复。"))
        seen.setdefault(code, line)
        severity = label_to_value(Severity, row.get("default_severity") or Severity.BLUE,
                                  aliases=SEVERITY_ALIASES)
        if severity is None:
            errs.append(RowError(line, "default_severity", f"未知等级：{row.get('default_severity')}（蓝/黄/橙/红）。"))
        about = _bool(row.get("about_subject"), line, "about_subject", errs)
        active_raw = row.get("active")
        active = True if active_raw in (None, "") else _bool(active_raw, line, "active", errs)
        fields = {"code": code, "name": row.get("name", ""), "matter_code": row.get("matter_code", ""),
                  "default_severity": severity or Severity.BLUE, "group": row.get("group", ""),
                  "about_subject": about, "description": row.get("description", ""), "active": active}
        try:
            clean = power_services.clean_problem_type(fields, known_codes=known)
        except ValidationFailed as exc:
            errs.extend(row_errors(exc, line))
            clean = None
        if errs:
            errors.extend(errs)
            continue
        current = existing.get(code)
        if current is None:
            report.created += 1
        elif audit.diff(audit.snapshot(current, power_services.PROBLEM_TYPE_FIELDS), clean):
            report.updated += 1
        else:
            report.unchanged += 1
            continue
        plans.append(clean)
    _finish(report, errors)
    def write():
        for clean in plans:
            power_services.save_problem_type(actor, **clean)

    return _write_when_valid(report, dry_run=dry_run, has_changes=bool(plans), write=write)


def export_problem_types(fmt: str) -> bytes:
    rows = ([p.code, p.name, p.matter_code, p.default_severity, p.group, "是" if p.about_subject else "否",
             p.description, "是" if p.active else "否"] for p in ProblemType.objects.order_by("code"))
    return write_table(fmt, COLUMNS["problem_types"], rows)


# --- Dispatch ---------------------------------------------------------------------------------

IMPORTERS = {"matters": import_matters, "delegations": import_delegations, "checklists": import_checklists,
             "scenarios": import_scenarios, "problem_types": import_problem_types}


def run_import(actor, kind: str, data: bytes, filename: str, *, dry_run=False) -> ImportReport:
    access_services.require_catalog_editor(actor)
    if kind not in IMPORTERS:
        raise ValidationFailed(fields={"kind": [f"未知导入内容：{kind}（可选：{', '.join(KINDS)}）。"]})
    return IMPORTERS[kind](actor, data, filename, dry_run=dry_run)


def blank_template(kind: str, fmt: str) -> bytes:
    """The columns of an import of `kind`, and no rows: the file to fill in."""
    if kind not in COLUMNS:
        raise ValidationFailed(fields={"kind": [f"未知导入内容：{kind}（可选：{', '.join(KINDS)}）。"]})
    return write_table(fmt, COLUMNS[kind], [])


def export(kind: str, fmt: str, version: CatalogVersion | None = None) -> bytes:
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed(fields={"format": ["只支持 csv 或 xlsx。"]})
    if kind == "matters":
        return export_matters(fmt, version)
    if kind == "delegations":
        return export_delegations(fmt, version)
    if kind == "checklists":
        return export_checklists(fmt)
    if kind == "scenarios":
        return export_scenarios(fmt)
    if kind == "problem_types":
        return export_problem_types(fmt)
    raise ValidationFailed(fields={"kind": [f"未知导出内容：{kind}（可选：{', '.join(KINDS)}）。"]})
