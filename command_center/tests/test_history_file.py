"""The events' history (/events/ and the API's filters, CSV/XLSX exports) and the subject's file
(/subjects/{id}/ and GET /api/v1/subjects/{id}/file/): scoping, masking, query counts."""
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from command_center.models import Event
from command_center.services import deliberation, transitions
from command_center.testing import S1_POINT, S2_POINT
from core.tabular import read_rows
from credit.models import SensorReading
from grids.models import Area, Notice, NoticeDelivery, Subject

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


@pytest.fixture
def shop(district, categories):
    grid = Area.objects.get(code="S1G1")
    return Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=S1_POINT[0], lng=S1_POINT[1],
                                  grid=grid, contact_phone="13911112222", legal_representative="王五")


@pytest.fixture
def closed(report, users, officers, shop):
    """Three events: one closed about the shop (citizen with a phone), one closed without, one open in S2."""
    def close(e, result):
        e = transitions.dispatch(users["dispatcher"], e, officers["s1"], override=True, reason="指定张三（测试）")
        for step in (transitions.accept, transitions.arrive):
            e = step(users["officer_s1"], e)
        e = transitions.resolve(users["officer_s1"], e, result)
        return transitions.close(users["dispatcher"], e, 5)

    a = close(report(problem_type="YYCB", subject=shop.pk, reporter_name="李四", reporter_phone="13812345678",
                     description="油烟很大，联系我 13812345678"), "已责令安装净化器")
    b = close(report(), "已劝离摊贩")
    c = report(point=S2_POINT)
    Event.objects.filter(pk=a.pk).update(created_at=timezone.now() - timedelta(days=10))
    return {"shop_event": a, "plain": b, "s2": c}


def ids(response):
    return [r["id"] for r in response.json()["results"]]


def test_api_history_filters(api, users, closed, shop, officers):
    c = api(users["leader_s1"])
    a, b = closed["shop_event"], closed["plain"]
    assert sorted(ids(c.get(URL, {"status": "closed"}))) == sorted([a.pk, b.pk])
    assert ids(c.get(URL, {"subject": shop.pk})) == [a.pk]
    assert ids(c.get(URL, {"result": "净化器"})) == [a.pk]
    assert ids(c.get(URL, {"problem_type": "YYCB"})) == [a.pk]
    assert ids(c.get(URL, {"officer": officers["s1"].pk, "created_before": (timezone.now() - timedelta(days=5)).isoformat()})) == [a.pk]
    assert sorted(ids(c.get(URL, {"closed_after": (timezone.now() - timedelta(hours=1)).isoformat()}))) == sorted([a.pk, b.pk])
    assert c.get(URL, {"result": "a\x00b"}).status_code == 400
    assert c.get(URL, {"subject": "x"}).status_code == 400
    assert closed["s2"].pk not in ids(c.get(URL))  # scoped: S2 is not the S1 leader's


def test_history_page_defaults_to_closed_and_filters(logged_in, closed, shop):
    page = logged_in("leader_s1")
    html = page.get("/events/").content.decode()
    assert "已责令安装净化器" in html and "已劝离摊贩" in html
    assert f'href="/subjects/{shop.pk}/"' in html  # linked to the subject's file
    html = page.get("/events/", {"street": "S1", "result": "劝离"}).content.decode()
    assert "已劝离摊贩" in html and "已责令安装净化器" not in html
    html = page.get("/events/", {"created_after": (timezone.now() - timedelta(days=2)).date().isoformat()}).content.decode()
    assert "已劝离摊贩" in html and "已责令安装净化器" not in html
    assert page.get("/events/", {"subject": "abc"}).status_code == 400
    assert "已劝离摊贩" not in logged_in("leader_s2").get("/events/").content.decode()
    assert logged_in("platform").get("/events/").status_code == 403


def test_history_exports_csv_and_xlsx_masked_by_role(logged_in, closed):
    r = logged_in("leader_s1").get("/events/", {"export": "csv", "subject": closed["shop_event"].subject_id})
    assert r["Content-Disposition"] == 'attachment; filename="events.csv"'
    rows = [row for _line, row in read_rows(r.content, "events.csv")]
    assert [(row["ID"], row["处置结果"], row["上报人电话"]) for row in rows] == [
        (str(closed["shop_event"].pk), "已责令安装净化器", "13812345678")]
    r = logged_in("officer_s1").get("/events/", {"export": "xlsx", "subject": closed["shop_event"].subject_id})
    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "ID" and values[1][-1] == "138****5678"
    assert logged_in("leader_s2").get("/events/", {"export": "csv"}).content.decode("utf-8-sig").count("\n") == 1


