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


def test_subject_list_columns_links_and_area_tree(client, users, subjects, district):
    from django.utils import timezone

    from credit.models import CreditScore

    CreditScore.objects.create(subject=subjects[0], score=30, color="red", computed_color="red", computed_at=timezone.now())
    r = login(client, users["bureau"]).get("/subjects/")
    html = r.content.decode()
    row = re.search(r"<tr><td>%d</td>(.*?)</tr>" % subjects[0].pk, html, re.S).group(1)
    # The row links to the subject's file and shows its colour (as a word too), street and community.
    assert f'href="/subjects/{subjects[0].pk}/"' in row
    assert 'class="credit red">红<' in row and "街道1" in row and "社区1" in row and "网格1-1" in row
    unscored = re.search(r"<tr><td>%d</td>(.*?)</tr>" % subjects[2].pk, html, re.S).group(1)
    assert 'class="credit green"' in unscored and "街道2" in unscored  # not scored yet: green
    # The area picker is a tree: a group per street, its communities and grids indented under it.
    select = re.search(r'<select name="area".*?</select>', html, re.S).group(0)
    assert '<optgroup label="街道1">' in select and '<optgroup label="街道2">' in select
    s1 = re.search(r'<optgroup label="街道1">(.*?)</optgroup>', select, re.S).group(1)
    assert re.findall(r">([^<]+)</option>", s1) == ["街道1（全街道）", "\u3000社区1", "\u3000\u3000网格1-1", "\u3000\u3000网格1-2"]
    # Every filter has a label.
    for name in ("q", "area", "category", "status", "color"):
        assert f'<label for="id_{name}">' in html
    # The colour filter still filters.
    assert [s.name for s in client.get("/subjects/", {"color": "red"}).context["page"]] == ["老王面馆"]


def test_subject_file_within_areas_only(client, users, subjects):
    c = login(client, users["leader_s1"])
    r = c.get(f"/subjects/{subjects[0].pk}/")
    assert r.status_code == 200 and "老王面馆" in r.content.decode() and "街道1" in r.content.decode()
    assert c.get(f"/subjects/{subjects[2].pk}/").status_code == 404  # S2's subject
    assert c.get("/subjects/99999999999999999999/").status_code == 404
    assert client.logout() is None and client.get(f"/subjects/{subjects[0].pk}/").status_code == 302


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
    # session, user, roles, areas, count, page (+ credit colours joined), tags, streets/communities, drop-downs;
    # bureau staff: the header's review count (command_center.context_processors: one query per source of the
    # queue: events, cases, colour appeals, inspection plans)
    with django_assert_max_num_queries(14):
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

    from grids.testing import square

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


def test_import_templates_download_and_import_empty(client, users, district, categories):
    import json

    c = login(client, users["bureau"])
    html = c.get("/subjects/import/").content.decode()
    assert "?template=subjects&amp;format=xlsx" in html and "?template=areas&amp;format=geojson" in html
    r = c.get("/subjects/import/", {"template": "subjects", "format": "csv"})
    assert r.status_code == 200 and 'filename="subjects-template.csv"' in r["Content-Disposition"]
    header = r.content.decode("utf-8-sig").splitlines()
    assert header == ["名称,类别编码,法定代表人,联系电话,营业执照号,店招,地址,纬度,经度,网格编码,状态,标签"]
    r = c.get("/subjects/import/", {"template": "subjects", "format": "xlsx"})
    assert load_workbook(io.BytesIO(r.content)).active.max_row == 1
    # The template, filled in, imports.
    filled = "\n".join(header + ["新店,FOOD-R,,13812345678,,,某路,30.2,120.2,,,"])
    assert upload(c, filled.encode()).context["report"].created == 1
    areas = json.loads(c.get("/subjects/import/", {"template": "areas", "format": "geojson"}).content)
    assert set(areas["features"][0]["properties"]) == {"code", "name", "kind", "parent_code", "tier", "zone_code"}
    assert c.get("/subjects/import/", {"template": "areas", "format": "xlsx"}).status_code == 404
    assert c.get("/subjects/import/", {"template": "planets"}).status_code == 404
    assert login(client, users["officer_s1"]).get("/subjects/import/", {"template": "subjects"}).status_code == 403


def test_import_checks_phones_and_says_how_many_rows_were_skipped(client, users, district, categories):
    c = login(client, users["bureau"])
    data = ("name,category_code,contact_phone,lat,lng\n"
            "甲店,FOOD-R,8765432,30.2,120.2\n"       # 7 digits: no number one can call
            "乙店,FOOD-R,0571-88889999,30.2,120.3\n"
            "丙店,FOOD-R,13812345678,30.2,120.4\n").encode()
    r = upload(c, data, skip=True)
    report = r.context["report"]
    assert [(e.line, e.column) for e in report.errors] == [(2, "contact_phone")] and report.skipped == 1
    assert "8765432" in report.errors[0].reason
    assert "跳过 1 行错误行" in r.content.decode()
    r = c.post("/subjects/import/", {"confirm": "1", "payload": r.context["payload"], "kind": "subjects",
                                     "filename": "s.csv", "skip_invalid": "on"}, follow=True)
    assert "跳过错误行 1" in r.content.decode()
    assert sorted(Subject.objects.values_list("name", flat=True)) == ["丙店", "乙店"]


def test_import_missing_column_and_unknown_kind_under_their_fields(client, users, district, categories):
    c = login(client, users["bureau"])
    form = upload(c, b"name,lat,lng\n\xe5\xba\x97,30.2,120.2\n").context["form"]
    assert "category_code" in str(form.errors["file"]) and "kind" not in form.errors
    form = upload(c, b"name\n", kind="planets").context["form"]
    assert form.errors["kind"] and "file" not in form.errors
