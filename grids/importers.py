"""Bulk imports of areas (GeoJSON) and subjects (CSV/XLSX).

All rows are checked first; nothing is written unless every row is valid, or `skip_invalid` was asked
for, in which case the good rows are written and the bad ones reported. Re-importing the same file
changes nothing (rows are matched by area code, and subjects by licence number or name + address).
"""
import json

from django.db import transaction

from core import audit
from core.exceptions import DomainError, ValidationFailed
from core.tabular import ImportReport, RowError, read_rows, require_columns
from grids import geometry, services, spatial
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


def _errors_of(exc: DomainError, line: int) -> list[RowError]:
    if exc.fields:
        return [RowError(line, col, " ".join(map(str, msgs))) for col, msgs in exc.fields.items()]
    return [RowError(line, "", exc.message)]


# --- Areas ------------------------------------------------------------------------------------

def import_areas(actor, data: bytes, *, dry_run=False, skip_invalid=False) -> ImportReport:
    """A GeoJSON FeatureCollection; each feature's properties: code, name, kind, parent_code, tier, zone_code."""
    report = ImportReport(dry_run=dry_run)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(fields={"file": [f"不是合法的 GeoJSON：{exc}"]}) from exc
    features = doc.get("features") if isinstance(doc, dict) else None
    if doc.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise ValidationFailed(fields={"file": ["需要 GeoJSON FeatureCollection。"]})

    rows = []
    codes_in_file = {}
    for n, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {}
        row = {
            "line": n, "code": str(props.get("code") or "").strip(), "name": str(props.get("name") or "").strip(),
            "kind": str(props.get("kind") or "").strip(), "parent_code": str(props.get("parent_code") or "").strip(),
            "tier": str(props.get("tier") or "").strip(), "zone_code": str(props.get("zone_code") or "").strip(),
            "boundary": (feature or {}).get("geometry"),
        }
        errs = []
        for col in ("code", "name", "kind"):
            if not row[col]:
                errs.append(RowError(n, col, "此字段为必填项。"))
        if row["kind"] and row["kind"] not in AreaKind.values:
            errs.append(RowError(n, "kind", f"未知层级：{row['kind']}。"))
        if row["tier"] and row["tier"] not in StreetTier.values:
            errs.append(RowError(n, "tier", f"未知镇街类型：{row['tier']}。"))
        if row["code"] in codes_in_file:
            errs.append(RowError(n, "code", f"编码与第{codes_in_file[row['code']]}个要素重复。"))
        codes_in_file.setdefault(row["code"], n)
        if row["boundary"] is not None:
            try:
                row["geom"] = geometry.parse_boundary(row["boundary"], field="geometry")
            except ValidationFailed as exc:
                errs.extend(_errors_of(exc, n))
        report.errors.extend(errs)
        row["valid"] = not errs
        rows.append(row)

    # Parents before children; zones before the grids that name them.
    order = {**KIND_DEPTH, AreaKind.ZONE: 2}
    rows.sort(key=lambda r: (order.get(r["kind"], 9), r["line"]))
    existing = {a.code: a for a in Area.objects.all()}
    geoms = {code: None for code in existing}
    by_code = {r["code"]: r for r in rows if r["valid"]}

    def geom_of(code):
        if code in by_code and by_code[code].get("geom") is not None:
            return by_code[code]["geom"]
        area = existing.get(code)
        if area is not None and area.boundary:
            if geoms.get(code) is None:
                geoms[code] = geometry.parse_boundary(area.boundary)
            return geoms[code]
        return None

    # Check tree and containment against what the file and the database hold together.
    planned = {}
    for row in rows:
        if not row["valid"]:
            continue
        n = row["line"]
        parent_code, zone_code = row["parent_code"], row["zone_code"]
        if parent_code and parent_code not in by_code and parent_code not in existing:
            report.errors.append(RowError(n, "parent_code", f"上级编码 {parent_code} 不存在。"))
            row["valid"] = False
            continue
        if parent_code and parent_code in by_code and not by_code[parent_code]["valid"]:
            report.errors.append(RowError(n, "parent_code", f"上级 {parent_code} 本身有错误。"))
            row["valid"] = False
            continue
        parent_kind = (by_code.get(parent_code) or {}).get("kind") or (existing[parent_code].kind if parent_code in existing else None)
        parent_stub = Area(code=parent_code, kind=parent_kind, path="") if parent_code else None
        zone_stub = None
        if zone_code:
            zkind = (by_code.get(zone_code) or {}).get("kind") or (existing[zone_code].kind if zone_code in existing else None)
            if zkind is None:
                report.errors.append(RowError(n, "zone_code", f"防区编码 {zone_code} 不存在。"))
                row["valid"] = False
                continue
            zone_stub = Area(code=zone_code, kind=zkind)
        try:
            services.validate_area(kind=row["kind"], parent=parent_stub, boundary=None, tier=row["tier"], zone=None)
            if zone_stub is not None and (row["kind"] != AreaKind.GRID or zone_stub.kind != AreaKind.ZONE):
                raise ValidationFailed(fields={"zone_code": ["只有网格可以归入防区/片区。"]})
            pgeom = geom_of(parent_code) if parent_code and row["kind"] != AreaKind.ZONE else None
            if row.get("geom") is not None and pgeom is not None:
                from django.conf import settings

                geometry.check_inside(row["geom"], pgeom, settings.AREA_CONTAINMENT_TOLERANCE, field="geometry")
        except ValidationFailed as exc:
            report.errors.extend(_errors_of(exc, n))
            row["valid"] = False
            continue
        planned[row["code"]] = row

    report.errors.sort(key=lambda e: (e.line, e.column))
    report.skipped = sum(1 for r in rows if not r["valid"])
    if report.errors and not skip_invalid:
        return report
    for row in rows:
        if not row["valid"]:
            continue
        current = existing.get(row["code"])
        if current is None:
            report.created += 1
        elif (current.name, current.kind, current.parent.code if current.parent_id else "", current.tier,
              current.zone.code if current.zone_id else "", current.boundary) == (
              row["name"], row["kind"], row["parent_code"], row["tier"], row["zone_code"], row["boundary"]):
            report.unchanged += 1
        else:
            report.updated += 1
    if dry_run:
        return report
    with transaction.atomic():
        saved = dict(existing)
        for row in rows:
            if not row["valid"]:
                continue
            parent = saved.get(row["parent_code"]) if row["parent_code"] else None
            zone = saved.get(row["zone_code"]) if row["zone_code"] else None
            current = saved.get(row["code"])
            fields = dict(name=row["name"], kind=row["kind"], parent=parent, tier=row["tier"], zone=zone, boundary=row["boundary"])
            if current is None:
                area = Area(code=row["code"], **fields)
                services._apply_geometry(area, row.get("geom"))
                area.save()
                services._set_path(area)
                saved[row["code"]] = area
            else:
                changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
                if changed:
                    before = audit.snapshot(current, services.AREA_FIELDS)
                    for k, v in changed.items():
                        setattr(current, k, v)
                    services._apply_geometry(current, row.get("geom"))
                    current.save()
                    services._set_path(current)
                    audit.record(actor, "area.updated", current, changes=audit.diff(before, audit.snapshot(current, services.AREA_FIELDS)))
        audit.record(actor, "areas.imported", None, object_type="grids.area", object_id="*", object_repr="GeoJSON import",
                     changes={"created": [None, report.created], "updated": [None, report.updated]})
        transaction.on_commit(spatial.invalidate)
    report.written = True
    return report


