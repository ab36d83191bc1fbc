"""The desk's override: dispatch run dry must say why (the candidates' `excluded` and `overridable`), and
the desk may still pick an on-duty officer of the street the ranking left out, with `override` and a
reason, recorded in the timeline and the audit; never another street's officer, nor one off duty."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center import dispatch
from command_center.models import Assignment, TimelineEntry
from command_center.testing import S1_POINT
from core.models import AuditLog
from grids import accounts
from grids.models import Officer

pytestmark = pytest.mark.django_db


@pytest.fixture
def street(users, officers, teams, departments):
    """S1's officers, all on duty but with phones silent for half an hour (张三 too), one of another
    department without the matter's skill, one off duty."""
    now = timezone.now()

    def add(name, *, duty="available", dept="ZHZF", minutes_ago=30):
        u = accounts.add_user(None, username=f"u-{name}", role="officer", area_codes=["S1"])[0]
        return Officer.objects.create(user=u, name=name, badge_no=f"B-{name}", team=teams["S1"],
                                      home_department=departments[dept], duty_status=duty,
                                      last_lat=S1_POINT[0] + 0.001, last_lng=S1_POINT[1],
                                      last_position_at=now - timedelta(minutes=minutes_ago))

    Officer.objects.filter(pk=officers["s1"].pk).update(last_position_at=now - timedelta(minutes=30))
    return {"stale": add("信号差"), "unskilled": add("市监", dept="SCJG", minutes_ago=1),
            "off": add("下班", duty="off_duty", minutes_ago=1), "zhang": officers["s1"], "other_street": officers["s2"]}


def post(api, user, event, **body):
    return api(user).post(f"/api/v1/events/{event.pk}/dispatch/", body, format="json", HTTP_IF_MATCH=event.etag)


def test_candidates_say_why_nobody_qualifies_and_who_may_still_be_picked(api, users, report, street):
    e = report()
    body = api(users["dispatcher"]).get(f"/api/v1/events/{e.pk}/candidates/").json()
    assert body["eligible"] == 0 and body["candidates"] == []
    excluded = {x["reason"]: (x["count"], x["label"]) for x in body["excluded"]}
    assert excluded["stale_position"][0] == 2 and "定位超过 5 分钟未更新" in excluded["stale_position"][1]
    assert excluded["not_capable"][0] == 1 and excluded["off_duty"][0] == 1
    # The street's on-duty officers, each with what leaves them out; never the off-duty one, nor S2's.
    listed = {o["name"]: [x["reason"] for x in o["excluded"]] for o in body["overridable"]}
    assert listed == {"信号差": ["stale_position"], "张三": ["stale_position"], "市监": ["not_capable"]}
    assert all(o["eligible"] is False and o["excluded"][0]["label"] for o in body["overridable"])


def test_override_needs_confirmation_and_a_reason(api, users, report, street):
    e = report()
    r = post(api, users["dispatcher"], e, officer=street["stale"].pk)
    assert r.status_code == 409, r.content
    assert "定位超过 5 分钟未更新" in r.json()["override"][0]
    r = post(api, users["dispatcher"], e, officer=street["stale"].pk, override=True)
    assert r.status_code == 400 and "理由" in r.json()["reason"][0]
    r = post(api, users["dispatcher"], e, officer=street["stale"].pk, override=True, reason="   ")
    assert r.status_code == 400 and "reason" in r.json()
    assert not Assignment.objects.filter(event=e).exists()
    assert not AuditLog.objects.filter(action="event.dispatch").exists()  # nothing half-written
    e.refresh_from_db()
    assert e.status == "new" and e.version == 1


def test_override_dispatches_and_records_why(api, users, report, street):
    e = report()
    r = post(api, users["leader_s1"], e, officer=street["stale"].pk, override=True, reason="电话联系确认其在附近")
    assert r.status_code == 200, r.content
    assert r.json()["officer"] == street["stale"].pk and r.json()["status"] == "dispatched"
    line = TimelineEntry.objects.get(event=e, action="dispatch")
    assert line.data["override"] is True
    assert [x["reason"] for x in line.data["excluded"]] == ["stale_position"]
    assert "电话联系确认其在附近" in line.note and "定位超过 5 分钟未更新" in line.note
    log = AuditLog.objects.get(action="event.dispatch", object_id=str(e.pk))
    assert log.changes["override"] == [None, {"reason": "电话联系确认其在附近", "excluded": ["stale_position"]}]
    assert log.actor_id == users["leader_s1"].pk
    # A skill the officer lacks is overridable too (reassigning, with the reason).
    r = api(users["dispatcher"]).post(f"/api/v1/events/{e.pk}/dispatch/", {
        "officer": street["unskilled"].pk, "override": True, "reason": "现场需要市监协助", "reassign": True},
        format="json", HTTP_IF_MATCH=r["ETag"])
    assert r.status_code == 200, r.content


def test_an_eligible_pick_needs_no_override(api, users, report, street):
    e = report()
    Officer.objects.filter(pk=street["stale"].pk).update(last_position_at=timezone.now())
    r = post(api, users["dispatcher"], e, officer=street["stale"].pk)
    assert r.status_code == 200, r.content
    assert "override" not in TimelineEntry.objects.get(event=e, action="dispatch").data


def test_override_never_picks_off_duty_or_another_street(api, users, report, street):
    e = report()
    r = post(api, users["dispatcher"], e, officer=street["off"].pk, override=True, reason="叫回来")
    assert r.status_code == 409 and "不在岗" in r.json()["officer"][0]
    Officer.objects.filter(pk=street["off"].pk).update(duty_status="on_break")
    assert post(api, users["dispatcher"], e, officer=street["off"].pk, override=True, reason="叫回来").status_code == 409
    r = post(api, users["dispatcher"], e, officer=street["other_street"].pk, override=True, reason="借调")
    assert r.status_code == 400 and "本街道" in r.json()["officer"][0]
    assert not Assignment.objects.filter(event=e).exists()


def test_another_streets_desk_gets_404(api, users, report, street):
    e = report()
    r = post(api, users["leader_s2"], e, officer=street["stale"].pk, override=True, reason="越权")
    assert r.status_code == 404
    assert api(users["leader_s2"]).get(f"/api/v1/events/{e.pk}/candidates/").status_code == 404
    assert post(api, users["officer_s1"], e, officer=street["stale"].pk, override=True, reason="x").status_code == 403
    assert not Assignment.objects.filter(event=e).exists()


def test_eligibility_service_matches_the_ranking(report, street):
    e = report()
    assert dispatch.eligibility(e, street["stale"]).failed == ["stale_position"]
    assert dispatch.eligibility(e, street["stale"]).overridable
    off = dispatch.eligibility(e, street["off"])
    assert "off_duty" in off.failed and not off.overridable
    other = dispatch.eligibility(e, street["other_street"])
    assert not other.same_street and not other.overridable and "other_street" in other.failed
