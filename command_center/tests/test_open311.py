"""Open311 GeoReport v2 at /open311/v2/: every resource in XML and JSON, errors in the spec's format."""
import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from command_center.models import Event
from command_center.open311 import selectors as o311
from command_center.services import escalation, transitions
from command_center.testing import S1_POINT, S2_POINT

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]


@pytest.fixture
def grouped(catalog):
    from enforcement.services import power as power_services

    power_services.save_problem_type(None, code="ZDJY", group="市容环境", description="流动摊贩、店外经营")
    power_services.save_problem_type(None, code="OLD", name="已停用类型", matter_code="M-ZD", active=False)
    return catalog


@pytest.fixture
def key(users):
    return Token.objects.create(user=users["platform"]).key


def xml(response):
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def js(response):
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def assert_error(response, status, fmt="xml"):
    assert response.status_code == status
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        [err] = list(root)
        assert err.tag == "error" and [c.tag for c in err] == ["code", "description"]
        assert err.findtext("code") == str(status) and err.findtext("description")
        return err.findtext("description")
    [err] = js(response)
    assert set(err) == {"code", "description"} and err["code"] == status and err["description"]
    return err["description"]


def post(client, key, fmt="json", **fields):
    data = {"api_key": key, "service_code": "ZDJY", "lat": S1_POINT[0], "long": S1_POINT[1],
            "description": "人行道上有流动摊贩", **fields}
    return client.post(f"{BASE}requests.{fmt}", {k: v for k, v in data.items() if v is not None})


# --- discovery and services -------------------------------------------------------------------

