"""/reports/'s inspection and case sections: their tables (the hand-computed figures), exports, definitions."""
import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db

NOV = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def test_sections_tables_and_exports(logged_in, visits, cases):
    client = logged_in("dispatcher")
    page = client.get("/reports/", NOV)
    html = page.content.decode()
    assert page.status_code == 200 and "综合查一次" in html and "执法办案" in html
    assert "被替代的分散检查次数：" in html and "案卷评查平均分：" in html  # the definitions
    assert page.context["tables"]["inspections"][1] == [["全部", 4, 3, 3, 4, 1, 1, 1, 1, 4, 25.0, None, None]]
    csv = client.get("/reports/", {**NOV, "group_by": "street", "export": "inspections", "format": "csv"})
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("分组,检查次数,综合检查次数") and len(lines) == 3
    xlsx = client.get("/reports/", {**NOV, "export": "cases", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert rows[0][:5] == ("分组", "立案", "结案", "按期结案", "按期结案率%") and rows[0][5:8] == ("处罚", "公益减罚", "不予处罚")
    assert rows[1][:8] == ("全部", 2, 3, 2, 66.7, 1, 1, 2) and rows[1][-1] == 77.5


def test_another_grouping_shows_them_in_all(logged_in, visits, cases):
    page = logged_in("dispatcher").get("/reports/", {**NOV, "group_by": "problem_type"})
    assert page.status_code == 200 and "此处为不分组的合计" in page.content.decode()
    assert page.context["tables"]["cases"][1][0][:2] == ["全部", 2]


def test_scoped_to_the_street(logged_in, visits, cases):
    page = logged_in("leader_s2").get("/reports/", NOV)
    assert page.context["tables"]["inspections"][1][0][1] == 1 and page.context["tables"]["cases"][1][0][1] == 1
    assert logged_in("officer_s1").get("/reports/", {**NOV, "export": "cases", "format": "csv"}).status_code == 403


def test_english_definitions_and_headers(api, logged_in, users, settings):
    client = api(users["dispatcher"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "separate" in client.get("/api/v1/stats/inspections/").json()["definitions"]["separate_visits_replaced"]
    assert "deadline" in client.get("/api/v1/stats/cases/").json()["definitions"]["closed_on_time"]
    page = logged_in("dispatcher")
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert page.get("/reports/").context["tables"]["inspections"][0][:3] == ["Group", "Visits", "Joint visits"]
