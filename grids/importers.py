"""Bulk imports of areas (GeoJSON) and subjects (CSV/XLSX), and the subject export.

All rows are checked first; nothing is written unless every row is valid, or `skip_invalid` was asked
for, in which case the good rows are written and the bad ones reported. Re-importing the same file
changes nothing (rows are matched by area code, and subjects by licence number or name + address).

`actor` None means the system (management commands run by the administrator). A user must be bureau
staff, and every row must lie in their areas (a row outside them is reported like any other bad row).
"""
import json

from django.conf import settings
from django.db import transaction

from core import audit
from core.exceptions import DomainError, Forbidden, ValidationFailed
from core.masking import mask_phone
from core.phones import phone_error
from core.roles import BUREAU_STAFF, has_role
from core.tabular import ImportReport, RowError, read_table, require_columns, row_errors, write_table
from grids import geometry, selectors, services, spatial
from grids.choices import KIND_DEPTH, AreaKind, StreetTier, SubjectStatus
from grids.models import Area, Subject, SubjectCategory

SUBJECT_COLUMNS = [
    "name", "category_code", "legal_representative", "contact_phone", "licence_no", "shop_sign", "address",
    "lat", "lng", "grid_code", "status", "tags",
]
SUBJECT_REQUIRED = ["name", "category_code", "lat", "lng"]
# Headers a Chinese spreadsheet may use for the same columns.
SUBJECT_HEADER_ALIASES = {
    "名称": "name", "类别编码": "category_code", "法定代表人": "legal_representative", "联系电话": "contact_phone",
    "营业执照号": "licence_no", "店招": "shop_sign", "地址": "address", "纬度": "lat", "经度": "lng",
    "网格编码": "grid_code", "状态": "status", "标签": "tags",
}
# Optional text columns: a column missing from the file leaves that field of existing subjects alone.
OPTIONAL_TEXT_COLUMNS = ["legal_representative", "contact_phone", "shop_sign", "address"]
AREA_PROPERTIES = ("code", "name", "kind", "parent_code", "tier", "zone_code")


def _require_importer(actor):
    if actor is not None and not has_role(actor, BUREAU_STAFF):
        raise Forbidden("只有区综合执法局工作人员可以导入数据。")


# --- Areas ------------------------------------------------------------------------------------

def import_areas(actor, data: bytes, *, dry_run=False, skip_invalid=False) -> ImportReport:
    """A GeoJSON FeatureCollection; each feature's properties: code, name, kind, parent_code, tier, zone_code.
    A feature's "line" in the report is its position in `features` (1 = the first)."""
    _require_importer(actor)
    report = ImportReport(dry_run=dry_run)
    rows = _read_area_rows(_feature_collection(data), report)
    tree = _AreaTree(actor, rows)
    for row in tree.rows:
        if row["valid"]:
            _check_area_placement(tree, row, report)
    report.errors.sort(key=lambda e: (e.line, e.column))
    report.skipped = sum(1 for r in rows if not r["valid"])
    if report.errors and not skip_invalid:
        return report
    changed_rows = _count_area_changes(tree, report)
    if dry_run:
        return report
    _write_areas(actor, tree, changed_rows, report)
    report.written = True
    return report


def _feature_collection(data: bytes) -> list:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(fields={"file": [f"不是合法的 GeoJSON：{exc}"]}) from exc
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise ValidationFailed(fields={"file": ["需要 GeoJSON FeatureCollection。"]})
    return features


def _read_area_rows(features: list, report: ImportReport) -> list[dict]:
    """One row per feature, each checked on its own (fields, duplicate codes, geometry); `valid` says how it went."""
    rows = []
    codes_in_file = {}
    for n, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            report.errors.append(RowError(n, "", "要素必须是带 properties 的 GeoJSON Feature。"))
            rows.append({"line": n, "code": "", "kind": "", "valid": False})
            continue
        props = feature.get("properties") or {}
        row = {"line": n, "boundary": feature.get("geometry")}
        for key in AREA_PROPERTIES:
            value = props.get(key)
            row[key] = "" if value is None else str(value).strip()
        errs = _area_field_errors(row)
        if row["code"] and row["code"] in codes_in_file:
            errs.append(RowError(n, "code", f"编码与第{codes_in_file[row['code']]}个要素重复。"))
        codes_in_file.setdefault(row["code"], n)
        if row["boundary"] is not None:
            try:
                row["geom"] = geometry.parse_boundary(row["boundary"], field="geometry")
            except ValidationFailed as exc:
                errs.extend(row_errors(exc, n))
        report.errors.extend(errs)
        row["valid"] = not errs
        rows.append(row)
    return rows


