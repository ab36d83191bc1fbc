"""grids.importers: subjects from CSV/XLSX, areas from GeoJSON, the export, and core.tabular."""
import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from grids.testing import square
from core.exceptions import Forbidden, ValidationFailed
from core.models import AuditLog
from core.tabular import read_rows, write_table
from grids import importers, services
from grids.models import Area, Subject

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db

HEADER = "name,category_code,legal_representative,contact_phone,licence_no,shop_sign,address,lat,lng,grid_code,status,tags"
GOOD = [
    "老王面馆,FOOD-R,王五,13812345678,LIC-1,王记,文一路1号,30.2,120.2,,active,夜宵;重点",
    "茶香小馆,FOOD-R,,057188889999,LIC-2,,文二路2号,30.7,120.7,S1G2,,夜宵",
    "东区工地,SITE-B,李四,,,,东大街3号,30.2,121.2,,closed,",
]


def csv_bytes(*lines, header=HEADER, encoding="utf-8"):
    return ("\n".join([header, *lines]) + "\n").encode(encoding)


def xlsx_bytes(rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def errors(report):
    return [(e.line, e.column) for e in report.errors]


# --- Subjects ---------------------------------------------------------------------------------

def test_import_valid_file_writes_everything(district, categories):
    report = importers.import_subjects(None, csv_bytes(*GOOD), "s.csv")
    assert report.ok and report.written
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    noodle = Subject.objects.get(licence_no="LIC-1")
    assert noodle.grid.code == "S1G1" and noodle.legal_representative == "王五" and noodle.shop_sign == "王记"
    assert sorted(noodle.tags.values_list("name", flat=True)) == ["夜宵", "重点"]
    assert Subject.objects.get(name="东区工地").status == "closed"
    assert Subject.objects.get(name="茶香小馆").grid.code == "S1G2"
    assert AuditLog.objects.filter(action="subject.created").count() == 3


def test_reimport_of_the_same_file_changes_nothing(district, categories):
    importers.import_subjects(None, csv_bytes(*GOOD), "s.csv")
    before = AuditLog.objects.count()
    report = importers.import_subjects(None, csv_bytes(*GOOD), "s.csv")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert AuditLog.objects.count() == before
    assert Subject.objects.count() == 3


def test_changed_rows_are_updated_and_audited(district, categories):
    importers.import_subjects(None, csv_bytes(*GOOD), "s.csv")
    changed = GOOD[0].replace("王五", "王六").replace("夜宵;重点", "重点")
    report = importers.import_subjects(None, csv_bytes(changed, *GOOD[1:]), "s.csv")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    s = Subject.objects.get(licence_no="LIC-1")
    assert s.legal_representative == "王六" and list(s.tags.values_list("name", flat=True)) == ["重点"]
    log = AuditLog.objects.get(action="subject.updated")
    assert log.changes["legal_representative"] == ["王五", "王六"]


def test_every_bad_row_reported_and_nothing_written(district, categories):
    bad = [
        ",FOOD-R,,,,,,30.2,120.2,,,",                       # line 2: no name
        "甲,NOPE,,,,,,30.2,120.2,,,",                        # line 3: unknown category
        "乙,FOOD,,,,,,30.2,120.2,,,",                        # line 4: major category
        "丙,FOOD-R,,,,,,abc,120.2,,,",                       # line 5: lat not a number
        "丁,FOOD-R,,,,,,30.2,,,,",                           # line 6: lng missing
        "戊,FOOD-R,,,,,,35.0,100.0,,,",                      # line 7: in no grid
        "己,FOOD-R,,,,,,30.2,120.2,NOPE,,",                  # line 8: unknown grid
        "庚,FOOD-R,,,,,,30.2,120.2,,open,",                  # line 9: unknown status
        "辛,FOOD-R,,,L-9,,,30.2,120.2,,,",                   # line 10
        "壬,FOOD-R,,,L-9,,,30.2,120.2,,,",                   # line 11: licence repeats line 10
        "癸,FOOD-R,,,,,,30.2,120.2,S2G1,,",                  # line 12: point not in that grid
        "子,FOOD-R,,,,,某地,30.2,120.2,,,",                  # line 13
        "子,FOOD-R,,,,,某地,30.3,120.3,,,",                  # line 14: same name + address, no licence
        f"{'长' * 201},FOOD-R,,,,,,30.2,120.2,,,",           # line 15: name too long
    ]
    report = importers.import_subjects(None, csv_bytes(*GOOD, *bad), "s.csv")
    assert not report.ok and not report.written
    assert errors(report) == [
        (5, "name"), (6, "category_code"), (7, "category_code"), (8, "lat"), (9, "lng"), (10, "lat"),
        (11, "grid_code"), (12, "status"), (14, "licence_no"), (15, "grid_code"), (17, "name"), (18, "name"),
    ]
    assert all(e.reason for e in report.errors)
    assert str(report.errors[0]) == "第5行 [name]：此字段为必填项。"
    assert report.skipped == 12 and report.created == 5
    assert Subject.objects.count() == 0


def test_skip_invalid_writes_the_good_rows(district, categories):
    report = importers.import_subjects(None, csv_bytes(GOOD[0], "甲,NOPE,,,,,,30.2,120.2,,,", GOOD[1]), "s.csv",
                                       skip_invalid=True)
    assert report.written and report.created == 2 and report.skipped == 1
    assert errors(report) == [(3, "category_code")]
    assert Subject.objects.count() == 2


def test_dry_run_writes_nothing(district, categories):
    report = importers.import_subjects(None, csv_bytes(*GOOD), "s.csv", dry_run=True)
    assert report.ok and report.dry_run and not report.written and report.created == 3
    assert Subject.objects.count() == 0


def test_missing_required_columns(district, categories):
    with pytest.raises(ValidationFailed) as e:
        importers.import_subjects(None, "name,lat\n甲,30.2\n".encode(), "s.csv")
    assert "category_code" in e.value.fields["file"][0] and "lng" in e.value.fields["file"][0]
    with pytest.raises(ValidationFailed):  # header only: still checked
        importers.import_subjects(None, b"name\n", "s.csv")


def test_header_only_file_is_an_empty_import(district, categories):
    report = importers.import_subjects(None, (HEADER + "\n").encode(), "s.csv")
    assert report.ok and report.created == 0


@pytest.mark.parametrize("data,name", [(b"", "s.csv"), (b"x", "s.xls"), (b"not a zip", "s.xlsx"),
                                        (b"\xff\xfe\x00\x00garbage\x00", "s.csv"), (b"a,b\n\"x\x00\n", "s.csv")])
def test_unreadable_files_are_validation_errors(district, data, name):
    with pytest.raises(ValidationFailed) as e:
        importers.import_subjects(None, data, name)
    assert "file" in e.value.fields


def test_chinese_headers_and_gbk_csv(district, categories):
    header = "名称,类别编码,法定代表人,联系电话,营业执照号,店招,地址,纬度,经度,网格编码,状态,标签"
    line = "老王面馆,FOOD-R,王五,13812345678,LIC-1,王记,文一路1号,30.2,120.2,,已关闭,夜宵，重点"
    report = importers.import_subjects(None, csv_bytes(line, header=header, encoding="gbk"), "s.csv")
    assert report.ok and report.created == 1, report.errors
    s = Subject.objects.get()
    assert (s.name, s.status, s.legal_representative) == ("老王面馆", "closed", "王五")
    assert sorted(s.tags.values_list("name", flat=True)) == ["夜宵", "重点"]


def test_utf8_bom_csv(district, categories):
    data = "\ufeff".encode() + csv_bytes(GOOD[0])
    assert importers.import_subjects(None, data, "s.csv").created == 1


def test_missing_optional_columns_leave_existing_values(district, categories):
    importers.import_subjects(None, csv_bytes(*GOOD), "s.csv")
    slim = "name,category_code,licence_no,lat,lng\n老王面馆,FOOD-R,LIC-1,30.2,120.2\n".encode()
    report = importers.import_subjects(None, slim, "s.csv")
    assert (report.updated, report.unchanged) == (0, 1)
    s = Subject.objects.get(licence_no="LIC-1")
    assert s.contact_phone == "13812345678" and s.tags.count() == 2 and s.address == "文一路1号"


def test_moved_point_moves_the_grid(district, categories):
    importers.import_subjects(None, csv_bytes(GOOD[0]), "s.csv")
    moved = GOOD[0].replace("30.2,120.2", "30.2,120.7")
    report = importers.import_subjects(None, csv_bytes(moved), "s.csv")
    assert report.updated == 1
    assert Subject.objects.get(licence_no="LIC-1").grid.code == "S1G2"


def test_xlsx_import(district, categories):
    data = xlsx_bytes([HEADER.split(","), ["甲", "FOOD-R", "", 13800001111, "", "", "", 30.2, 120.2, "", "", "a;b"]])
    report = importers.import_subjects(None, data, "s.xlsx")
    assert report.ok and report.created == 1, report.errors
    assert Subject.objects.get().contact_phone == "13800001111"  # not "13800001111.0"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_round_trip_is_unchanged(district, categories, fmt):
    importers.import_subjects(None, csv_bytes(*GOOD), "s.csv")
    exported = importers.export_subjects(Subject.objects.all(), fmt)
    report = importers.import_subjects(None, exported, f"export.{fmt}")
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)


