"""Intake and every transition of command_center.services (legal, illegal 409, stale 412, refusals)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center.choices import AssignmentStatus, Status
from command_center.models import Assignment, Deadline, Event, IdempotencyKey, TimelineEntry
from command_center.services import escalation, intake, policies, transitions
from command_center.testing import S1_POINT, S2_POINT
from core.exceptions import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable, ValidationFailed
from core.models import AuditLog
from grids.models import Officer, Subject

pytestmark = pytest.mark.django_db


# --- intake -----------------------------------------------------------------------------------

def test_intake_routes_locates_and_starts_the_clock(report, district, teams):
    e = report()
    assert e.status == Status.NEW and e.version == 1
    assert (e.street, e.grid, e.area) == (district["S1"], district["S1G1"], district["S1G1M1"])
    assert e.team == teams["S1"] and e.department is None and e.delegated
    assert e.matter_code == "M-ZD" and e.severity == "yellow" and e.problem_type_name == "占道经营"
    # yellow → the district default 1315: respond 1 / set out 3 / handle 15 minutes from intake
    rows = list(e.deadlines.order_by("position"))
    assert [(d.stage, d.met_by) for d in rows] == [("respond", "accept"), ("set_out", "accept"), ("handle", "resolve")]
    assert [d.due_at - e.created_at for d in rows] == [timedelta(minutes=m) for m in (1, 3, 15)]
    assert TimelineEntry.objects.filter(event=e, action="create").count() == 1
    assert AuditLog.objects.filter(action="event.created", object_id=str(e.pk)).exists()


def test_intake_street_without_delegation_goes_to_the_department(report, departments):
    e = report(point=S2_POINT)
    assert e.team is None and e.department == departments["ZHZF"] and not e.delegated
    assert "未承接" in e.routing_reason


def test_intake_severity_given_overrides_default(report):
    e = report(severity="red")
    assert e.severity == "red"
    assert list(e.deadlines.values_list("stage", flat=True)) == ["sign_for", "arrive", "handle"]


def test_street_policy_overrides_district_default(report, users, district):
    policies.save_policy(users["bureau"], street=district["S1"], severity="yellow",
                         stages=[{"stage": "respond", "minutes": 2, "met_by": "accept"}], name="S1 黄色")
    e = report()
    assert [(d.stage, d.policy_name) for d in e.deadlines.all()] == [("respond", "S1 黄色")]
    other = report(point=S2_POINT)
    assert other.deadlines.count() == 3


def test_intake_field_errors(report, users):
    with pytest.raises(ValidationFailed) as exc:
        intake.intake_event(users["platform"], {"source": "fax", "problem_type": "", "description": "", "lat": 100, "lng": "x"})
    assert set(exc.value.fields) >= {"source", "problem_type", "description", "lat", "lng"}
    with pytest.raises(ValidationFailed) as exc:
        report(problem_type="NOPE")
    assert "problem_type" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        report(point=(10.0, 10.0))
    assert "lat" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        report(subject=999999)
    assert "subject" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        report(bogus="x")
    assert "bogus" in exc.value.fields


def test_intake_role_and_area(report, users):
    with pytest.raises(Forbidden):
        report(client=users["platform_s2"])  # an S2 platform reporting a point in S1
    e = report(client=users["platform_s2"], point=S2_POINT)
    assert e.street.code == "S2"


def test_idempotency_key_replays_and_refuses_a_changed_body(report, users):
    first = report(key="k-1")
    again = intake.intake_event(users["platform"], {
        "source": "citizen", "problem_type": "ZDJY", "description": "人行道上有流动摊贩占道经营",
        "lat": S1_POINT[0], "lng": S1_POINT[1]}, idempotency_key="k-1")
    assert again == (first, False)
    with pytest.raises(Unprocessable):
        report(key="k-1", description="另一件事")
    # the same key from another client is another request
    other = report(client=users["dispatcher"], key="k-1")
    assert other.pk != first.pk
    assert Event.objects.count() == 2 and IdempotencyKey.objects.count() == 2


def test_same_external_id_from_same_client_returns_first(report, users):
    first = report(source="hotline_12345", external_id="12345-001")
    event, created = intake.intake_event(users["platform"], {
        "source": "hotline_12345", "external_id": "12345-001", "problem_type": "ZDJY", "description": "重复推送",
        "lat": S1_POINT[0], "lng": S1_POINT[1]})
    assert (event, created) == (first, False)
    # another source with the same external id is a different event
    assert report(source="sensor", external_id="12345-001").pk != first.pk


def test_nearest_subject_for_problem_types_about_a_subject(report, district, categories):
    near = Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=30.20010, lng=120.2,
                                  grid=district["S1G1"])
    Subject.objects.create(name="远处饭店", category=categories["restaurant"], lat=30.2010, lng=120.2, grid=district["S1G1"])
    assert report(problem_type="YYCB").subject == near  # ~11 m away; the other is ~110 m
    assert report(problem_type="YYCB", point=(30.21, 120.2)).subject is None  # nobody within 30 m
    assert report().subject is None  # street vending is not about a subject


def test_the_subject_is_found_when_the_catalog_changed_between_the_look_around_and_routing(
        report, district, categories, monkeypatch):
    from enforcement import selectors as enforcement_selectors

    near = Subject.objects.create(name="老王面馆", category=categories["restaurant"], lat=30.20010, lng=120.2,
                                  grid=district["S1G1"])
    # The look-around was told the type is not about a subject (so it read no subjects); routing says it is.
    monkeypatch.setattr(enforcement_selectors, "about_subject", lambda code: False)
    assert report(problem_type="YYCB").subject == near


def test_of_two_subjects_at_the_same_distance_the_first_by_id(report, district, categories):
    first = Subject.objects.create(name="甲店", category=categories["restaurant"], lat=30.20010, lng=120.2,
                                   grid=district["S1G1"])
    Subject.objects.create(name="乙店", category=categories["restaurant"], lat=30.20010, lng=120.2, grid=district["S1G1"])
    assert report(problem_type="YYCB").subject == first


def test_possible_duplicate_is_flagged(report):
    first = report()
    second = report(point=(30.2002, 120.2))  # ~22 m
    far = report(point=(30.21, 120.2))
    assert second.possible_duplicate_of == first and far.possible_duplicate_of is None


# --- transitions ------------------------------------------------------------------------------

def _dispatched(report, users, officers):
    e = report()
    return transitions.dispatch(users["dispatcher"], e, officers["s1"])


def test_full_happy_path_meets_each_stage(report, users, officers):
    officer_user = users["officer_s1"]
    e = _dispatched(report, users, officers)
    assert e.status == Status.DISPATCHED and e.officer == officers["s1"] and e.version == 2
    e = transitions.accept(officer_user, e)
    assert e.status == Status.ACCEPTED
    met = dict(Deadline.objects.filter(event=e).values_list("stage", "met_at"))
    assert met["respond"] and met["set_out"] and met["handle"] is None
    e = transitions.arrive(officer_user, e)
    e = transitions.resolve(officer_user, e, "已劝离摊贩")
    assert e.status == Status.RESOLVED and e.result == "已劝离摊贩"
    assert all(Deadline.objects.filter(event=e).values_list("met_at", flat=True))
    e = transitions.close(users["dispatcher"], e, 5)
    assert e.status == Status.CLOSED and e.satisfaction == 5 and e.version == 6
    actions = list(TimelineEntry.objects.filter(event=e).values_list("action", flat=True))
    assert actions == ["create", "dispatch", "accept", "arrive", "resolve", "close"]
    assert Assignment.objects.get(event=e).status == AssignmentStatus.DONE
    assert AuditLog.objects.filter(object_type="command_center.event", object_id=str(e.pk)).count() == 6


def test_met_late_is_marked_breached(report, users, officers):
    e = _dispatched(report, users, officers)
    Deadline.objects.filter(event=e).update(due_at=e.created_at - timedelta(seconds=1))
    transitions.accept(users["officer_s1"], e)
    d = Deadline.objects.get(event=e, stage="respond")
    assert d.met_at and d.breached_at == d.due_at and d.fired_at is None


ILLEGAL = [
    # (status the event is put in, service call)
    ("new", lambda u, e, o: transitions.accept(u["officer_s1"], e)),
    ("new", lambda u, e, o: transitions.close(u["dispatcher"], e, 3)),
    ("dispatched", lambda u, e, o: transitions.arrive(u["officer_s1"], e)),
    ("accepted", lambda u, e, o: transitions.accept(u["officer_s1"], e)),
    ("accepted", lambda u, e, o: transitions.reject(u["dispatcher"], e, "不属于本部门")),
    ("on_site", lambda u, e, o: transitions.decline(u["officer_s1"], e, "忙")),
    ("resolved", lambda u, e, o: transitions.dispatch(u["dispatcher"], e, o["s1"])),
    ("closed", lambda u, e, o: escalation.escalate(u["dispatcher"], e, "再次升级")),
    ("closed", lambda u, e, o: transitions.set_severity(u["dispatcher"], e, "red", "升级")),
    ("rejected", lambda u, e, o: transitions.transfer(u["dispatcher"], e, "SCJG", "转市场监管")),
]


@pytest.mark.parametrize("status,call", ILLEGAL)
def test_illegal_transitions_conflict_and_change_nothing(report, users, officers, status, call):
    e = report()
    Event.objects.filter(pk=e.pk).update(status=status, officer=officers["s1"])
    e.refresh_from_db()
    before = (e.status, e.version, TimelineEntry.objects.filter(event=e).count())
    with pytest.raises(Conflict) as exc:
        call(users, e, officers)
    assert exc.value.code == "illegal_transition"
    e.refresh_from_db()
    assert (e.status, e.version, TimelineEntry.objects.filter(event=e).count()) == before


def test_stale_version_is_refused(report, users, officers):
    e = report()
    transitions.dispatch(users["dispatcher"], e, officers["s1"], expected_version=1)
    with pytest.raises(PreconditionFailed):
        transitions.reject(users["dispatcher"], e, "看到的是旧版本", expected_version=1)
    e.refresh_from_db()
    assert e.status == Status.DISPATCHED and e.version == 2


def test_decline_returns_to_new_and_the_officer_cannot_get_it_again(report, users, officers, teams, departments):
    e = _dispatched(report, users, officers)
    with pytest.raises(ValidationFailed):
        transitions.decline(users["officer_s1"], e, "")
    e = transitions.decline(users["officer_s1"], e, "在处理另一起事件")
    assert e.status == Status.NEW and e.officer is None
    assert Assignment.objects.get(event=e).status == AssignmentStatus.DECLINED
    with pytest.raises(Conflict):
        transitions.dispatch(users["dispatcher"], e, officers["s1"])
    # the clock keeps running after a decline
    assert Deadline.objects.filter(event=e, met_at__isnull=True, cancelled_at__isnull=True).count() == 3


def test_redispatch_releases_the_previous_assignment(report, users, officers, teams, departments):
    from grids import accounts

    u = accounts.add_user(None, username="wang", role="officer", area_codes=["S1"])[0]
    other = Officer.objects.create(user=u, name="王五", badge_no="B003", team=teams["S1"], home_department=departments["ZHZF"],
                                   duty_status="available", last_lat=S1_POINT[0], last_lng=S1_POINT[1], last_position_at=timezone.now())
    e = _dispatched(report, users, officers)
    with pytest.raises(Conflict) as exc:  # changing hands must be asked for (two pickers must not race)
        transitions.dispatch(users["dispatcher"], e, other)
    assert exc.value.code == "already_dispatched"
    e = transitions.dispatch(users["dispatcher"], e, other, reassign=True)
    assert e.officer == other
    assert dict(Assignment.objects.filter(event=e).values_list("officer_id", "status")) == {
        officers["s1"].pk: AssignmentStatus.RELEASED, other.pk: AssignmentStatus.LIVE}
    with pytest.raises(Conflict):
        transitions.dispatch(users["dispatcher"], e, other)


def test_only_the_assigned_officer_signs_for_it(report, users, officers):
    e = _dispatched(report, users, officers)
    for who in ("dispatcher", "leader_s1", "nobody"):
        with pytest.raises((Forbidden, NotFound)):
            transitions.accept(users[who], e)
    with pytest.raises(NotFound):  # the S2 officer does not even see an S1 event
        transitions.accept(users["nobody"], e)


def test_who_may_dispatch(report, users, officers):
    e = report()
    for who in ("officer_s1", "platform", "bureau"):
        with pytest.raises(Forbidden):
            transitions.dispatch(users[who], e, officers["s1"])
    with pytest.raises(NotFound):
        transitions.dispatch(users["leader_s2"], e, officers["s1"])
    with pytest.raises(ValidationFailed):  # the S2 officer is outside the S1 leader's areas
        transitions.dispatch(users["leader_s1"], e, officers["s2"])
    assert transitions.dispatch(users["leader_s1"], e, officers["s1"]).status == Status.DISPATCHED


def test_reject_merge_transfer_stop_the_clock(report, users, officers, departments):
    a, b, c = report(), report(point=(30.6, 120.2)), report(point=(30.7, 120.2))
    transitions.dispatch(users["dispatcher"], a, officers["s1"])
    a = transitions.reject(users["dispatcher"], a, "属于私人纠纷")
    assert a.status == Status.REJECTED and a.officer is None
    assert Assignment.objects.get(event=a).status == AssignmentStatus.RELEASED
    with pytest.raises(ValidationFailed):
        transitions.merge(users["dispatcher"], b, b.pk)
    with pytest.raises(Conflict):
        transitions.merge(users["dispatcher"], b, a.pk)  # a is rejected
    b = transitions.merge(users["dispatcher"], b, c.pk)
    assert b.status == Status.DUPLICATE and b.merged_into == c
    assert TimelineEntry.objects.filter(event=c, action="merge").exists()
    c = transitions.transfer(users["dispatcher"], c, "SCJG", "属市场监管职责")
    assert c.status == Status.TRANSFERRED and c.department == departments["SCJG"] and c.transferred_to == "市场监督管理局"
    for e in (a, b, c):
        assert not Deadline.objects.filter(event=e, met_at__isnull=True, cancelled_at__isnull=True).exists()


def test_close_checks_satisfaction(report, users, officers):
    e = _dispatched(report, users, officers)
    for step in (transitions.accept, transitions.arrive):
        e = step(users["officer_s1"], e)
    e = transitions.resolve(users["officer_s1"], e, "已处置")
    with pytest.raises(ValidationFailed):
        transitions.close(users["dispatcher"], e, 6)
    with pytest.raises(Forbidden):
        transitions.close(users["officer_s1"], e, 5)
    assert transitions.close(users["leader_s1"], e, None).status == Status.CLOSED


def test_deliberation_then_outcome(report, users, officers):
    e = _dispatched(report, users, officers)
    e = transitions.accept(users["officer_s1"], e)
    e = transitions.deliberate(users["dispatcher"], e, "摊贩疏导点设置")
    assert e.status == Status.DELIBERATION
    assert not Deadline.objects.filter(event=e, met_at__isnull=True, cancelled_at__isnull=True).exists()
    with pytest.raises(Forbidden):
        transitions.resolve(users["officer_s1"], e, "议事结果")
    e = transitions.resolve(users["leader_s1"], e, "议事会同意在早市设置疏导点")
    assert e.status == Status.RESOLVED


def test_escalate_steps_up_to_the_district(report, users, officers, district):
    e = report()
    levels = []
    for _ in range(4):
        e = escalation.escalate(users["dispatcher"], e, "群众反映强烈")
        levels.append(e.escalation_level)
    # nobody of a higher rank in the team: "next rank" fell back to the team leader (level 2)
    assert levels == [2, 3, 3, 3]
    targets = list(e.escalations.values_list("target", "target_team__code", "target_area__code"))
    assert targets[0] == ("team_leader", "T-S1", "S1") and targets[1] == ("district", None, "D")


def test_escalate_to_next_rank_finds_a_higher_officer(report, users, officers, teams, departments):
    from grids import accounts

    u = accounts.add_user(None, username="captain", role="officer", area_codes=["S1"])[0]
    captain = Officer.objects.create(user=u, name="赵队", badge_no="C001", team=teams["S1"], rank=4,
                                     home_department=departments["ZHZF"])
    e = _dispatched(report, users, officers)
    e = escalation.escalate(users["officer_s1"], e, "需要队长到场")  # the assigned officer may ask
    esc = e.escalations.get()
    assert (esc.target, esc.target_officer) == ("next_rank", captain)
    with pytest.raises(NotFound):
        escalation.escalate(users["nobody"], e, "无权")


def test_set_severity_restarts_unmet_stages_from_now(report, users, officers):
    e = _dispatched(report, users, officers)
    e = transitions.accept(users["officer_s1"], e)
    e = transitions.set_severity(users["dispatcher"], e, "red", "现场人员聚集")
    assert e.severity == "red"
    live = {d.stage: d for d in Deadline.objects.filter(event=e, cancelled_at__isnull=True)}
    assert set(live) == {"sign_for", "arrive", "handle"}
    assert live["sign_for"].met_at == e.accepted_at  # already signed for: created as met
    assert live["arrive"].met_at is None and live["arrive"].due_at > e.created_at + timedelta(minutes=5)
    assert Deadline.objects.filter(event=e, cancelled_at__isnull=False).count() == 3
    with pytest.raises(Conflict):
        transitions.set_severity(users["dispatcher"], e, "red", "不变")
    with pytest.raises(ValidationFailed):
        transitions.set_severity(users["dispatcher"], e, "purple", "未知")