def _area_field_errors(row: dict) -> list[RowError]:
    n, errs = row["line"], []
    for col in ("code", "name", "kind"):
        if not row[col]:
            errs.append(RowError(n, col, "此字段为必填项。"))
    for col in ("code", "name"):
        max_length = Area._meta.get_field(col).max_length
        if len(row[col]) > max_length:
            errs.append(RowError(n, col, f"最多 {max_length} 个字符。"))
    if row["kind"] and row["kind"] not in AreaKind.values:
        errs.append(RowError(n, "kind", f"未知层级：{row['kind']}。"))
    if row["tier"] and row["tier"] not in StreetTier.values:
        errs.append(RowError(n, "tier", f"未知镇街类型：{row['tier']}。"))
    return errs


class _AreaTree:
    """The file's rows and the database's areas seen as one tree: parents, streets, boundaries, and which
    parts the actor may write."""

    def __init__(self, actor, rows: list[dict]):
        self.actor = actor
        # Parents before children; zones before the grids that name them.
        order = {**KIND_DEPTH, AreaKind.ZONE: 2}
        self.rows = sorted(rows, key=lambda r: (order.get(r["kind"], 9), r["line"]))
        self.existing = {a.code: a for a in Area.objects.defer("boundary")}
        self.code_of_id = {a.pk: a.code for a in self.existing.values()}
        self.by_code = {r["code"]: r for r in self.rows if r["valid"]}
        self.limited = actor is not None and selectors.user_area_paths(actor) is not None
        self._geoms = {}

    def kind_of(self, code):
        if code in self.by_code:
            return self.by_code[code]["kind"]
        return self.existing[code].kind if code in self.existing else None

    def geom_of(self, code):
        if code in self.by_code and self.by_code[code].get("geom") is not None:
            return self.by_code[code]["geom"]
        if code in self.existing:
            if code not in self._geoms:
                boundary = Area.objects.filter(code=code).values_list("boundary", flat=True).first()
                self._geoms[code] = geometry.parse_boundary(boundary) if boundary else None
            return self._geoms[code]
        return None

    def street_of(self, code):
        """The street code above `code`, through the file's rows first, then the database."""
        seen = set()
        while code and code not in seen:
            seen.add(code)
            if self.kind_of(code) == AreaKind.STREET:
                return code
            if code in self.by_code:
                code = self.by_code[code]["parent_code"]
            elif code in self.existing and self.existing[code].parent_id:
                code = self.code_of_id.get(self.existing[code].parent_id)
            else:
                return None
        return None

    def covered(self, code):
        """May the actor write under `code`? Its nearest ancestor already in the database decides."""
        if not self.limited:
            return True
        seen = set()
        while code and code not in seen:
            seen.add(code)
            if code in self.existing:
                return selectors.user_covers_area(self.actor, self.existing[code])
            code = self.by_code[code]["parent_code"] if code in self.by_code else ""
        return False

    def current_tuple(self, area):
        parent = self.code_of_id.get(area.parent_id, "") if area.parent_id else ""
        zone = self.code_of_id.get(area.zone_id, "") if area.zone_id else ""
        return (area.name, area.kind, parent, area.tier, zone)


def _reject(report: ImportReport, row: dict, column: str, reason: str):
    report.errors.append(RowError(row["line"], column, reason))
    row["valid"] = False


def _check_area_placement(tree: _AreaTree, row: dict, report: ImportReport):
    """Tree, jurisdiction and containment, against what the file and the database hold together."""
    parent_code = row["parent_code"]
    if parent_code and parent_code not in tree.by_code and parent_code not in tree.existing:
        return _reject(report, row, "parent_code", f"上级编码 {parent_code} 不存在或本身有错误。")
    if parent_code in tree.by_code and not tree.by_code[parent_code]["valid"]:
        return _reject(report, row, "parent_code", f"上级 {parent_code} 本身有错误。")
    allowed = tree.covered(parent_code) if parent_code else not tree.limited
    if row["code"] in tree.existing:
        allowed = allowed and tree.covered(row["code"])
    if not allowed:
        return _reject(report, row, "parent_code" if parent_code else "code", "不在您的辖区内。")
    parent_stub = Area(code=parent_code, kind=tree.kind_of(parent_code), path="") if parent_code else None
    try:
        services.validate_area(kind=row["kind"], parent=parent_stub, boundary=None, tier=row["tier"], zone=None)
        if row["zone_code"]:
            _check_zone(tree, row)
        pgeom = tree.geom_of(parent_code) if parent_code else None
        if row.get("geom") is not None and pgeom is not None:
            geometry.check_inside(row["geom"], pgeom, settings.AREA_CONTAINMENT_TOLERANCE, field="geometry")
    except ValidationFailed as exc:
        report.errors.extend(row_errors(exc, row["line"], {"parent": "parent_code", "zone": "zone_code"}))
        row["valid"] = False


