"""One-click notices: POST/GET /api/v1/areas/{id}/notices/, deliveries, the pluggable sender."""
import pytest

from core.models import AuditLog
from grids import services
from grids.choices import DeliveryStatus
from grids.models import Notice, NoticeDelivery

from grids.testing import *  # noqa: E402,F403  (the shared district, built once per module)

pytestmark = pytest.mark.django_db
SENT = []


class RecordingSender:
    """A test gateway: 'sends' by remembering, fails for one number, answers garbage for another."""

    channel = "sms-test"

    def send(self, delivery):
        if delivery.phone == "13000000000":
            raise ConnectionError("gateway down")
        if delivery.phone == "13000000001":
            return "maybe"
        SENT.append((delivery.subject.name, delivery.phone))
        return DeliveryStatus.SENT


@pytest.fixture
def subjects(district, categories):
    mk = services.insert_subject
    common = {"category": categories["restaurant"]}
    return {
        "a": mk(None, name="甲", contact_phone="13811112222", lat=30.2, lng=120.2, **common),        # S1G1
        "b": mk(None, name="乙", contact_phone="", lat=30.7, lng=120.7, **common),                   # S1G2, no phone
        "c": mk(None, name="丙", contact_phone="13833334444", lat=30.3, lng=120.3, status="closed", **common),
        "d": mk(None, name="丁", contact_phone="13855556666", lat=30.2, lng=121.2, **common),        # S2
    }


def url(area):
    return f"/api/v1/areas/{area.pk}/notices/"


NOTICE = {"title": "防汛通知", "body": "今晚有暴雨，请做好防范。"}


def test_bureau_notifies_every_active_subject_of_a_street(users, api, district, subjects, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = api(users["bureau"]).post(url(district["S1"]), NOTICE, format="json", REMOTE_ADDR="10.2.3.4")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["recipient_count"] == 2 and body["area_code"] == "S1" and body["sent_by"] == "bureau"
    assert body["delivery_counts"] == {"queued": 1, "skipped": 1}
    notice = Notice.objects.get(pk=body["id"])
    rows = {d.subject.name: (d.status, d.phone, d.channel) for d in notice.deliveries.select_related("subject")}
    assert rows == {"甲": ("queued", "13811112222", "outbox"), "乙": ("skipped", "", "outbox")}  # 丙 closed, 丁 in S2
    log = AuditLog.objects.get(action="notice.sent")
    assert log.actor == users["bureau"] and log.ip == "10.2.3.4"
    assert log.changes["recipients"] == [None, 2] and log.changes["area"] == [None, "S1"]


def test_whole_district_and_zone_and_micro_grid(users, api, district, subjects):
    client = api(users["dispatcher"])
    assert client.post(url(district["district"]), NOTICE, format="json").json()["recipient_count"] == 3
    assert client.post(url(district["S1G1M1"]), NOTICE, format="json").json()["recipient_count"] == 1
    from grids.testing import square

    zone = services.create_area(None, code="S1Z1", name="防区", kind="zone", parent=district["S1"],
                                boundary=square(120.5, 30.0, 121.0, 31.0))
    services.update_area(None, district["S1G2"], zone=zone)
    r = client.post(url(zone), NOTICE, format="json")
    assert r.status_code == 201 and r.json()["recipient_count"] == 1  # 乙 in S1G2


@pytest.mark.parametrize("who", ["leader_s1", "bureau_s1", "dispatcher"])
def test_street_roles_within_their_areas(users, api, district, subjects, who):
    r = api(users[who]).post(url(district["S1G1"]), NOTICE, format="json")
    assert r.status_code == 201


@pytest.mark.parametrize("who", ["officer_s1", "platform"])
def test_officers_and_platforms_may_not_send(users, api, district, subjects, who):
    assert api(users[who]).post(url(district["S1"]), NOTICE, format="json").status_code == 403
    assert not Notice.objects.exists()


def test_other_street_is_404_and_the_district_403(users, api, district, subjects):
    client = api(users["leader_s1"])
    r = client.post(url(district["S2"]), NOTICE, format="json")
    assert r.status_code == 404
    # The district is visible to them (an ancestor) but not theirs to notify.
    assert client.post(url(district["district"]), NOTICE, format="json").status_code == 403
    assert client.post("/api/v1/areas/999999/notices/", NOTICE, format="json").status_code == 404
    assert not Notice.objects.exists()


@pytest.mark.parametrize("payload,field", [({"title": "", "body": "x"}, "title"), ({"title": "x"}, "body"),
                                           ({"title": "x" * 201, "body": "x"}, "title"),
                                           ({"title": "  ", "body": "x"}, "title")])
def test_bad_notice_is_400(users, api, district, payload, field):
    r = api(users["bureau"]).post(url(district["S1"]), payload, format="json")
    assert r.status_code == 400 and field in r.json()


def test_pluggable_sender(users, api, district, subjects, categories, settings, django_capture_on_commit_callbacks):
    settings.NOTICE_SENDER = f"{__name__}.RecordingSender"
    SENT.clear()
    mk = services.insert_subject
    mk(None, name="戊", contact_phone="13000000000", lat=30.4, lng=120.4,
       category=categories["restaurant"])
    mk(None, name="己", contact_phone="13000000001", lat=30.45, lng=120.4,
       category=categories["restaurant"])
    with django_capture_on_commit_callbacks(execute=True):
        r = api(users["bureau"]).post(url(district["S1"]), NOTICE, format="json")
    assert r.status_code == 201
    assert SENT == [("甲", "13811112222")]
    listed = api(users["bureau"]).get(url(district["S1"])).json()["results"][0]
    assert listed["delivery_counts"] == {"sent": 1, "failed": 2, "skipped": 1}
    failed = {d.subject.name: d.error for d in NoticeDelivery.objects.filter(status="failed").select_related("subject")}
    assert failed == {"戊": "ConnectionError: gateway down", "己": "sender returned 'maybe'"}
    assert set(NoticeDelivery.objects.values_list("channel", flat=True)) == {"sms-test"}
    assert NoticeDelivery.objects.get(status="sent").attempted_at is not None


def test_nothing_is_sent_when_the_notice_rolls_back(users, district, subjects, settings):
    settings.NOTICE_SENDER = f"{__name__}.RecordingSender"
    SENT.clear()
    from django.db import transaction

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.send_notice(users["bureau"], district["S1"], title="t", body="b")
            raise RuntimeError("later step fails")
    assert SENT == [] and not Notice.objects.exists()


def test_list_notices(users, api, district, subjects, django_assert_max_num_queries):
    client = api(users["leader_s1"])
    for i in range(3):
        client.post(url(district["S1"]), {"title": f"通知{i}", "body": "b"}, format="json")
    with django_assert_max_num_queries(6):
        r = client.get(url(district["S1"]))
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3 and [n["title"] for n in body["results"]] == ["通知2", "通知1", "通知0"]
    assert body["results"][0]["delivery_counts"] == {"queued": 1, "skipped": 1}
    assert api(users["leader_s2"]).get(url(district["S1"])).status_code == 404
    assert api(users["leader_s2"]).get(url(district["S2"])).json()["count"] == 0
