"""Pages of the registry: /map/, /subjects/ (+ CSV/XLSX export), /subjects/import/."""
import base64
import io
import re

import pytest
from openpyxl import load_workbook

from core.tabular import read_rows
from grids import services
from grids.models import Subject

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db


@pytest.fixture
def subjects(district, categories):
    mk = services.insert_subject
    return [
        mk(None, name="老王面馆", category=categories["restaurant"], contact_phone="13812345678",
           licence_no="LIC-1", address="文一路1号", lat=30.2, lng=120.2),
        mk(None, name="滨江工地", category=categories["building_site"], address="江滨路9号",
           lat=30.3, lng=120.3, status="closed"),
        mk(None, name="东区商场", category=categories["building_site"], contact_phone="13900001111",
           address="东大街3号", lat=30.2, lng=121.2),
    ]


def login(client, user):
    client.force_login(user)
    return client


# --- /map/ ------------------------------------------------------------------------------------

def test_map_requires_login(client, db):
    r = client.get("/map/")
    assert r.status_code == 302 and r["Location"] == "/login/?next=/map/"


def test_map_renders_with_vendored_assets_only(client, users, settings):
    settings.MAP_TILE_URL = ""
    r = login(client, users["officer_s1"]).get("/map/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="map"' in html and "/static/js/map.js" in html and "leaflet" in html.lower()
    assert "/api/v1/areas/geojson/" in html and "/api/v1/subjects/points/" in html
    assert '"tileUrl": ""' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external assets"


def test_map_tile_url_from_settings(client, users, settings):
    settings.MAP_TILE_URL = "http://tiles.intranet/{z}/{x}/{y}.png"
    html = login(client, users["dispatcher"]).get("/map/").content.decode()
    assert "tiles.intranet" in html


# --- /subjects/ -------------------------------------------------------------------------------

def test_subject_list_requires_login(client, db):
    assert client.get("/subjects/").status_code == 302


def test_subject_list_scoped_and_filtered(client, users, subjects, district):
    c = login(client, users["leader_s1"])
    r = c.get("/subjects/")
    assert r.status_code == 200
    names = [s.name for s in r.context["page"]]
    assert names == ["老王面馆", "滨江工地"]
    assert [s.name for s in c.get("/subjects/", {"status": "closed"}).context["page"]] == ["滨江工地"]
    assert [s.name for s in c.get("/subjects/", {"q": "面馆"}).context["page"]] == ["老王面馆"]
    assert [s.name for s in c.get("/subjects/", {"category": "SITE"}).context["page"]] == ["滨江工地"]
    assert [s.name for s in c.get("/subjects/", {"area": district["S1G1"].pk}).context["page"]] == ["老王面馆", "滨江工地"]
    # Junk filter values don't break the page.
    assert c.get("/subjects/", {"area": "abc", "status": "zzz", "page": "x"}).status_code == 200
    # The area drop-down offers only the user's areas.
    offered = {a.code for a in c.get("/subjects/").context["areas"]}
    assert offered == {"S1", "S1C1", "S1G1", "S1G2"}


@pytest.mark.parametrize("who,shown", [("dispatcher", "13812345678"), ("officer_s1", "138****5678")])
def test_subject_list_masks_phones_in_the_page(client, users, subjects, who, shown):
    html = login(client, users[who]).get("/subjects/").content.decode()
    assert shown in html
    if who == "officer_s1":
        assert "13812345678" not in html


def test_subject_list_query_count(client, users, subjects, categories, django_assert_max_num_queries):
    for i in range(30):
        services.insert_subject(None, name=f"店{i}", category=categories["restaurant"],
                                lat=30.1 + i / 100, lng=120.1, tags=["x"])
    c = login(client, users["bureau"])
    # session, user, roles, areas, count, page, tags, drop-downs; bureau staff: the header's review count
    # (command_center.context_processors: one query per source of the queue)
    with django_assert_max_num_queries(10):
        r = c.get("/subjects/")
    assert r.status_code == 200


@pytest.mark.parametrize("who,phone", [("bureau", "13812345678"), ("leader_s1", "13812345678"),
                                       ("officer_s1", "138****5678")])
def test_export_csv_masks_phones_for_roles_that_may_not_see_them(client, users, subjects, who, phone):
    r = login(client, users[who]).get("/subjects/", {"export": "csv"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv") and "subjects.csv" in r["Content-Disposition"]
    rows = {row["name"]: row for _, row in read_rows(r.content, "x.csv")}
    assert rows["老王面馆"]["contact_phone"] == phone


def test_export_xlsx_respects_filters_scope_and_masking(client, users, subjects):
    r = login(client, users["officer_s1"]).get("/subjects/", {"export": "xlsx", "status": "active"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    values = [[c.value for c in row] for row in wb.active.iter_rows()]
    assert values[0][0] == "name" and [v[0] for v in values[1:]] == ["老王面馆"]
    assert values[1][3] == "138****5678"


# --- /subjects/import/ ------------------------------------------------------------------------

CSV = ("name,category_code,contact_phone,licence_no,lat,lng\n"
       "老王面馆,FOOD-R,13812345678,LIC-1,30.2,120.2\n"
       "坏行,NOPE,,,30.2,120.2\n"
       "茶香小馆,FOOD-R,,LIC-2,30.7,120.7\n").encode()


def upload(client, data, name="s.csv", kind="subjects", skip=False):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"kind": kind, "file": SimpleUploadedFile(name, data)}
    if skip:
        body["skip_invalid"] = "on"
    return client.post("/subjects/import/", body)


@pytest.mark.parametrize("who", ["dispatcher", "leader_s1", "officer_s1", "platform"])
def test_import_page_is_for_bureau_staff_only(client, users, who):
    c = login(client, users[who])
    assert c.get("/subjects/import/").status_code == 403
    assert upload(c, CSV).status_code == 403


def test_import_page_needs_login(client, db):
    assert client.get("/subjects/import/").status_code == 302


def test_import_preview_lists_errors_and_writes_nothing(client, users, district, categories):
    c = login(client, users["bureau"])
    assert c.get("/subjects/import/").status_code == 200
    r = upload(c, CSV)
    assert r.status_code == 200
    report = r.context["report"]
    assert report.dry_run and [(e.line, e.column) for e in report.errors] == [(3, "category_code")]
    html = r.content.decode()
    assert "NOPE" in html and "import-report" in html
    assert 'name="confirm"' not in html  # errors and no skip: nothing to confirm
    assert Subject.objects.count() == 0


def test_import_preview_then_confirm_writes(client, users, district, categories):
    c = login(client, users["bureau"])
    good = b"\n".join(line for line in CSV.split(b"\n") if b"NOPE" not in line)
    r = upload(c, good)
    assert r.context["report"].ok and r.context["report"].created == 2
    assert 'name="confirm"' in r.content.decode() and Subject.objects.count() == 0
    r = c.post("/subjects/import/", {"confirm": "1", "payload": r.context["payload"], "kind": "subjects",
                                     "filename": "s.csv"}, follow=True)
    assert r.status_code == 200
    assert Subject.objects.count() == 2
    assert "新增 2" in r.content.decode()


def test_import_with_skip_invalid_confirms_the_good_rows(client, users, district, categories):
    c = login(client, users["bureau"])
    r = upload(c, CSV, skip=True)
    assert 'name="confirm"' in r.content.decode()
    c.post("/subjects/import/", {"confirm": "1", "payload": r.context["payload"], "kind": "subjects",
                                 "filename": "s.csv", "skip_invalid": "on"})
    assert sorted(Subject.objects.values_list("name", flat=True)) == ["老王面馆", "茶香小馆"]


def test_import_bad_uploads_show_form_errors(client, users, district, categories):
    c = login(client, users["bureau"])
    r = upload(c, b"x", name="s.pdf")
    assert r.status_code == 200 and r.context["form"].errors["file"]
    r = upload(c, b"name\n")
    assert "category_code" in str(r.context["form"].errors["file"])
    r = c.post("/subjects/import/", {"confirm": "1", "payload": "!!!not base64", "kind": "subjects", "filename": "s.csv"})
    assert r.status_code == 302 and Subject.objects.count() == 0


def test_import_areas_through_the_page(client, users, district):
    import json

    from conftest import square

    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": square(120.5, 30.0, 121.0, 31.0),
           "properties": {"code": "S1C2", "name": "社区1-2", "kind": "community", "parent_code": "S1"}}]}
    c = login(client, users["bureau"])
    r = upload(c, json.dumps(doc).encode(), name="a.geojson", kind="areas")
    assert r.context["report"].created == 1
    c.post("/subjects/import/", {"confirm": "1", "payload": base64.b64encode(json.dumps(doc).encode()).decode(),
                                 "kind": "areas", "filename": "a.geojson"})
    from grids.models import Area

    assert Area.objects.filter(code="S1C2").exists()


def test_street_bureau_staff_cannot_import_into_another_street(client, users, district, categories):
    c = login(client, users["bureau_s1"])
    csv = "name,category_code,lat,lng\n东区店,FOOD-R,30.2,121.2\n".encode()
    r = upload(c, csv)
    assert [(e.line, e.column) for e in r.context["report"].errors] == [(2, "lat")]