def _check_zone(tree: _AreaTree, row: dict):
    zone_code = row["zone_code"]
    zkind = tree.kind_of(zone_code)
    if zkind is None or (zone_code in tree.by_code and not tree.by_code[zone_code]["valid"]):
        raise ValidationFailed(fields={"zone_code": [f"防区编码 {zone_code} 不存在或本身有错误。"]})
    if row["kind"] != AreaKind.GRID or zkind != AreaKind.ZONE:
        raise ValidationFailed(fields={"zone_code": ["只有网格可以归入防区/片区。"]})
    if tree.street_of(zone_code) != tree.street_of(row["parent_code"]):
        raise ValidationFailed(fields={"zone_code": ["防区必须属于该网格所在的镇街。"]})


def _count_area_changes(tree: _AreaTree, report: ImportReport) -> list[dict]:
    """Count created / updated / unchanged; returns the rows to write."""
    valid = [r for r in tree.rows if r["valid"]]
    candidates = [r["code"] for r in valid if r["code"] in tree.existing
                  and tree.current_tuple(tree.existing[r["code"]]) == (r["name"], r["kind"], r["parent_code"], r["tier"], r["zone_code"])]
    boundaries = dict(Area.objects.filter(code__in=candidates).values_list("code", "boundary")) if candidates else {}
    changed_rows = []
    for row in valid:
        if row["code"] not in tree.existing:
            report.created += 1
            changed_rows.append(row)
        elif row["code"] in boundaries and boundaries[row["code"]] == row["boundary"]:
            report.unchanged += 1
        else:
            report.updated += 1
            changed_rows.append(row)
    return changed_rows


@transaction.atomic
def _write_areas(actor, tree: _AreaTree, changed_rows: list[dict], report: ImportReport):
    saved = dict(tree.existing)
    for row in changed_rows:
        parent = saved.get(row["parent_code"]) if row["parent_code"] else None
        zone = saved.get(row["zone_code"]) if row["zone_code"] else None
        fields = dict(name=row["name"], kind=row["kind"], parent=parent, tier=row["tier"], zone=zone,
                      boundary=row["boundary"], geom=row.get("geom"))
        current = saved.get(row["code"])
        saved[row["code"]] = (services.insert_area(actor, code=row["code"], **fields) if current is None
                              else services.rewrite_area(actor, current, **fields))
    audit.record(actor, "areas.imported", None, object_type="grids.area", object_id="*", object_repr="GeoJSON import",
                 changes={"created": [None, report.created], "updated": [None, report.updated],
                          "skipped": [None, report.skipped]})
    transaction.on_commit(spatial.invalidate)


# --- Subjects ---------------------------------------------------------------------------------

def _normalise_subject_row(raw: dict) -> dict:
    return {SUBJECT_HEADER_ALIASES.get(k, k): v for k, v in raw.items()}


def _split_tags(raw: str) -> list[str]:
    for sep in ("；", ",", "，", "、"):
        raw = raw.replace(sep, ";")
    return sorted({t.strip() for t in raw.split(";") if t.strip()})


def import_subjects(actor, data: bytes, filename: str, *, dry_run=False, skip_invalid=False) -> ImportReport:
    _require_importer(actor)
    report = ImportReport(dry_run=dry_run)
    header, raw_rows = read_table(data, filename)
    columns = {SUBJECT_HEADER_ALIASES.get(h, h) for h in header if h}
    require_columns(columns, SUBJECT_REQUIRED)
    checker = _SubjectRowChecker(actor, columns)
    plans = []
    for line, raw in raw_rows:
        errs, plan = checker.check(line, _normalise_subject_row(raw))
        if errs:
            report.errors.extend(errs)
            report.skipped += 1
        else:
            plans.append((line, plan))
    actions = _match_existing_subjects(actor, plans, report)
    report.errors.sort(key=lambda e: (e.line, e.column))
    if (report.errors and not skip_invalid) or dry_run:
        return report
    _write_subjects(actor, actions)
    report.written = True
    return report