def test_export_content_and_masking(district, categories):
    importers.import_subjects(None, csv_bytes(*GOOD), "s.csv")
    rows = read_rows(importers.export_subjects(Subject.objects.all(), "csv"), "x.csv")
    first = rows[0][1]
    assert list(first) == importers.SUBJECT_COLUMNS
    assert (first["name"], first["contact_phone"], first["grid_code"], first["tags"]) == (
        "老王面馆", "13812345678", "S1G1", "夜宵;重点")
    masked = read_rows(importers.export_subjects(Subject.objects.all(), "xlsx", mask_phones=True), "x.xlsx")
    assert [r["contact_phone"] for _, r in masked] == ["138****5678", "057*****9999", ""]
    wb = load_workbook(io.BytesIO(importers.export_subjects(Subject.objects.all(), "xlsx")))
    assert [c.value for c in next(wb.active.iter_rows(max_row=1))] == importers.SUBJECT_COLUMNS


def test_importer_scoping_for_users(users, district, categories):
    with pytest.raises(Forbidden):
        importers.import_subjects(users["leader_s1"], csv_bytes(*GOOD), "s.csv")
    report = importers.import_subjects(users["bureau_s1"], csv_bytes(*GOOD), "s.csv")
    assert errors(report) == [(4, "lat")] and not report.written  # 东区工地 lies in S2
    report = importers.import_subjects(users["bureau_s1"], csv_bytes(*GOOD), "s.csv", skip_invalid=True)
    assert report.created == 2
    # An S2 subject already in the database can't be rewritten by S1's staff either.
    importers.import_subjects(None, csv_bytes(GOOD[2].replace(",,,,东大街", ",,LIC-3,,东大街")), "s.csv")
    other = GOOD[2].replace(",,,,东大街", ",,LIC-3,,东大街").replace("30.2,121.2", "30.2,120.2")
    report = importers.import_subjects(users["bureau_s1"], csv_bytes(other), "s.csv")
    assert errors(report) == [(2, "licence_no")]
    assert importers.import_subjects(users["bureau"], csv_bytes(other), "s.csv").updated == 1