# --- Subjects ---------------------------------------------------------------------------------

def _normalise_subject_row(raw: dict) -> dict:
    return {SUBJECT_HEADER_ALIASES.get(k, k): v for k, v in raw.items()}


def import_subjects(actor, data: bytes, filename: str, *, dry_run=False, skip_invalid=False) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    rows = [(line, _normalise_subject_row(raw)) for line, raw in read_rows(data, filename)]
    header = set(rows[0][1]) if rows else set()
    if rows:
        require_columns(header, SUBJECT_REQUIRED)
    categories = {c.code: c for c in SubjectCategory.objects.select_related("parent")}
    grids = {a.code: a for a in Area.objects.filter(kind=AreaKind.GRID)}
    licences_in_file = {}
    index = spatial.get_index()
    plans = []
    for line, row in rows:
        errs = []
        if not row.get("name"):
            errs.append(RowError(line, "name", "此字段为必填项。"))
        category = categories.get(row.get("category_code", ""))
        if category is None:
            errs.append(RowError(line, "category_code", f"未知类别编码：{row.get('category_code', '')}。"))
        elif category.parent_id is None:
            errs.append(RowError(line, "category_code", "请使用小类（二级类别）编码。"))
        try:
            lat, lng = geometry.parse_lat_lng(row.get("lat"), row.get("lng"))
        except ValidationFailed as exc:
            errs.extend(_errors_of(exc, line))
            lat = lng = None
        grid = None
        if row.get("grid_code"):
            grid = grids.get(row["grid_code"])
            if grid is None:
                errs.append(RowError(line, "grid_code", f"未知网格编码：{row['grid_code']}。"))
        elif lat is not None:
            ref = next((r for r in index.chain(lat, lng) if r.kind == AreaKind.GRID), None)
            grid = grids.get(ref.code) if ref else None
            if grid is None:
                errs.append(RowError(line, "lat", "该位置不在任何网格内。"))
        status = row.get("status") or SubjectStatus.ACTIVE
        if status not in SubjectStatus.values:
            status = {str(label): value for value, label in SubjectStatus.choices}.get(status, status)
            if status not in SubjectStatus.values:
                errs.append(RowError(line, "status", f"未知状态：{row.get('status')}。"))
        licence = (row.get("licence_no") or "").strip() or None
        if licence:
            if licence in licences_in_file:
                errs.append(RowError(line, "licence_no", f"营业执照号与第{licences_in_file[licence]}行重复。"))
            licences_in_file.setdefault(licence, line)
        if errs:
            report.errors.extend(errs)
            report.skipped += 1
            continue
        tags = sorted({t.strip() for t in (row.get("tags") or "").replace("；", ";").replace(",", ";").replace("，", ";").split(";") if t.strip()})
        plans.append((line, {
            "name": row["name"], "category": category, "legal_representative": row.get("legal_representative", ""),
            "contact_phone": row.get("contact_phone", ""), "licence_no": licence, "shop_sign": row.get("shop_sign", ""),
            "address": row.get("address", ""), "lat": lat, "lng": lng, "grid": grid, "status": status, "tags": tags,
        }))

    # Match existing subjects: by licence number, else by name + address.
    by_licence = {s.licence_no: s for s in Subject.objects.filter(licence_no__in=[p["licence_no"] for _, p in plans if p["licence_no"]])}
    by_name_addr = {(s.name, s.address): s for s in Subject.objects.filter(licence_no__isnull=True, name__in=[p["name"] for _, p in plans])}
    actions = []
    for line, plan in plans:
        current = by_licence.get(plan["licence_no"]) if plan["licence_no"] else by_name_addr.get((plan["name"], plan["address"]))
        if current is None:
            report.created += 1
            actions.append(("create", None, plan))
            continue
        before = audit.snapshot(current, services.SUBJECT_FIELDS)
        after = {**before, **{k: (v.pk if hasattr(v, "pk") else v) for k, v in plan.items() if k != "tags"}}
        after["tags"] = sorted(current.tags.filter(name__in=plan["tags"]).values_list("pk", flat=True)) if plan["tags"] else []
        tags_same = sorted(current.tags.values_list("name", flat=True)) == plan["tags"]
        if audit.diff(before, after) == {} and tags_same:
            report.unchanged += 1
        else:
            report.updated += 1
            actions.append(("update", current, plan))
    report.errors.sort(key=lambda e: (e.line, e.column))
    if (report.errors and not skip_invalid) or dry_run:
        return report
    with transaction.atomic():
        for kind, current, plan in actions:
            if kind == "create":
                services.create_subject(actor, check_permission=False, **plan)
            else:
                services.update_subject(actor, current, check_permission=False, **plan)
    report.written = True
    return report


def export_subjects(qs, fmt: str) -> bytes:
    from core.tabular import write_table

    rows = (
        [s.name, s.category.code, s.legal_representative, s.contact_phone, s.licence_no or "", s.shop_sign,
         s.address, s.lat, s.lng, s.grid.code, s.status, ";".join(t.name for t in s.tags.all())]
        for s in qs.select_related("category", "grid").prefetch_related("tags").iterator(chunk_size=2000)
    )
    return write_table(fmt, SUBJECT_COLUMNS, rows)
