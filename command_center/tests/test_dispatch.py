"""Dispatch: the ranking, the modes (manual / central / automatic, the fallback), decline → next,
officer statuses driven by assignments, dispatch rules and the desk's sign-on (services and API)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center import dispatch
from command_center.choices import AssignmentStatus, Status
from command_center.models import Assignment, DispatcherShift, DispatchRule, Escalation, Event, TimelineEntry
from command_center.services import transitions
from command_center.testing import S1_POINT, S2_POINT, rule
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import AuditLog
from grids.models import Officer

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def _dispatchable_officers():
    """Here the shared officers stay as created (张三 off duty with no position): the ranking counts them."""


@pytest.fixture
def intake(report, inline_tasks, django_capture_on_commit_callbacks):
    """intake(**fields) → the event as it stands after intake's commit hooks ran (automatic dispatch)."""

    def make(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            event = report(**fields)
        event.refresh_from_db()
        return event

    return make


def names(ranked):
    return [c.name for c in ranked]


def sign_on(user, **kw):
    return dispatch.sign_on(user, **kw)


def lines(event, action=None):
    qs = TimelineEntry.objects.filter(event=event).order_by("at", "id")
    return list(qs.filter(action=action) if action else qs)


# --- ranking ------------------------------------------------------------------------------------

def test_order_reasons_and_exclusions(report, crew, users, officers):
    e = report()  # yellow street vending, delegated to S1: the ZHZF matter
    transitions.dispatch(users["dispatcher"], report(point=(30.6, 120.2)), crew["busy"])
    ranked = dispatch.rank(e)
    assert names(ranked) == ["近", "市监兼", "远", "队长", "忙"]
    assert [c.place for c in ranked] == [1, 2, 3, 4, 5]
    first = ranked[0]
    assert first.distance_m == pytest.approx(100, abs=2) and first.load == 0
    assert first.reasons == ["空闲", "距离 100 米", "派出部门可办理该事项", "在办任务 0 件"]
    assert ranked[1].reasons[2] == "具备该事项办理资格"
    assert ranked[-1].load == 1 and ranked[-1].reasons[0] == "忙碌"
    assert names(dispatch.rank(e, limit=2)) == ["近", "市监兼"]
    result = dispatch.ranking(e, limit=3)
    assert names(result.candidates) == ["近", "市监兼", "远"]
    # 张三 (the conftest officer) is off duty with no position: counted under both reasons
    assert (result.pool, result.eligible) == (10, 5)
    assert result.excluded == {"off_duty": 2, "no_position": 2, "stale_position": 1, "not_capable": 1}
    assert dispatch.best(e).name == "近"


def test_rank_minimum_and_never_twice(report, crew, users):
    red = report(severity="red")  # needs rank 3 (deputy captain) by default
    assert names(dispatch.rank(red)) == ["队长"]
    assert dispatch.ranking(red).excluded["rank_too_low"] == 9  # all but the captain
    e = report(point=(30.7, 120.2))
    transitions.dispatch(users["dispatcher"], e, crew["near"])
    transitions.decline(crew["near"].user, e, "车辆故障")
    assert "近" not in names(dispatch.rank(e))
    assert dispatch.ranking(e).excluded["had_event"] == 1


def test_available_first_then_the_least_loaded(report, crew, users):
    Officer.objects.filter(duty_status="available").update(duty_status="busy")
    e = report()
    transitions.dispatch(users["dispatcher"], report(point=(30.6, 120.2)), crew["near"])
    ranked = names(dispatch.rank(e))
    assert ranked[-1] == "近" and ranked[0] == "忙"  # "忙" is closer than the others and has no task
    Officer.objects.filter(pk=crew["far"].pk).update(duty_status="available")
    assert names(dispatch.rank(e))[0] == "远"


def test_matter_the_street_does_not_hold_goes_to_department_officers(report, crew, officers):
    e = report(point=S2_POINT)  # S2 holds no delegation: ZHZF's own officers, wherever their team is
    result = dispatch.ranking(e, limit=50)
    assert {"近", "远", "队长", "忙"} <= set(names(result.candidates))
    assert "李四" not in names(result.candidates)  # S2 team, SCJG, no skills
    assert result.excluded["not_capable"] == 1  # 李四 (市监 is neither S2's nor ZHZF's: not in the pool)


def test_a_skill_matter_code_qualifies(report, crew):
    e = report()
    Officer.objects.filter(pk=crew["unskilled"].pk).update(skill_matter_codes=["M-ZD"])
    assert "市监" in names(dispatch.rank(e))
    Officer.objects.filter(pk=crew["unskilled"].pk).update(skill_matter_codes=["M-ZD-OTHER"])
    assert "市监" not in names(dispatch.rank(e))


def test_candidates_api(api, users, report, crew, django_assert_max_num_queries):
    e = report()
    url = f"/api/v1/events/{e.pk}/candidates/"
    with django_assert_max_num_queries(12):
        r = api(users["dispatcher"]).get(url, {"limit": 2})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["event"] == e.pk and body["min_rank"] == 1 and body["eligible"] == 5 and body["pool"] == 10
    assert [c["name"] for c in body["candidates"]] == ["近", "市监兼"] and body["candidates"][0]["place"] == 1
    assert {x["reason"]: x["count"] for x in body["excluded"]}["not_capable"] == 1
    assert all(x["label"] for x in body["excluded"])
    assert body["mode"] == {"configured": None, "effective": None, "next_on_decline": False, "rule": None, "fallback": None}
    assert api(users["dispatcher"]).get(url, {"limit": "x"}).status_code == 400
    assert api(users["dispatcher"]).get(url, {"limit": 0}).status_code == 400
    assert api(users["leader_s1"]).get(url).status_code == 200
    assert api(users["officer_s1"]).get(url).status_code == 403
    assert api(users["platform"]).get(url).status_code == 403
    assert api(users["leader_s2"]).get(url).status_code == 404


# --- modes --------------------------------------------------------------------------------------

def test_no_rule_nothing_automatic(intake, crew):
    e = intake()
    assert e.status == Status.NEW and e.officer_id is None
    assert dispatch.mode_for(e).effective is None


def test_automatic_assigns_the_best_on_intake(intake, crew):
    rule(mode="automatic")
    e = intake()
    assert e.status == Status.DISPATCHED and e.officer == crew["near"]
    line = lines(e, "dispatch")[0]
    assert line.actor_label == "system" and line.data["trigger"] == "intake"
    assert line.data["mode"]["effective"] == "automatic" and line.data["candidate"]["name"] == "近"
    assert "第 1 名候选人：近" in line.note
    assert Assignment.objects.get(event=e).assigned_by is None


def test_manual_with_nobody_signed_on_falls_back_to_automatic(intake, crew, users):
    rule(mode="manual")
    sign_on(users["dispatcher"])  # the district center's desk is not the street's
    e = intake()
    assert e.status == Status.DISPATCHED and e.officer == crew["near"]
    line = lines(e, "dispatch")[0]
    assert line.data["mode"]["configured"] == "manual" and line.data["mode"]["effective"] == "automatic"
    assert "本街道无值班员签到在岗，转为自动派遣" in line.note


def test_manual_with_the_street_desk_signed_on_waits_for_it(intake, crew, users):
    rule(mode="manual")
    sign_on(users["leader_s1"])
    e = intake()
    assert e.status == Status.NEW and e.officer_id is None
    assert dispatch.mode_for(e).effective == "manual"
    assert transitions.dispatch(users["leader_s1"], e, crew["far"]).officer == crew["far"]
    # S2's desk does not cover S1
    dispatch.sign_off(users["leader_s1"])
    sign_on(users["leader_s2"])
    assert dispatch.mode_for(e).effective == "automatic"


def test_a_lapsed_or_ended_shift_is_not_signed_on(report, users, catalog):
    rule(mode="manual")
    e = report()
    shift = sign_on(users["leader_s1"], hours=1)
    assert dispatch.mode_for(e).effective == "manual"
    DispatcherShift.objects.filter(pk=shift.pk).update(started_at=timezone.now() - timedelta(hours=2),
                                                       ends_at=timezone.now() - timedelta(minutes=1))
    assert dispatch.mode_for(e).fallback
    sign_on(users["leader_s1"])  # a lapsed shift is closed when its owner signs on again
    assert DispatcherShift.objects.get(pk=shift.pk).ended_at is not None
    assert dispatch.mode_for(e).effective == "manual"
    dispatch.sign_off(users["leader_s1"])
    assert dispatch.mode_for(e).effective == "automatic"


def test_street_rule_beats_the_district_default(report, district, users):
    rule(mode="automatic")
    rule(mode="manual", street=district["S1"])
    sign_on(users["leader_s1"])
    assert dispatch.mode_for(report()).configured == "manual"
    assert dispatch.mode_for(report(point=S2_POINT)).configured == "automatic"


def test_central_only_the_district_center_dispatches(intake, crew, users, api):
    rule(mode="central")
    sign_on(users["dispatcher"])
    e = intake()
    assert e.status == Status.NEW  # the district desk is on: it picks
    with pytest.raises(Forbidden) as exc:
        transitions.dispatch(users["leader_s1"], e, crew["near"])
    assert exc.value.code == "central_dispatch"
    r = api(users["leader_s1"]).post(f"/api/v1/events/{e.pk}/dispatch/", {"officer": crew["near"].pk}, format="json",
                                     HTTP_IF_MATCH=e.etag)
    assert r.status_code == 403 and "区指挥中心" in r.json()["detail"]
    assert api(users["leader_s2"]).post(f"/api/v1/events/{e.pk}/dispatch/", {"officer": crew["near"].pk},
                                        format="json", HTTP_IF_MATCH=e.etag).status_code == 404
    assert transitions.dispatch(users["dispatcher"], e, crew["far"]).officer == crew["far"]


def test_central_with_the_district_desk_off_falls_back(intake, crew, users):
    rule(mode="central")
    sign_on(users["leader_s1"])  # a street desk does not count for central dispatch
    e = intake()
    assert e.status == Status.DISPATCHED and e.officer == crew["near"]
    assert "区指挥中心无值班员签到在岗" in lines(e, "dispatch")[0].note


def test_automatic_with_no_candidate_goes_to_the_queue_and_escalates(intake, users, officers):
    rule(mode="automatic")
    e = intake()  # only 张三 in S1, off duty
    assert e.status == Status.NEW and e.officer_id is None
    esc = Escalation.objects.get(event=e)
    assert esc.target == "team_leader" and "无符合条件的候选队员" in esc.reason
    line = lines(e, "escalate")[0]
    assert line.data["queue"] is True and "退回派遣队列" in line.note
    # Why nobody: 张三 is off duty with no position (the dispatcher reads it on the timeline).
    assert "1 人不在岗（下班或休息），1 人无定位" in line.note
    assert line.data["excluded"] == {"off_duty": 1, "no_position": 1}
    DispatchRule.objects.filter(severity="yellow").update(mode="central")
    e2 = intake(point=(30.7, 120.2))
    assert Escalation.objects.get(event=e2).target == "district"


# --- decline → next ------------------------------------------------------------------------------

def test_decline_goes_to_the_next_candidate_until_none_is_left(intake, crew, users):
    rule(mode="automatic")
    Officer.objects.filter(pk__in=[crew["far"].pk, crew["captain"].pk, crew["busy"].pk]).update(duty_status="off_duty")
    e = intake()
    assert e.officer == crew["near"]
    e = transitions.decline(crew["near"].user, e, "车辆故障")
    assert e.status == Status.DISPATCHED and e.officer == crew["skilled"]
    declined, redispatched = lines(e)[-2:]
    assert declined.action == "decline" and redispatched.action == "dispatch"
    assert redispatched.data["trigger"] == "decline" and redispatched.data["declined_by"] == crew["near"].pk
    assert "队员退回后自动派给下一候选人" in redispatched.note
    e = transitions.decline(crew["skilled"].user, e, "不熟悉该事项")
    assert e.status == Status.NEW and e.officer_id is None  # nobody left: back to the queue
    assert lines(e)[-1].action == "escalate" and lines(e)[-1].data["queue"] is True
    assert Escalation.objects.filter(event=e, target="team_leader").exists()
    assert set(Assignment.objects.filter(event=e).values_list("status", flat=True)) == {AssignmentStatus.DECLINED}
    with pytest.raises(Conflict):  # never the same event twice
        transitions.dispatch(users["dispatcher"], e, crew["near"])


def test_manual_decline_waits_unless_the_rule_says_next(report, crew, users):
    r = rule(mode="manual")
    sign_on(users["leader_s1"])
    e = transitions.dispatch(users["leader_s1"], report(), crew["near"])
    e = transitions.decline(crew["near"].user, e, "忙")
    assert e.status == Status.NEW and lines(e)[-1].action == "decline"
    r.next_on_decline = True
    r.save()
    e = transitions.dispatch(users["leader_s1"], e, crew["far"])
    e = transitions.decline(crew["far"].user, e, "忙")
    assert e.status == Status.DISPATCHED and e.officer == crew["skilled"]


# --- officer statuses ------------------------------------------------------------------------------

def status_of(officer):
    return Officer.objects.get(pk=officer.pk).duty_status


def test_statuses_follow_the_assignment(report, crew, users, django_capture_on_commit_callbacks):
    from grids import signals as grid_signals

    pushed = []

    def listen(sender, officer_id=None, duty_status=None, **kw):
        pushed.append((officer_id, duty_status))

    grid_signals.officer_moved.connect(listen)
    try:
        near = crew["near"]
        e = transitions.dispatch(users["dispatcher"], report(), near)
        assert status_of(near) == "available"  # not until they sign for it
        with django_capture_on_commit_callbacks(execute=True):
            e = transitions.accept(near.user, e)
        assert status_of(near) == "en_route" and pushed == [(near.pk, "en_route")]
        e = transitions.arrive(near.user, e)
        assert status_of(near) == "on_scene"
        other = transitions.accept(near.user, transitions.dispatch(users["dispatcher"], report(point=(30.6, 120.2)), near))
        transitions.resolve(near.user, e, "已劝离")
        assert status_of(near) == "busy"  # still holds a task they signed for
        transitions.transfer(users["dispatcher"], other, "SCJG", "属市场监管职责")  # taken off them: free again
        assert status_of(near) == "available"
    finally:
        grid_signals.officer_moved.disconnect(listen)
    changes = [a.changes["duty_status"] for a in AuditLog.objects.filter(action="officer.duty_status", object_id=str(near.pk))
               .order_by("id")]
    assert changes == [["available", "en_route"], ["en_route", "on_scene"], ["on_scene", "en_route"],
                       ["en_route", "busy"], ["busy", "available"]]
    # Each change is audited as whoever caused it: the officer's own actions, the dispatcher's transfer.
    actors = [a.actor_id for a in AuditLog.objects.filter(action="officer.duty_status", object_id=str(near.pk))
              .order_by("id")]
    assert actors == [near.user_id] * 4 + [users["dispatcher"].pk]


def test_decline_and_release_leave_chosen_statuses_alone(report, crew, users):
    from grids import services as grid_services

    off = crew["near"]
    e = transitions.dispatch(users["dispatcher"], report(), off)
    grid_services.set_duty_status(off.user, off.pk, "off_duty")  # goes off duty before signing for it
    transitions.decline(off.user, e, "不在岗")
    assert status_of(off) == "off_duty"  # a task ending never puts an officer on duty
    e = transitions.dispatch(users["dispatcher"], report(point=(30.6, 120.2)), crew["skilled"])
    e = transitions.accept(crew["skilled"].user, e)
    transitions.dispatch(users["dispatcher"], e, crew["far"], reassign=True)
    assert status_of(crew["skilled"]) == "available" and status_of(crew["far"]) == "available"


# --- refusals and races (service level; the PostgreSQL race is in test_concurrency) ---------------

def test_second_pick_for_a_held_event_is_a_conflict(api, report, crew, users):
    e = transitions.dispatch(users["dispatcher"], report(), crew["near"])
    url = f"/api/v1/events/{e.pk}/dispatch/"
    r = api(users["leader_s1"]).post(url, {"officer": crew["far"].pk}, format="json", HTTP_IF_MATCH=e.etag)
    assert r.status_code == 409 and r.json()["code"] == "already_dispatched"
    r = api(users["leader_s1"]).post(url, {"officer": crew["far"].pk}, format="json", HTTP_IF_MATCH='"%s-v1"' % e.pk)
    assert r.status_code == 412
    r = api(users["leader_s1"]).post(url, {"officer": crew["far"].pk, "reassign": True}, format="json",
                                     HTTP_IF_MATCH=e.etag)
    assert r.status_code == 200 and r.json()["officer"] == crew["far"].pk
    assert Assignment.objects.filter(event=e, status=AssignmentStatus.LIVE).count() == 1
    assert api(users["officer_s1"]).post(url, {"officer": crew["near"].pk}, format="json", HTTP_IF_MATCH="*").status_code == 403
    assert api(users["leader_s2"]).post(url, {"officer": crew["near"].pk}, format="json").status_code == 404


# --- dispatch rules ---------------------------------------------------------------------------------

RULES = "/api/v1/command/dispatch-rules/"


def test_rules_api(api, users, district, django_assert_max_num_queries):
    r = api(users["bureau"]).post(RULES, {"severity": "red", "mode": "automatic"}, format="json")
    assert r.status_code == 201, r.content
    district_rule = r.json()
    assert district_rule["street"] is None and district_rule["updated_by"] == "bureau"
    assert AuditLog.objects.filter(action="dispatch_rule.created", object_id=str(district_rule["id"])).exists()
    r = api(users["bureau"]).post(RULES, {"severity": "red", "mode": "manual"}, format="json")
    assert r.status_code == 409
    r = api(users["bureau_s1"]).post(RULES, {"street": district["S1"].pk, "severity": "red", "mode": "manual"}, format="json")
    assert r.status_code == 201 and r.json()["street_code"] == "S1"
    s1_rule = r.json()["id"]
    r = api(users["bureau_s1"]).post(RULES, {"street": district["S2"].pk, "severity": "red", "mode": "manual"}, format="json")
    assert r.status_code == 400 and "street" in r.json()
    r = api(users["bureau_s1"]).post(RULES, {"street": district["S1G1"].pk, "severity": "blue", "mode": "manual"}, format="json")
    assert r.status_code == 400
    assert api(users["bureau_s1"]).post(RULES, {"severity": "blue", "mode": "manual"}, format="json").status_code == 403
    assert api(users["bureau"]).post(RULES, {"severity": "pink", "mode": "fast"}, format="json").status_code == 400
    assert api(users["dispatcher"]).post(RULES, {"severity": "blue", "mode": "manual"}, format="json").status_code == 403
    r = api(users["bureau"]).patch(f"{RULES}{s1_rule}/", {"mode": "central", "next_on_decline": True}, format="json")
    assert r.status_code == 200 and r.json()["mode"] == "central"
    log = AuditLog.objects.get(action="dispatch_rule.updated", object_id=str(s1_rule))
    assert log.changes == {"mode": ["manual", "central"], "next_on_decline": [False, True]}
    assert api(users["bureau_s1"]).patch(f"{RULES}{district_rule['id']}/", {"mode": "manual"}, format="json").status_code == 403
    assert api(users["leader_s2"]).patch(f"{RULES}{s1_rule}/", {"mode": "manual"}, format="json").status_code == 404
    assert api(users["dispatcher"]).patch(f"{RULES}{s1_rule}/", {"mode": "manual"}, format="json").status_code == 403
    assert [x["id"] for x in api(users["leader_s2"]).get(RULES).json()["results"]] == [district_rule["id"]]
    for severity in ("blue", "yellow", "orange"):
        api(users["bureau"]).post(RULES, {"street": district["S1"].pk, "severity": severity, "mode": "manual"}, format="json")
    with django_assert_max_num_queries(6):
        assert len(api(users["dispatcher"]).get(RULES).json()["results"]) == 5
    assert [x["severity"] for x in api(users["dispatcher"]).get(RULES, {"mode": "central"}).json()["results"]] == ["red"]
    assert api(users["officer_s1"]).get(RULES).status_code == 403
    assert api(users["platform"]).get(RULES).status_code == 403


def test_default_rules(district):
    assert dispatch.install_default_rules() == 4
    assert dict(DispatchRule.objects.values_list("severity", "mode")) == {
        "red": "automatic", "orange": "automatic", "yellow": "manual", "blue": "manual"}
    assert dispatch.install_default_rules() == 0


# --- the desk's sign-on -----------------------------------------------------------------------------

DUTY = "/api/v1/command/duty/"


def test_duty_api(api, users):
    leader = api(users["leader_s1"])
    assert leader.get(DUTY).json() == {"me": None, "on_duty": []}
    r = leader.post(f"{DUTY}sign-on/", {"hours": 8}, format="json")
    assert r.status_code == 201 and r.json()["user"] == "leader_s1"
    assert leader.post(f"{DUTY}sign-on/", {}, format="json").status_code == 409
    assert leader.get(DUTY).json()["me"]["id"] == r.json()["id"]
    assert [s["user"] for s in api(users["dispatcher"]).get(DUTY).json()["on_duty"]] == ["leader_s1"]
    assert api(users["leader_s2"]).get(DUTY).json()["on_duty"] == []  # another street's desk
    assert api(users["dispatcher"]).post(f"{DUTY}sign-on/", {"hours": 30}, format="json").status_code == 400
    assert api(users["officer_s1"]).post(f"{DUTY}sign-on/", {}, format="json").status_code == 403
    assert api(users["bureau"]).get(DUTY).status_code == 403
    assert leader.post(f"{DUTY}sign-off/").status_code == 200
    assert leader.post(f"{DUTY}sign-off/").status_code == 409
    assert AuditLog.objects.filter(action__in=["dispatcher.signed_on", "dispatcher.signed_off"]).count() == 2


def test_sign_on_service_refusals(users):
    with pytest.raises(Forbidden):
        dispatch.sign_on(users["bureau"])
    with pytest.raises(ValidationFailed):
        dispatch.sign_on(users["dispatcher"], hours="nan")
    with pytest.raises(NotFound):
        dispatch.update_rule(users["bureau"], 10**9, mode="manual")
    assert Event.objects.count() == 0


def test_the_database_refuses_a_second_live_assignment(report, crew, users):
    from django.db import IntegrityError, transaction

    e = transitions.dispatch(users["dispatcher"], report(), crew["near"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(event=e, officer=crew["far"], assigned_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():  # nor the same officer twice, live or not
        Assignment.objects.create(event=e, officer=crew["near"], assigned_at=timezone.now(), status="declined")


def test_rule_admin_saves_through_the_service(users, district):
    from django.test import Client

    c = Client()
    c.force_login(users["bureau_s1"])
    url = "/admin/command_center/dispatchrule/add/"
    assert c.get(url).status_code == 200
    other = c.post(url, {"street": district["S2"].pk, "severity": "red", "mode": "manual"})
    assert other.status_code == 200 and not DispatchRule.objects.exists()  # not their street
    ok = c.post(url, {"street": district["S1"].pk, "severity": "red", "mode": "central"})
    assert ok.status_code == 302, ok.content.decode()[:2000]
    r = DispatchRule.objects.get(street=district["S1"], severity="red")
    assert r.mode == "central" and r.updated_by == users["bureau_s1"]
    assert AuditLog.objects.filter(action="dispatch_rule.created", object_id=str(r.pk)).exists()
    changed = c.post(f"/admin/command_center/dispatchrule/{r.pk}/change/", {"mode": "automatic", "next_on_decline": "on"})
    assert changed.status_code == 302
    assert AuditLog.objects.get(action="dispatch_rule.updated", object_id=str(r.pk)).changes["mode"] == ["central", "automatic"]
    default = DispatchRule.objects.create(severity="blue", mode="manual")
    assert c.get(f"/admin/command_center/dispatchrule/{default.pk}/change/").status_code in (302, 403, 404)
    assert c.get("/admin/command_center/dispatchershift/").status_code == 200
    assert c.get("/admin/command_center/dispatchershift/add/").status_code == 403
    c.force_login(users["dispatcher"])
    assert c.get(url).status_code in (302, 403)


@pytest.mark.django_db(transaction=True)  # commit hooks run at the commit, before the answer, as in a server
def test_post_answer_shows_the_dispatch_that_ran_on_commit(api, users, catalog, crew, inline_tasks):
    """The answer to a create is made from the rows written, unless something moved the event on after
    the commit: here the automatic dispatch (inline in the embedded default) did, and the answer shows it."""
    rule(mode="automatic")
    client = api(users["platform"])
    r = client.post("/api/v1/events/", {"source": "citizen", "problem_type": "ZDJY", "description": "占道",
                                        "lat": S1_POINT[0], "lng": S1_POINT[1]}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "dispatched" and body["officer"] == crew["near"].pk and body["version"] == 2
    got = client.get(f"/api/v1/events/{body['id']}/")
    assert body == got.json() and r["ETag"] == got["ETag"] == f'"{body["id"]}-v2"'