class _SubjectRowChecker:
    """Checks one row at a time against the categories, the grids, the actor's areas and the rows before it."""

    def __init__(self, actor, columns: set[str]):
        self.actor, self.columns = actor, columns
        self.categories = {c.code: c for c in SubjectCategory.objects.select_related("parent")}
        self.grids = {a.code: a for a in Area.objects.filter(kind=AreaKind.GRID).defer("boundary")}
        self.grid_geoms = {}
        self.status_by_label = {str(label): value for value, label in SubjectStatus.choices}
        self.licences_in_file, self.keys_in_file = {}, {}
        self.index = spatial.get_index()

    def check(self, line: int, row: dict) -> tuple[list[RowError], dict | None]:
        """(errors, plan): the plan holds the subject's fields, only the columns the file has."""
        errs = self._text_errors(line, row)
        category = self._category(line, row, errs)
        lat, lng, grid = self._place(line, row, errs)
        status = self._status(line, row, errs)
        licence = (row.get("licence_no") or "").strip() or None
        self._duplicate_in_file(line, row, licence, errs)
        if errs:
            return errs, None
        plan = {"name": row.get("name", ""), "category": category, "licence_no": licence, "lat": lat, "lng": lng,
                "grid": grid}
        for col in OPTIONAL_TEXT_COLUMNS:
            if col in self.columns:
                plan[col] = row.get(col, "")
        if "status" in self.columns:
            plan["status"] = status
        if "tags" in self.columns:
            plan["tags"] = _split_tags(row.get("tags") or "")
        return [], plan

    def _text_errors(self, line, row) -> list[RowError]:
        errs = []
        if not row.get("name", ""):
            errs.append(RowError(line, "name", "此字段为必填项。"))
        for col in ["name", "licence_no", "tags"] + OPTIONAL_TEXT_COLUMNS:
            field = "name" if col == "tags" else col
            max_length = 1000 if col == "tags" else Subject._meta.get_field(field).max_length
            if len(row.get(col) or "") > max_length:
                errs.append(RowError(line, col, f"最多 {max_length} 个字符。"))
        phone_problem = phone_error(row.get("contact_phone") or "")
        if phone_problem and not any(e.column == "contact_phone" for e in errs):
            errs.append(RowError(line, "contact_phone", phone_problem))
        return errs

    def _category(self, line, row, errs):
        category = self.categories.get(row.get("category_code", ""))
        if category is None:
            errs.append(RowError(line, "category_code", f"未知类别编码：{row.get('category_code', '')}。"))
        elif category.parent_id is None:
            errs.append(RowError(line, "category_code", "请使用小类（二级类别）编码。"))
        return category

    def _place(self, line, row, errs):
        """The point, and the grid: the one named (the point must lie in it) or the one under the point."""
        try:
            lat, lng = geometry.parse_lat_lng(row.get("lat"), row.get("lng"))
        except ValidationFailed as exc:
            errs.extend(row_errors(exc, line))
            lat = lng = None
        grid = None
        if row.get("grid_code"):
            grid = self.grids.get(row["grid_code"])
            if grid is None:
                errs.append(RowError(line, "grid_code", f"未知网格编码：{row['grid_code']}。"))
            elif lat is not None:
                geom = self._grid_geom(grid)
                if geom is not None and geom.distance(geometry.point(lat, lng)) > services.GRID_POINT_TOLERANCE_DEG:
                    errs.append(RowError(line, "grid_code", f"该位置不在网格 {grid.code} 内。"))
        elif lat is not None:
            ref = next((r for r in self.index.chain(lat, lng) if r.kind == AreaKind.GRID), None)
            grid = self.grids.get(ref.code) if ref else None
            if grid is None:
                errs.append(RowError(line, "lat", "该位置不在任何网格内。"))
        if grid is not None and self.actor is not None and not selectors.user_covers_area(self.actor, grid):
            errs.append(RowError(line, "grid_code" if row.get("grid_code") else "lat", f"网格 {grid.code} 不在您的辖区内。"))
        return lat, lng, grid

    def _grid_geom(self, grid: Area):
        if grid.code not in self.grid_geoms:
            boundary = Area.objects.filter(pk=grid.pk).values_list("boundary", flat=True).first()
            self.grid_geoms[grid.code] = geometry.parse_boundary(boundary) if boundary else None
        return self.grid_geoms[grid.code]

    def _status(self, line, row, errs):
        status = row.get("status") or SubjectStatus.ACTIVE
        if status not in SubjectStatus.values:
            status = self.status_by_label.get(status, status)
            if status not in SubjectStatus.values:
                errs.append(RowError(line, "status", f"未知状态：{row.get('status')}。"))
        return status

    def _duplicate_in_file(self, line, row, licence, errs):
        name = row.get("name", "")
        if licence:
            if licence in self.licences_in_file:
                errs.append(RowError(line, "licence_no", f"营业执照号与第{self.licences_in_file[licence]}行重复。"))
            self.licences_in_file.setdefault(licence, line)
        elif name:
            key = (name, row.get("address", ""))
            if key in self.keys_in_file:
                errs.append(RowError(line, "name", f"名称和地址与第{self.keys_in_file[key]}行重复（且都没有营业执照号）。"))
            self.keys_in_file.setdefault(key, line)