def test_discovery_xml_and_json(client, grouped):
    root = xml(client.get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery"
    assert W3C.match(root.findtext("changeset"))
    [ep] = root.find("endpoints")
    assert ep.tag == "endpoint"
    assert ep.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert ep.findtext("url") == "http://testserver/open311/v2/"
    assert [f.text for f in ep.find("formats")] == ["text/xml", "application/json"]
    assert all(f.tag == "format" for f in ep.find("formats"))
    doc = js(client.get(f"{BASE}discovery.json"))
    assert doc["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert doc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"


def test_services_list_active_problem_types_with_groups(client, grouped):
    root = xml(client.get(f"{BASE}services.xml"))
    assert root.tag == "services"
    services_ = {s.findtext("service_code"): s for s in root}
    assert set(services_) == {"ZDJY", "YYCB"}  # OLD is inactive
    zd = services_["ZDJY"]
    assert zd.tag == "service"
    assert [c.tag for c in zd] == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert zd.findtext("service_name") == "占道经营" and zd.findtext("group") == "市容环境"
    assert zd.findtext("metadata") == "false" and zd.findtext("type") == "realtime"
    doc = js(client.get(f"{BASE}services.json"))
    row = next(s for s in doc if s["service_code"] == "ZDJY")
    assert row == {"service_code": "ZDJY", "service_name": "占道经营", "description": "流动摊贩、店外经营",
                   "metadata": False, "type": "realtime", "keywords": "M-ZD", "group": "市容环境"}


def test_service_definition_and_unknown_code(client, grouped):
    root = xml(client.get(f"{BASE}services/ZDJY.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "ZDJY" and root.find("attributes") is not None
    assert list(root.find("attributes")) == []
    assert js(client.get(f"{BASE}services/ZDJY.json")) == {"service_code": "ZDJY", "attributes": []}
    assert_error(client.get(f"{BASE}services/NOPE.xml"), 404)
    assert_error(client.get(f"{BASE}services/NOPE.json"), 404, "json")
    assert_error(client.get(f"{BASE}services/OLD.json"), 404, "json")


def test_unknown_format_and_unknown_path_are_404_in_spec_format(client, grouped):
    assert_error(client.get(f"{BASE}services.html"), 404)
    assert_error(client.get(f"{BASE}services.yaml"), 404)
    assert_error(client.get(f"{BASE}nothing/here.json"), 404, "json")
    assert_error(client.get(f"{BASE}requests"), 404)


def test_wrong_method_answers_in_spec_format(client, grouped):
    r = client.post(f"{BASE}services.json")
    assert_error(r, 405, "json")
    assert r["Allow"] == "GET"


# --- POST requests ----------------------------------------------------------------------------

def test_post_creates_an_event_visible_through_the_rest_api(client, api, users, grouped, key):
    r = post(client, key, media_url="https://example.org/p/1.jpg", first_name="三", last_name="张",
             phone="13812345678", email="z@example.org", device_id="dev-1", account_id="42",
             address_string="一号路 1 号", jurisdiction_id="d")
    assert r.status_code == 200
    [row] = js(r)
    assert row == {"service_request_id": row["service_request_id"], "service_notice": None, "account_id": None}
    event = Event.objects.get(pk=int(row["service_request_id"]))
    assert (event.source, event.client, event.problem_type_code) == ("platform", users["platform"], "ZDJY")
    assert event.reporter_name == "三 张" and event.reporter_phone == "13812345678"
    assert event.address == "一号路 1 号"
    listed = api(users["dispatcher"]).get("/api/v1/events/").json()["results"]
    assert event.pk in [e["id"] for e in listed]
    # The request reads back with the photo link in media_url, not in the description.
    [back] = js(client.get(f"{BASE}requests/{event.pk}.json"))
    assert back["media_url"] == "https://example.org/p/1.jpg" and back["description"] == "人行道上有流动摊贩"


def test_post_xml_answer(client, grouped, key):
    r = post(client, key, fmt="xml")
    assert r.status_code == 200
    root = xml(r)
    assert root.tag == "service_requests"
    [req] = root
    assert req.tag == "request"
    assert [c.tag for c in req] == ["service_request_id", "service_notice", "account_id"]
    assert Event.objects.filter(pk=int(req.findtext("service_request_id"))).exists()


def test_post_is_not_blocked_by_csrf(grouped, key):
    from django.test import Client

    r = post(Client(enforce_csrf_checks=True), key)
    assert r.status_code == 200


@pytest.mark.parametrize("bad", ["", "nope", "x" * 200])
def test_post_with_a_bad_api_key_is_403(client, grouped, bad):
    assert_error(post(client, bad), 403, "json")
    assert_error(post(client, bad, fmt="xml"), 403)
    assert not Event.objects.exists()


def test_post_by_a_role_that_may_not_report_or_an_inactive_user_is_403(client, users, grouped):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("plain", password="pass-word-1")
    assert_error(post(client, Token.objects.create(user=nobody).key), 403, "json")
    platform = users["platform"]
    key = Token.objects.create(user=platform).key
    platform.is_active = False
    platform.save()
    assert_error(post(client, key), 403, "json")
    assert not Event.objects.exists()


def test_dispatcher_token_may_post_too(client, users, grouped):
    assert post(client, Token.objects.create(user=users["dispatcher"]).key).status_code == 200


def test_post_outside_the_clients_area_is_403(client, users, grouped):
    key = Token.objects.create(user=users["platform_s2"]).key
    assert_error(post(client, key), 403, "json")


def test_post_without_lat_long_is_400_even_with_an_address(client, grouped, key):
    assert "lat/long" in assert_error(post(client, key, lat=None, long=None, address_string="一号路 1 号"), 400, "json")
    assert "lat/long" in assert_error(post(client, key, fmt="xml", long=None), 400, "xml")
    assert "lat" in assert_error(post(client, key, lat="north"), 400, "json")
    assert "long" in assert_error(post(client, key, long="999"), 400, "json")
    assert_error(post(client, key, media_url="javascript:alert(1)"), 400, "json")
    assert_error(post(client, key, description="a\x00b"), 400, "json")
    assert not Event.objects.exists()


def test_post_without_description_uses_the_service_name(client, grouped, key):
    [row] = js(post(client, key, description=None))
    assert Event.objects.get(pk=row["service_request_id"]).description == "占道经营"


def test_post_point_outside_the_district_is_400(client, grouped, key):
    assert_error(post(client, key, lat="0", long="0"), 400, "json")


# --- GET requests -----------------------------------------------------------------------------

def test_get_request_in_xml_and_json(client, users, grouped, report):
    event = report(reporter_name="张三", reporter_phone="13812345678", address="一号路")
    root = xml(client.get(f"{BASE}requests/{event.pk}.xml"))
    assert root.tag == "service_requests"
    [req] = root
    assert req.tag == "request" and [c.tag for c in req] == REQUEST_FIELDS
    assert req.findtext("service_request_id") == str(event.pk) and req.findtext("status") == "open"
    [row] = js(client.get(f"{BASE}requests/{event.pk}.json"))
    assert list(row) == REQUEST_FIELDS
    assert row["service_code"] == "ZDJY" and row["service_name"] == "占道经营"
    assert row["agency_responsible"] == "S1综合行政执法队"
    assert row["status_notes"] == "已受理"
    assert W3C.match(row["requested_datetime"]) and W3C.match(row["updated_datetime"])
    last_due = event.deadlines.order_by("-due_at").first().due_at
    assert row["expected_datetime"] == timezone.localtime(last_due).isoformat(timespec="seconds")
    assert (row["lat"], row["long"], row["address"]) == (S1_POINT[0], S1_POINT[1], "一号路")
    # Reads are public: no reporter data.
    assert "张三" not in str(row) and "1381234" not in str(row)


def test_get_request_unknown_is_404(client, grouped):
    for bad in ("999999", "abc", "0", str(2**70)):
        assert_error(client.get(f"{BASE}requests/{bad}.json"), 404, "json")
    assert_error(client.get(f"{BASE}requests/999999.xml"), 404)


def test_agency_is_the_department_when_no_team(client, grouped, report):
    event = report(point=S2_POINT)  # not delegated to S2: the department keeps it
    [row] = js(client.get(f"{BASE}requests/{event.pk}.json"))
    assert row["agency_responsible"] == event.department.name != ""


def test_status_mapping_and_notes(client, users, grouped, report):
    open_ = report()
    rejected = report(description="不属于本部门的问题", point=(30.2001, 120.2001))
    transitions.reject(users["dispatcher"], rejected, "属于住建部门管辖")
    rows = {r["service_request_id"]: r for r in js(client.get(f"{BASE}requests.json"))}
    assert rows[str(open_.pk)]["status"] == "open"
    assert rows[str(rejected.pk)]["status"] == "closed"
    assert rows[str(rejected.pk)]["status_notes"] == "不予受理"  # the reason stays inside
    from command_center.choices import Status

    assert {s for s in Status.values if o311.open311_status(s) == "open"} == {
        "new", "dispatched", "accepted", "on_site", "deliberation"}
    assert {s for s in Status.values if o311.open311_status(s) == "closed"} == {
        "resolved", "under_review", "closed", "rejected", "duplicate", "transferred"}
    only = lambda q: {r["service_request_id"] for r in js(client.get(f"{BASE}requests.json?status={q}"))}  # noqa: E731
    assert only("open") == {str(open_.pk)}
    assert only("closed") == {str(rejected.pk)}
    assert only("open,closed") == {str(open_.pk), str(rejected.pk)}
    assert_error(client.get(f"{BASE}requests.json?status=pending"), 400, "json")


def test_filters_by_id_list_code_and_dates(client, grouped, report):
    a = report()
    b = report(problem_type="YYCB", point=(30.2002, 120.2002))
    old = report(point=(30.2003, 120.2003))
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=100))

    def ids(query, fmt="json"):
        r = client.get(f"{BASE}requests.{fmt}?{query}")
        if fmt == "xml":
            return {req.findtext("service_request_id") for req in xml(r)}
        return {row["service_request_id"] for row in js(r)}

    # Defaults: the last 90 days.
    assert ids("") == ids("", "xml") == {str(a.pk), str(b.pk)}
    assert ids("service_code=YYCB") == {str(b.pk)}
    # service_request_id overrides everything else, old ones included.
    assert ids(f"service_request_id={a.pk},{old.pk}&service_code=YYCB") == {str(a.pk), str(old.pk)}
    start = timezone.localtime(timezone.now() - timedelta(days=120)).isoformat(timespec="seconds")
    end = timezone.localtime(timezone.now() - timedelta(days=95)).isoformat(timespec="seconds")
    assert ids(f"start_date={start.replace('+', '%2B')}&end_date={end.replace('+', '%2B')}") == {str(old.pk)}
    assert ids(f"start_date={start.replace('+', '%2B')}") == {str(old.pk)}  # start + 90 days
    assert ids("end_date=2000-01-01T00:00:00Z") == set()
    assert_error(client.get(f"{BASE}requests.json?start_date=yesterday"), 400, "json")
    assert_error(client.get(f"{BASE}requests.xml?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"), 400)
    assert_error(client.get(f"{BASE}requests.json?start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z"), 400,
                 "json")
    assert_error(client.get(f"{BASE}requests.json?service_request_id=1,x"), 400, "json")


def test_row_limit(client, grouped, report, monkeypatch):
    assert o311.MAX_ROWS == 1000
    for i in range(3):
        report(point=(30.2 + i * 0.001, 120.2))
    monkeypatch.setattr(o311, "MAX_ROWS", 2)
    assert len(js(client.get(f"{BASE}requests.json"))) == 2


def test_requests_list_query_count(client, grouped, report, django_assert_max_num_queries):
    for i in range(5):
        report(point=(30.2 + i * 0.001, 120.2))
    with django_assert_max_num_queries(3):
        assert len(js(client.get(f"{BASE}requests.json"))) == 5
    with django_assert_max_num_queries(3):
        assert len(xml(client.get(f"{BASE}services.xml"))) == 2


def test_w3c_dates_use_the_shanghai_offset():
    from datetime import datetime, timezone as tz

    assert o311.w3c(datetime(2026, 11, 23, 2, 15, tzinfo=tz.utc)) == "2026-11-23T10:15:00+08:00"
    assert o311.w3c(None) is None


@pytest.mark.parametrize("url", [
    "requests.json?start_date=2026-13-45T00:00:00Z",
    "requests.json?end_date=0001-01-01T00:00:00Z",
    "requests.json?start_date=9999-12-31T00:00:00Z",
    "requests.json?service_code=%00",
    "requests.json?service_request_id=%00",
    "requests/%00.json",
    "services/%00.json",
])
def test_odd_input_is_a_400_or_404_never_a_500(client, grouped, url):
    r = client.get(f"{BASE}{url}")
    assert r.status_code in (400, 404)
    assert_error(r, r.status_code, "json")


def test_post_with_nul_is_400(client, grouped, key):
    assert_error(post(client, key, first_name="a\x00"), 400, "json")


# --- public reads carry no personal data (trust issue, point 4) ---------------------------------

OFFICER_NOTE = "第 1 名候选人：张三（在岗，距离 120 米，当前任务 2 件）"


def notes(client, event, lang=None):
    if lang:
        client.cookies["django_language"] = lang
    [row] = js(client.get(f"{BASE}requests/{event.pk}.json"))
    return row["status_notes"]


def test_status_notes_never_carry_the_dispatch_note(client, users, grouped, report, officers):
    event = report()
    transitions.dispatch(users["dispatcher"], event, officers["s1"], reason=OFFICER_NOTE)
    [row] = js(client.get(f"{BASE}requests/{event.pk}.json"))
    assert row["status_notes"] == "已派遣处置人员"
    [listed] = [r for r in js(client.get(f"{BASE}requests.json")) if r["service_request_id"] == str(event.pk)]
    assert listed["status_notes"] == "已派遣处置人员"
    for body in (client.get(f"{BASE}requests.xml").content.decode(), client.get(f"{BASE}requests/{event.pk}.xml").content.decode()):
        assert "<status_notes>已派遣处置人员</status_notes>" in body
        assert "张三" not in body and "距离" not in body and "任务" not in body
    assert notes(client, event, "en") == "Staff dispatched"


def test_status_notes_follow_the_status_and_the_last_action(client, users, grouped, report, officers):
    event = report()
    assert notes(client, event) == "已受理"
    event = transitions.dispatch(users["dispatcher"], event, officers["s1"], reason=OFFICER_NOTE)
    event = transitions.accept(users["officer_s1"], event)
    assert notes(client, event) == "处置人员已签收"
    event = transitions.arrive(users["officer_s1"], event)
    assert notes(client, event) == "处置人员已到场"
    event = escalation.escalate(users["dispatcher"], event, "张三不接电话")
    assert notes(client, event) == "已升级督办"
    event = transitions.resolve(users["officer_s1"], event, "已劝离，摊主张三电话 13812345678")
    assert notes(client, event) == "已处置，待评价"
    transitions.close(users["dispatcher"], event, 5, note="回访李四满意")
    assert notes(client, event) == "已办结"
    assert notes(client, event, "en") == "Closed"
    declined = report(point=(30.2004, 120.2004))
    declined = transitions.dispatch(users["dispatcher"], declined, officers["s1"])
    transitions.decline(users["officer_s1"], declined, "张三今天休息")
    assert notes(client, declined, "zh-hans") == "正在重新派遣处置人员"


def test_descriptions_are_masked_in_public_reads(client, grouped, report):
    event = report(description="摊主电话13812345678，身份证330102199001011234，车牌浙A12345，邮编310000，座机0571-88889999")
    masked = "摊主电话138****5678，身份证330***********1234，车牌*****45，邮编310000，座机057******9999"
    [row] = js(client.get(f"{BASE}requests/{event.pk}.json"))
    assert row["description"] == masked
    [row] = js(client.get(f"{BASE}requests.json"))
    assert row["description"] == masked
    for url in (f"{BASE}requests/{event.pk}.xml", f"{BASE}requests.xml"):
        [req] = xml(client.get(url))
        assert req.findtext("description") == masked
    assert Event.objects.get(pk=event.pk).description.startswith("摊主电话13812345678")  # stored as reported


# --- the GeoReport v2 contract as real clients use it (trust issue, point 9) ---------------------

def test_post_takes_its_parameters_from_the_query_string_too(client, grouped, key):
    """PyPI's open311 client sends every parameter, api_key included, in the query string."""
    from urllib.parse import urlencode

    query = urlencode({"api_key": key, "service_code": "ZDJY", "lat": S1_POINT[0], "long": S1_POINT[1],
                       "description": "从查询串提交"})
    r = client.post(f"{BASE}requests.json?{query}")
    assert r.status_code == 200, r.content
    [row] = js(r)
    assert Event.objects.get(pk=row["service_request_id"]).description == "从查询串提交"
    # The body wins over the query string when both carry a field.
    r = client.post(f"{BASE}requests.xml?{query}", {"description": "正文里的描述"})
    assert Event.objects.get(pk=xml(r)[0].findtext("service_request_id")).description == "正文里的描述"


def test_a_doubled_slash_after_v2_resolves(client, grouped, key):
    assert xml(client.get(f"{BASE}/services.xml")).tag == "services"
    assert xml(client.get(f"{BASE}/discovery.xml")).tag == "discovery"
    assert js(client.get(f"{BASE}/services/ZDJY.json")) == {"service_code": "ZDJY", "attributes": []}
    assert js(client.get(f"{BASE}/requests.json")) == []
    data = {"api_key": key, "service_code": "ZDJY", "lat": S1_POINT[0], "long": S1_POINT[1], "description": "双斜杠"}
    r = client.post(f"{BASE}/requests.json", data)
    assert r.status_code == 200
    [row] = js(r)
    assert js(client.get(f"{BASE}//requests/{row['service_request_id']}.json"))[0]["description"] == "双斜杠"


def test_post_unknown_service_code_is_404_missing_is_400(client, grouped, key):
    assert "service_code" in assert_error(post(client, key, service_code="NOPE"), 404, "json")
    assert "service_code" in assert_error(post(client, key, service_code="OLD", fmt="xml"), 404)
    assert "service_code" in assert_error(post(client, key, service_code=None), 400, "json")
    assert not Event.objects.exists()


def test_empty_optional_fields_are_null_in_json_and_empty_in_xml(client, grouped, report, key):
    event = report()
    [row] = js(client.get(f"{BASE}requests/{event.pk}.json"))
    for name in ("service_notice", "address", "address_id", "zipcode", "media_url"):
        assert row[name] is None, name
    [req] = xml(client.get(f"{BASE}requests/{event.pk}.xml"))
    assert [c.tag for c in req] == REQUEST_FIELDS
    assert req.find("zipcode").text is None and req.find("media_url").text is None
    [created] = js(post(client, key))
    assert created["service_notice"] is None and created["account_id"] is None


def test_dates_compare_at_second_precision(client, grouped, report):
    from datetime import datetime, timezone as tz

    event = report()
    at = datetime(2026, 11, 23, 2, 15, 7, 654321, tzinfo=tz.utc)
    Event.objects.filter(pk=event.pk).update(created_at=at)
    shown = js(client.get(f"{BASE}requests/{event.pk}.json"))[0]["requested_datetime"]
    assert shown == "2026-11-23T10:15:07+08:00"

    def ids(**dates):
        query = "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in dates.items())
        return [r["service_request_id"] for r in js(client.get(f"{BASE}requests.json?{query}"))]

    assert ids(end_date=shown) == [str(event.pk)]
    assert ids(start_date=shown) == [str(event.pk)]
    assert ids(start_date=shown, end_date=shown) == [str(event.pk)]
    assert ids(start_date="2026-11-23T10:15:07.9+08:00", end_date="2026-11-23T10:15:07.1+08:00") == [str(event.pk)]
    assert ids(end_date="2026-11-23T10:15:06+08:00") == []
    assert ids(start_date="2026-11-23T10:15:08+08:00") == []


def test_repeated_status_and_service_code_parameters_are_all_used(client, users, grouped, report):
    a = report()
    b = report(problem_type="YYCB", point=(30.2002, 120.2002))
    transitions.reject(users["dispatcher"], b, "不属于本部门")

    def ids(query):
        return {r["service_request_id"] for r in js(client.get(f"{BASE}requests.json?{query}"))}

    assert ids("service_code=ZDJY&service_code=YYCB") == {str(a.pk), str(b.pk)}
    assert ids("service_code=ZDJY,YYCB") == {str(a.pk), str(b.pk)}
    assert ids("status=open&status=closed") == {str(a.pk), str(b.pk)}
    assert ids("status=closed&service_code=ZDJY&service_code=YYCB") == {str(b.pk)}
    assert ids(f"service_request_id={a.pk}&service_request_id={b.pk}") == {str(a.pk), str(b.pk)}
    assert_error(client.get(f"{BASE}requests.json?status=open&status=pending"), 400, "json")


def test_descriptions_over_4000_characters_are_refused(client, grouped, key):
    assert "description" in assert_error(post(client, key, description="摊" * 4001), 400, "json")
    assert "description" in assert_error(post(client, key, fmt="xml", description="摊" * 4001), 400)
    assert not Event.objects.exists()
    assert post(client, key, description="摊" * 4000).status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_body_over_the_upload_limit_answers_in_the_open311_format(client, grouped, key, fmt):
    body = f"api_key={key}&description=".encode() + b"x" * (10 * 1024 * 1024)
    r = client.post(f"{BASE}requests.{fmt}", data=body, content_type="application/x-www-form-urlencoded")
    assert_error(r, 413, fmt)
    assert not Event.objects.exists()


def test_lat_or_long_that_is_not_a_number_says_so(client, grouped, key):
    message = assert_error(post(client, key, lat="abc"), 400, "json")
    assert message.startswith("lat:") and "数字" in message and "long" not in message
    message = assert_error(post(client, key, fmt="xml", long="abc"), 400)
    assert message.startswith("long:") and "数字" in message


# --- a note a dispatcher marks public --------------------------------------------------------

def test_a_public_note_by_the_dispatcher_is_the_status_note_until_the_next_step(client, api, users, grouped, report,
                                                                                officers):
    from core.models import AuditLog

    event = report()
    event = transitions.dispatch(users["dispatcher"], event, officers["s1"], reason=OFFICER_NOTE)
    r = api(users["dispatcher"]).post(f"/api/v1/events/{event.pk}/public-note/",
                                      {"note": "预计今天 17 点前清理完毕，咨询电话 0571-88889999"}, format="json",
                                      HTTP_IF_MATCH=f'"{event.pk}-v{event.version}"')
    assert r.status_code == 200, r.content
    assert r.json()["timeline"][-1]["action"] == "public_note"
    assert notes(client, event) == "预计今天 17 点前清理完毕，咨询电话 057******9999"  # masked all the same
    [req] = xml(client.get(f"{BASE}requests.xml"))
    assert req.findtext("status_notes") == "预计今天 17 点前清理完毕，咨询电话 057******9999"
    entry = AuditLog.objects.filter(action="event.public_note").latest("id")
    assert entry.actor == users["dispatcher"] and "17 点" in str(entry.changes)
    # The street's team leader may too; the next step of the event replaces it with that step's phrase.
    transitions.set_public_note(users["leader_s1"], event, "队员已出发")
    assert notes(client, event) == "队员已出发"
    transitions.accept(users["officer_s1"], event)
    assert notes(client, event) == "处置人员已签收"


def test_only_command_roles_covering_the_event_may_publish_a_note(client, api, users, grouped, report):
    event = report()
    url = f"/api/v1/events/{event.pk}/public-note/"
    fresh = {"HTTP_IF_MATCH": event.etag}
    for who, status in (("officer_s1", 403), ("platform", 403), ("bureau", 403), ("leader_s2", 404)):
        assert api(users[who]).post(url, {"note": "公开说明"}, format="json", **fresh).status_code == status, who
    assert api().post(url, {"note": "公开说明"}, format="json", **fresh).status_code in (401, 403)
    assert api(users["dispatcher"]).post(url, {"note": "  "}, format="json", **fresh).status_code == 400
    assert api(users["dispatcher"]).post(url, {"note": "x" * 501}, format="json", **fresh).status_code == 400
    assert api(users["dispatcher"]).post(url, {"note": "公开说明"}, format="json").status_code == 428
    assert api(users["dispatcher"]).post(url, {"note": "公开说明"}, format="json",
                                         HTTP_IF_MATCH=f'"{event.pk}-v99"').status_code == 412
    assert notes(client, event) == "已受理"
    assert not event.timeline.filter(action="public_note").exists()