def test_tabular_write_rejects_unknown_format():
    with pytest.raises(ValidationFailed):
        write_table("pdf", ["a"], [])


def test_csv_line_numbers_count_multiline_cells(district, categories):
    data = (HEADER + "\n" + '甲,FOOD-R,,,,,"两行\n地址",30.2,120.2,,,\n' + "乙,NOPE,,,,,,30.2,120.2,,,\n").encode()
    report = importers.import_subjects(None, data, "s.csv")
    assert errors(report) == [(4, "category_code")]


# --- Areas ------------------------------------------------------------------------------------

def feature(code, kind, parent_code="", geometry=None, **props):
    return {"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name": props.pop("name", code), "kind": kind, "parent_code": parent_code, **props}}


def geojson(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode()


NEW_AREAS = [
    # Listed children first: the importer orders by level itself.
    feature("S1C2G1", "grid", "S1C2", square(120.5, 30.0, 121.0, 30.5), zone_code="S1Z9"),
    feature("S1C2", "community", "S1", square(120.5, 30.0, 121.0, 31.0)),
    feature("S1Z9", "zone", "S1", square(120.5, 30.0, 121.0, 31.0)),
    feature("S1C2G1M1", "micro_grid", "S1C2G1", square(120.5, 30.0, 120.75, 30.5)),
]


def test_import_areas_creates_tree_with_paths(district):
    report = importers.import_areas(None, geojson(*NEW_AREAS))
    assert report.ok and report.written and report.created == 4, report.errors
    c2, g, m = (Area.objects.get(code=c) for c in ("S1C2", "S1C2G1", "S1C2G1M1"))
    assert g.parent == c2 and m.path == f"{g.path}{m.pk}/" and g.zone.code == "S1Z9"
    assert g.min_lng == 120.5
    assert AuditLog.objects.filter(action="area.created", object_id=str(m.pk)).exists()
    assert AuditLog.objects.filter(action="areas.imported").count() == 1


def test_import_areas_again_changes_nothing(district):
    importers.import_areas(None, geojson(*NEW_AREAS))
    report = importers.import_areas(None, geojson(*NEW_AREAS))
    assert (report.created, report.updated, report.unchanged) == (0, 0, 4)


def test_import_areas_updates_existing(district):
    renamed = feature("S1G1", "grid", "S1C1", square(120.0, 30.0, 120.5, 31.0), name="新网格名")
    report = importers.import_areas(None, geojson(renamed))
    assert (report.created, report.updated) == (0, 1)
    assert Area.objects.get(code="S1G1").name == "新网格名"
    assert AuditLog.objects.get(action="area.updated").changes == {"name": ["网格1-1", "新网格名"]}


def test_import_areas_reports_every_bad_feature(district):
    bow_tie = {"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.1, 30.1], [120.1, 30.0], [120.0, 30.1], [120.0, 30.0]]]}
    bad = [
        feature("A1", "grid", "NOPE"),                                                  # 1 unknown parent
        feature("", "grid", "S1C1"),                                                    # 2 no code
        feature("A3", "moon", "S1C1"),                                                  # 3 unknown kind
        feature("A4", "grid", "S1"),                                                    # 4 wrong parent kind
        feature("A5", "micro_grid", "S1G1", bow_tie),                                   # 5 self-intersecting
        feature("A6", "micro_grid", "S1G1", square(121.0, 30.0, 121.2, 30.2)),          # 6 outside parent
        feature("A7", "street", "D", tier="huge"),                                      # 7 unknown tier
        feature("A5", "micro_grid", "S1G1"),                                            # 8 duplicate code
        feature("A9", "grid", "S1C1", zone_code="ZZ"),                                  # 9 unknown zone
        "not a feature",                                                                # 10
        feature("A11", "micro_grid", "A1"),                                             # 11 parent is bad
    ]
    report = importers.import_areas(None, geojson(*bad))
    assert not report.written
    assert errors(report) == [(1, "parent_code"), (2, "code"), (2, "name"), (3, "kind"), (4, "parent_code"), (5, "geometry"),
                              (6, "geometry"), (7, "tier"), (8, "code"), (9, "zone_code"), (10, ""),
                              (11, "parent_code")]
    assert not Area.objects.filter(code__startswith="A").exists()


def test_import_areas_skip_invalid(district):
    report = importers.import_areas(None, geojson(NEW_AREAS[1], feature("A1", "grid", "NOPE")), skip_invalid=True)
    assert report.written and report.created == 1 and errors(report) == [(2, "parent_code")]
    assert Area.objects.filter(code="S1C2").exists()


def test_import_areas_zone_of_another_street(district):
    zone = feature("S2Z1", "zone", "S2", square(121.0, 30.0, 122.0, 31.0))
    grid = feature("S1G9", "grid", "S1C1", square(120.0, 30.0, 120.5, 30.5), zone_code="S2Z1")
    report = importers.import_areas(None, geojson(zone, grid))
    assert errors(report) == [(2, "zone_code")]


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'{"type": "Feature"}', b'{"type": "FeatureCollection"}',
                                  b"\xff\xfe"])