def _match_existing_subjects(actor, plans: list, report: ImportReport) -> list:
    """Match existing subjects (by licence number, else by name + address) and count what would change.
    Returns (line, current or None, fields to write)."""
    licences = [p["licence_no"] for _, p in plans if p["licence_no"]]
    subjects = Subject.objects.select_related("grid").defer("grid__boundary").prefetch_related("tags")
    by_licence = {s.licence_no: s for s in subjects.filter(licence_no__in=licences)}
    unlicensed = subjects.filter(licence_no__isnull=True, name__in=[p["name"] for _, p in plans if not p["licence_no"]])
    by_name_addr = {(s.name, s.address): s for s in unlicensed}
    actions = []
    for line, plan in plans:
        current = (by_licence.get(plan["licence_no"]) if plan["licence_no"]
                   else by_name_addr.get((plan["name"], plan.get("address", ""))))
        if current is None:
            report.created += 1
            actions.append((line, None, plan))
            continue
        if actor is not None and not selectors.user_covers_area(actor, current.grid):
            report.errors.append(RowError(line, "licence_no" if plan["licence_no"] else "name",
                                          "匹配到的已有对象不在您的辖区内。"))
            report.skipped += 1
            continue
        changes = _subject_changes(current, plan)
        if changes:
            report.updated += 1
            actions.append((line, current, changes))
        else:
            report.unchanged += 1
    return actions


def _subject_changes(current: Subject, plan: dict) -> dict:
    changes = {}
    for k, v in plan.items():
        if k == "tags":
            now = sorted(t.name for t in current.tags.all())
        elif k in ("category", "grid"):
            now, v = getattr(current, f"{k}_id"), v.pk
        else:
            now = getattr(current, k)
        if now != v:
            changes[k] = plan[k]
    if changes.keys() & {"lat", "lng", "grid"}:
        changes.update(lat=plan["lat"], lng=plan["lng"], grid=plan["grid"])  # the place moves as one
    return changes


@transaction.atomic
def _write_subjects(actor, actions: list):
    # Every row's jurisdiction was checked above: the unchecked writes are the ones meant here.
    for line, current, fields in actions:
        try:
            if current is None:
                services.insert_subject(actor, **fields)
            else:
                services.rewrite_subject(actor, current, **fields)
        except DomainError as exc:
            # Only a concurrent change can get here (everything was checked above): stop, write nothing.
            raise ValidationFailed(fields={"file": [str(e) for e in row_errors(exc, line)]}) from exc


def blank_template(kind: str, fmt: str) -> bytes:
    """The file to fill in for an import: the subjects' columns under their Chinese headers (the importer reads
    those and the English names alike), or a GeoJSON FeatureCollection of one area whose properties are to fill
    in (as it stands it is refused: its code and name are blank)."""
    if kind == "areas":
        feature = {"type": "Feature", "properties": {p: "" for p in AREA_PROPERTIES}, "geometry": None}
        return json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False, indent=2).encode()
    chinese = {v: k for k, v in SUBJECT_HEADER_ALIASES.items()}
    return write_table(fmt, [chinese.get(c, c) for c in SUBJECT_COLUMNS], [])


def export_subjects(qs, fmt: str, *, mask_phones: bool = False) -> bytes:
    """The subjects of `qs` as CSV or XLSX in the import's own columns (so an export re-imports unchanged).
    `mask_phones` for readers whose role may not see full numbers (core.roles.may_see_phones)."""
    def phone(value):
        return mask_phone(value) if mask_phones else value

    rows = (
        [s.name, s.category.code, s.legal_representative, phone(s.contact_phone), s.licence_no or "", s.shop_sign,
         s.address, s.lat, s.lng, s.grid.code, s.status, ";".join(sorted(t.name for t in s.tags.all()))]
        for s in qs.select_related("category", "grid").prefetch_related("tags").order_by("id").iterator(chunk_size=2000)
    )
    return write_table(fmt, SUBJECT_COLUMNS, rows)