def test_subject_file_page_and_api(api, logged_in, users, closed, shop, officers, report):
    notice = Notice.objects.create(area=shop.grid, title="油烟治理提醒", body="请按时清洗油烟净化器", sent_by=users["bureau"])
    NoticeDelivery.objects.create(notice=notice, subject=shop, phone="13911112222")
    SensorReading.objects.create(device_id="FUME-1", subject=shop, metric="fume", value=2.5, measured_at=timezone.now())
    e = transitions.dispatch(users["dispatcher"], report(problem_type="YYCB", subject=shop.pk), officers["s1"], override=True, reason="指定张三（测试）")
    e = transitions.accept(users["officer_s1"], e)
    e = transitions.deliberate(users["leader_s1"], e, "油烟扰民协商", participants=[{"name": "王五", "role": "店主"}])
    deliberation.add_meeting(users["leader_s1"], e, held_at=timezone.now(), minutes="同意加装净化器")
    html = logged_in("leader_s1").get(f"/subjects/{shop.pk}/").content.decode()
    for text in ("老王面馆", "13911112222", "油烟治理提醒", "FUME-1", "油烟扰民协商", "同意加装净化器", "已责令安装净化器", "时间线"):
        assert text in html, text
    body = api(users["leader_s1"]).get(f"/api/v1/subjects/{shop.pk}/file/").json()
    assert body["subject"]["contact_phone"] == "13911112222"
    assert [s["key"] for s in body["sections"]] == ["events", "inspections", "cases", "color_appeals",
                                                   "deliberations", "notices", "sensors"]
    events = body["sections"][0]["items"]
    assert events[-1]["reporter_phone"] == "13812345678" and "13812345678" in events[-1]["description"]
    assert {line["section"] for line in body["timeline"]} >= {"events", "deliberations", "notices", "sensors"}
    assert body["timeline"] == sorted(body["timeline"], key=lambda line: line["at"], reverse=True)


def test_subject_file_masks_personal_data_by_role(api, users, closed, shop):
    body = api(users["platform"]).get(f"/api/v1/subjects/{shop.pk}/file/").json()
    assert body["subject"]["contact_phone"] == "139****2222"
    event = body["sections"][0]["items"][0]
    assert event["reporter_phone"] == "138****5678" and event["reporter_name"] != "李四"
    assert "13812345678" not in event["description"] and "138****5678" in event["description"]
    officer_view = api(users["officer_s1"]).get(f"/api/v1/subjects/{shop.pk}/file/").json()
    assert officer_view["subject"]["contact_phone"] == "139****2222"


def test_subject_file_scoped(api, logged_in, users, shop, closed):
    assert api(users["leader_s2"]).get(f"/api/v1/subjects/{shop.pk}/file/").status_code == 404
    assert api(users["platform_s2"]).get(f"/api/v1/subjects/{shop.pk}/file/").status_code == 404
    assert api().get(f"/api/v1/subjects/{shop.pk}/file/").status_code in (401, 403)
    assert logged_in("leader_s2").get(f"/subjects/{shop.pk}/").status_code == 404
    assert api(users["leader_s1"]).get("/api/v1/subjects/999999/file/").status_code == 404


# The subject (twice: the file's and credit's own read), its tags; credit: score, policy, facts, override,
# history, the reasons' facts; events and their officers; deliberations and their meetings (none here);
# notices; sensor readings.
FILE_QUERIES = 20  # + the street and community names; the inspections (2), cases (1), colour appeals (1) sections


def test_subject_file_query_count_is_pinned(api, users, shop, closed, report, django_assert_num_queries):
    for _ in range(5):
        report(problem_type="YYCB", subject=shop.pk)
    client = api(users["leader_s1"])
    client.get(f"/api/v1/subjects/{shop.pk}/file/")  # warm caches (roles, areas, the routing index)
    with django_assert_num_queries(FILE_QUERIES):
        r = client.get(f"/api/v1/subjects/{shop.pk}/file/")
    assert r.status_code == 200 and len(r.json()["sections"][0]["items"]) == 6
    for _ in range(10):
        report(problem_type="YYCB", subject=shop.pk)
    with django_assert_num_queries(FILE_QUERIES):  # the same count with more events
        client.get(f"/api/v1/subjects/{shop.pk}/file/")