def test_import_areas_bad_documents(district, data):
    with pytest.raises(ValidationFailed) as e:
        importers.import_areas(None, data)
    assert "file" in e.value.fields


def test_import_areas_scoping(users, district):
    with pytest.raises(Forbidden):
        importers.import_areas(users["dispatcher"], geojson(*NEW_AREAS))
    s2_grid = feature("S2G9", "grid", "S2C1", square(121.0, 30.0, 121.5, 30.5))
    report = importers.import_areas(users["bureau_s1"], geojson(*NEW_AREAS, s2_grid))
    assert errors(report) == [(5, "parent_code")]
    # A new street hangs under the district, which S1's staff don't hold.
    report = importers.import_areas(users["bureau_s1"], geojson(feature("S9", "street", "D")))
    assert errors(report) == [(1, "parent_code")]
    assert importers.import_areas(users["bureau_s1"], geojson(*NEW_AREAS)).written
    assert importers.import_areas(users["bureau"], geojson(s2_grid)).written


def test_import_areas_is_what_locate_sees(district, users, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        importers.import_areas(None, geojson(*NEW_AREAS))
    r = api(users["dispatcher"]).get("/api/v1/grids/locate/", {"lat": 30.2, "lng": 120.6})
    assert [a["code"] for a in r.json()["areas"]][:2] == ["S1C2G1M1", "S1C2G1"]


def test_subject_import_after_area_import_uses_new_grids(district, categories):
    importers.import_areas(None, geojson(*NEW_AREAS))
    services.insert_subject(None, name="x", category=categories["restaurant"], lat=30.2, lng=120.6)
    assert Subject.objects.get().grid.code == "S1C2G1"
