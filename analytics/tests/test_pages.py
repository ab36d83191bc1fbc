"""/reports/ and /reports/warnings/: who may open them, bad input as form errors, exports, acknowledging."""
import io

import pytest
from openpyxl import load_workbook

from analytics import services
from analytics.models import HotspotWarning
from analytics.testing import at, meet

pytestmark = pytest.mark.django_db

NOV = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def test_who_may_open_the_reports(logged_in):
    assert logged_in("dispatcher").get("/reports/").status_code == 200
    assert logged_in("leader_s1").get("/reports/").status_code == 200
    assert logged_in("officer_s1").get("/reports/").status_code == 403
    assert logged_in("platform").get("/reports/").status_code == 403  # platforms read the API


def test_anonymous_goes_to_log_in(client):
    assert client.get("/reports/").status_code == 302


def test_bad_dates_are_form_errors(logged_in):
    page = logged_in("dispatcher").get("/reports/", {"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert page.status_code == 400
    assert "开始日期不能晚于结束日期" in page.content.decode()


def test_another_streets_area_is_not_offered(logged_in, district):
    page = logged_in("leader_s1").get("/reports/", {**NOV, "area": "S2"})  # not in the picker: a form error
    assert page.status_code == 400 and not page.context["form"].fields["area"].valid_value("S2")
    assert logged_in("leader_s1").get("/reports/", {**NOV, "area": "S1"}).status_code == 200


def test_tables_and_exports(logged_in, event_at):
    e = event_at(at(2026, 11, 10, 10, 0), accepted=30, resolved=600)
    meet(e, "respond", after_s=30)
    client = logged_in("dispatcher")
    page = client.get("/reports/", {**NOV, "group_by": "problem_type"}).content.decode()
    assert "占道经营" in page and "report-data" in page
    csv = client.get("/reports/", {**NOV, "group_by": "problem_type", "export": "events", "format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("分组,受理,已处置") and lines[1].startswith("占道经营,1,1")
    xlsx = client.get("/reports/", {**NOV, "export": "stages", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("分组", "时限环节", "已完成或超时") and rows[1][2] == 1 and rows[1][4] == 100
    assert client.get("/reports/", {**NOV, "export": "secrets"}).status_code == 404


def test_acknowledge_on_the_page(logged_in, report, users):
    from datetime import timedelta

    from django.utils import timezone

    from command_center.models import Event

    events = [report(point=(30.2 + i * 0.01, 120.2)) for i in range(6)]
    Event.objects.filter(pk__in=[e.pk for e in events]).update(created_at=timezone.now() - timedelta(hours=2))
    services.check_hotspots()
    w = HotspotWarning.objects.get()
    assert "占道经营" in logged_in("leader_s1").get("/reports/warnings/").content.decode()
    assert "占道经营" not in logged_in("leader_s2").get("/reports/warnings/").content.decode()
    assert logged_in("leader_s2").post(f"/reports/warnings/{w.pk}/acknowledge/", {"note": "x"}).status_code == 404
    assert logged_in("officer_s1").post(f"/reports/warnings/{w.pk}/acknowledge/", {"note": "x"}).status_code == 403
    done = logged_in("leader_s1").post(f"/reports/warnings/{w.pk}/acknowledge/", {"note": "已加派巡查"}, follow=True)
    assert "预警已确认" in done.content.decode()
    w.refresh_from_db()
    assert w.status == "acknowledged" and w.acknowledged_by == users["leader_s1"]


def test_assessment_page_export_and_weights(logged_in, event_at, users):
    e = event_at(at(2026, 11, 10, 10, 0), accepted=30, resolved=600, satisfaction=5)
    meet(e, "respond", after_s=30)
    page = logged_in("leader_s1").get("/reports/assessment/", {"month": "2026-11"})
    assert page.status_code == 200 and "保存权重" not in page.content.decode()  # leaders see the weights, not set them
    csv = logged_in("leader_s1").get("/reports/assessment/", {"month": "2026-11", "format": "csv"})
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("名次,名称,得分") and lines[1].startswith("1,")
    assert logged_in("leader_s1").post("/reports/assessment/?month=2026-11", {"on_time_closure": "10"}).status_code == 403
    bad = logged_in("bureau").post("/reports/assessment/?month=2026-11", {
        "on_time_closure": "abc", "stage_on_time": "20", "satisfaction": "20", "front_line": "20"})
    assert bad.status_code == 400
    ok = logged_in("bureau").post("/reports/assessment/?month=2026-11", {
        "on_time_closure": "50", "stage_on_time": "10", "satisfaction": "20", "front_line": "20"})
    assert ok.status_code == 302
    assert logged_in("bureau").get("/reports/assessment/", {"month": "2026-99"}).status_code == 400


def test_every_column_heading_says_how_its_figure_is_computed_on_hover(logged_in, event_at):
    from django.utils.html import escape

    from analytics import tables
    from analytics.selectors import cases, events, inspections

    event_at(at(2026, 11, 10, 10, 0), accepted=30, resolved=600)
    page = logged_in("dispatcher").get("/reports/", NOV).content.decode()
    for definitions, names in ((events.DEFINITIONS, ("received", "on_time_closure_rate", "complaints_change_percent")),
                               (inspections.DEFINITIONS, ("visits", "reduction_percent")),
                               (cases.DEFINITIONS, ("filed", "quality_score_avg"))):
        for name in names:
            assert f'title="{escape(str(definitions[name]))}"' in page, name
    # Each table's hints line up with its headings (one per column, the group column without).
    headers, _rows = tables.event_table([])
    assert len(tables.HINTS["events"]) == len(headers)
    headers, _rows = tables.inspection_table([])
    assert len(tables.HINTS["inspections"]) == len(headers)
    headers, _rows = tables.case_table([])
    assert len(tables.HINTS["cases"]) == len(headers)
