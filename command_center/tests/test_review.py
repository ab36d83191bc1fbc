"""The team leader's review: the rules, resolve → under_review → approve (closed) / return (rework), their
refusals over the API, the queue (/review/, /api/v1/review/) and its count in every page's header."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center import review_queue
from command_center.choices import Action, AssignmentStatus, Status
from command_center.models import Assignment, Deadline, Event, ReviewRule, TimelineEntry
from command_center.services import review, transitions
from command_center.testing import S2_POINT
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import AuditLog
from core.review import ReviewItem

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def handled(report, users, officers, **fields):
    """An event taken to the officer's resolve (S1, officer 张三)."""
    e = report(**fields)
    e = transitions.dispatch(users["dispatcher"], e, officers["s1"], override=True, reason="指定张三（测试）")
    e = transitions.accept(users["officer_s1"], e)
    e = transitions.arrive(users["officer_s1"], e)
    return transitions.resolve(users["officer_s1"], e, "已劝离摊贩")


@pytest.fixture
def rules(db):
    review.install_default_rules()


def act(client, event_id, action, data=None, etag="fresh"):
    if etag == "fresh":
        etag = Event.objects.get(pk=event_id).etag
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    return client.post(f"{URL}{event_id}/{action}/", data or {}, format="json", **headers)


# --- the rules ------------------------------------------------------------------------------------

def test_without_rules_nothing_is_reviewed(report, users, officers):
    e = handled(report, users, officers)
    assert e.status == Status.RESOLVED
    assert transitions.close(users["dispatcher"], e, 5).status == Status.CLOSED


def test_default_rules_review_citizen_reports_and_orange_red(rules, report, users, officers, district):
    assert dict(ReviewRule.objects.filter(street__isnull=True).values_list("severity", "review")) == {
        "red": "all", "orange": "all", "yellow": "citizen", "blue": "citizen"}
    assert review.install_default_rules() == 0
    assert handled(report, users, officers, source="citizen").status == Status.UNDER_REVIEW
    assert handled(report, users, officers, source="grid_worker").status == Status.RESOLVED  # yellow, not a citizen
    red = handled(report, users, officers, source="grid_worker", severity="red")
    assert red.status == Status.UNDER_REVIEW
    # a street's own rule wins over the district default
    review.save_rule(users["bureau"], severity="red", review="none", street=district["S1"])
    assert handled(report, users, officers, source="grid_worker", severity="red").status == Status.RESOLVED


def test_rules_are_set_by_bureau_staff_in_their_areas(users, district):
    with pytest.raises(Forbidden):
        review.save_rule(users["leader_s1"], severity="red", review="all", street=district["S1"])
    with pytest.raises(ValidationFailed):
        review.save_rule(users["bureau_s1"], severity="red", review="all", street=district["S2"])
    with pytest.raises(ValidationFailed):
        review.save_rule(users["bureau"], severity="purple", review="maybe")
    with pytest.raises(Forbidden):  # district defaults: whole-district staff only
        review.save_rule(users["bureau_s1"], severity="red", review="all")
    rule = review.save_rule(users["bureau_s1"], severity="red", review="all", street=district["S1"])
    review.save_rule(users["bureau_s1"], severity="red", review="citizen", street=district["S1"])
    rule.refresh_from_db()
    assert rule.review == "citizen"
    assert AuditLog.objects.filter(action="review_rule.saved").count() == 2


# --- approve and return -------------------------------------------------------------------------

def test_approve_closes_with_timeline_and_audit(rules, report, users, officers):
    e = handled(report, users, officers)
    assert e.status == Status.UNDER_REVIEW
    e = review.approve(users["leader_s1"], e, note="处置到位", satisfaction=5)
    assert (e.status, e.satisfaction) == (Status.CLOSED, 5) and e.closed_at
    line = TimelineEntry.objects.filter(event=e).last()
    assert (line.action, line.from_status, line.to_status, line.note) == ("approve", "under_review", "closed", "处置到位")
    assert AuditLog.objects.filter(action="event.approve", object_id=str(e.pk)).exists()
    assert not Deadline.objects.filter(event=e, met_at__isnull=True, cancelled_at__isnull=True).exists()


def test_return_gives_the_task_back_and_restarts_the_handling_clock(rules, report, users, officers, logged_in):
    e = handled(report, users, officers)
    before = timezone.now()
    e = review.return_for_rework(users["bureau"], e, "照片不清晰，请补拍现场")
    assert (e.status, e.officer, e.return_reason) == (Status.ACCEPTED, officers["s1"], "照片不清晰，请补拍现场")
    assert Assignment.objects.get(event=e).status == AssignmentStatus.LIVE
    rework = Deadline.objects.get(event=e, stage="rework", cancelled_at__isnull=True)
    assert rework.met_at is None and rework.due_at >= before + timedelta(minutes=10)
    assert not Deadline.objects.filter(event=e, stage="handle", cancelled_at__isnull=True).exists()
    assert TimelineEntry.objects.filter(event=e, action=Action.RETURN, note="照片不清晰，请补拍现场").exists()
    # the officer's phone lists it again, with the reason
    page = logged_in("officer_s1").get("/m/")
    assert page.status_code == 200 and "照片不清晰，请补拍现场" in page.content.decode()
    # handled again: the rework stage is met, and it waits for review again
    e = transitions.arrive(users["officer_s1"], e)
    e = transitions.resolve(users["officer_s1"], e, "已补拍")
    rework.refresh_from_db()
    assert e.status == Status.UNDER_REVIEW and rework.met_at is not None
    # a second return, then approval
    e = review.return_for_rework(users["leader_s1"], e, "仍不清晰")
    assert Deadline.objects.filter(event=e, stage="rework", cancelled_at__isnull=True).count() == 1
    e = transitions.arrive(users["officer_s1"], e)
    e = transitions.resolve(users["officer_s1"], e, "已补拍第二次")
    assert review.approve(users["leader_s1"], e).status == Status.CLOSED


def test_review_refusals(rules, report, users, officers):
    e = handled(report, users, officers)
    for name in ("dispatcher", "officer_s1", "platform"):
        with pytest.raises(Forbidden):
            review.approve(users[name], e)
        with pytest.raises(Forbidden):
            review.return_for_rework(users[name], e, "x")
    with pytest.raises(NotFound):
        review.approve(users["leader_s2"], e)
    with pytest.raises(ValidationFailed):
        review.return_for_rework(users["leader_s1"], e, "  ")
    with pytest.raises(ValidationFailed):
        review.approve(users["leader_s1"], e, satisfaction=9)
    with pytest.raises(Conflict):  # under review: the dispatcher's close is not the way out
        transitions.close(users["dispatcher"], e, 5)
    plain = handled(report, users, officers, source="grid_worker")
    with pytest.raises(Conflict):  # not under review
        review.approve(users["leader_s1"], plain)
    with pytest.raises(Conflict):
        review.return_for_rework(users["leader_s1"], plain, "x")
    assert Event.objects.get(pk=e.pk).status == Status.UNDER_REVIEW


def test_review_actions_over_the_api(rules, api, report, users, officers):
    e = handled(report, users, officers)
    leader = api(users["leader_s1"])
    assert act(api(users["dispatcher"]), e.pk, "approve").status_code == 403
    assert act(api(users["officer_s1"]), e.pk, "return", {"reason": "x"}).status_code == 403
    assert act(api(users["platform"]), e.pk, "approve").status_code == 403
    assert act(api(users["leader_s2"]), e.pk, "approve").status_code == 404
    assert act(leader, e.pk, "approve", etag=None).status_code == 428
    assert act(leader, e.pk, "approve", etag=f'"{e.pk}-v1"').status_code == 412
    assert act(leader, e.pk, "return", {}).status_code == 400
    r = act(leader, e.pk, "return", {"reason": "补充处置照片"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["status"], body["return_reason"], body["officer_name"]) == ("accepted", "补充处置照片", "张三")
    assert act(leader, e.pk, "approve").status_code == 409
    officer = api(users["officer_s1"])
    assert act(officer, e.pk, "arrive").status_code == 200
    assert act(officer, e.pk, "resolve", {"result": "已补充"}).json()["status"] == "under_review"
    r = act(leader, e.pk, "approve", {"note": "同意", "satisfaction": 4})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["satisfaction"] == 4
    actions = [t["action"] for t in leader.get(f"{URL}{e.pk}/").json()["timeline"]]
    assert actions[-5:] == ["resolve", "return", "arrive", "resolve", "approve"]


# --- the queue ------------------------------------------------------------------------------------

def test_queue_oldest_deadline_first_and_scoped(rules, api, report, users, officers, district):
    first = handled(report, users, officers)
    second = handled(report, users, officers)
    Event.objects.filter(pk=second.pk).update(resolved_at=first.resolved_at - timedelta(hours=1))
    items = review_queue.items_for(users["leader_s1"])
    assert [(i.kind, i.id) for i in items] == [("event", second.pk), ("event", first.pk)]
    assert items[0].due_at == items[0].waiting_since + timedelta(hours=24)
    assert items[0].street == "S1" and items[0].api_url == f"{URL}{second.pk}/"
    assert review_queue.items_for(users["leader_s2"]) == []
    assert [i.id for i in review_queue.items_for(users["bureau"])] == [second.pk, first.pk]
    r = api(users["leader_s1"]).get("/api/v1/review/")
    assert r.status_code == 200
    assert r.json()["count"] == 2 and [x["id"] for x in r.json()["results"]] == [second.pk, first.pk]
    assert api(users["leader_s2"]).get("/api/v1/review/").json()["count"] == 0
    for name in ("officer_s1", "dispatcher", "platform"):
        assert api(users[name]).get("/api/v1/review/").status_code == 403
    assert api().get("/api/v1/review/").status_code in (401, 403)


def test_queue_merges_every_source_in_deadline_order(monkeypatch, rules, report, users, officers):
    e = handled(report, users, officers)
    now = timezone.now()
    other = [ReviewItem(kind="case", id=7, title="案件", street="S1", street_name="S1", waiting_since=now,
                        due_at=now - timedelta(days=1), url="/cases/7/", api_url="/api/v1/cases/7/"),
             ReviewItem(kind="appeal", id=3, title="申诉", street="S1", street_name="S1",
                        waiting_since=now - timedelta(days=9), due_at=None, url="/appeals/3/", api_url="/api/v1/appeals/3/")]
    monkeypatch.setattr(review_queue, "SOURCES", [*review_queue.SOURCES, lambda user: other])
    assert [(i.kind, i.id) for i in review_queue.items_for(users["leader_s1"])] == [("case", 7), ("event", e.pk), ("appeal", 3)]


def test_review_page_lists_and_acts(rules, report, users, officers, logged_in):
    e = handled(report, users, officers)
    page = logged_in("leader_s1")
    r = page.get("/review/")
    assert r.status_code == 200 and f'id="event-{e.pk}"' in r.content.decode()
    r = page.post("/review/", {"event": e.pk, "version": e.version, "action": "return", "reason": ""}, follow=True)
    assert Event.objects.get(pk=e.pk).status == Status.UNDER_REVIEW and "请说明原因" in r.content.decode()
    stale = page.post("/review/", {"event": e.pk, "version": e.version - 1, "action": "approve"})
    assert stale.status_code == 302 and Event.objects.get(pk=e.pk).status == Status.UNDER_REVIEW
    assert page.post("/review/", {"event": e.pk, "version": e.version, "action": "approve"}).status_code == 302
    assert Event.objects.get(pk=e.pk).status == Status.CLOSED
    assert logged_in("leader_s2").post("/review/", {"event": e.pk, "version": 1, "action": "approve"}).status_code == 404
    for name in ("officer_s1", "dispatcher", "platform"):
        assert logged_in(name).get("/review/").status_code == 403


def test_review_page_refuses_a_dispatcher_acting(rules, report, users, officers, logged_in):
    e = handled(report, users, officers)
    assert logged_in("dispatcher").post("/review/", {"event": e.pk, "version": e.version, "action": "approve"}).status_code == 403


def test_header_count_on_every_page_in_a_fixed_number_of_queries(rules, report, users, officers, logged_in,
                                                         django_assert_num_queries):
    handled(report, users, officers)
    handled(report, users, officers)
    page = logged_in("leader_s1")
    for url in ("/subjects/", "/events/", "/map/"):
        html = page.get(url).content.decode()
        assert 'href="/review/">待我审核 <span class="count"' in html and ">2</span>" in html
    assert "/review/" not in logged_in("officer_s1").get("/map/").content.decode()
    from django.test import RequestFactory

    from command_center.context_processors import review_count

    request = RequestFactory().get("/map/")
    request.user = users["leader_s1"]
    review_queue.may_review(request.user)
    from grids import selectors as grid_selectors

    grid_selectors.user_area_paths(request.user)
    context = review_count(request)
    # a fixed number, whatever the queue holds: events 1, cases 4 (at review, transfers, appeals, colour
    # appeals), plans 1
    with django_assert_num_queries(6):
        assert int(str(context["review_count"])) == 2
        assert str(context["review_count"]) == "2"  # cached for the request


def test_other_street_event_never_in_the_queue(rules, report, users, officers):
    e = report(point=S2_POINT)
    Event.objects.filter(pk=e.pk).update(status=Status.UNDER_REVIEW, resolved_at=timezone.now())
    assert review_queue.items_for(users["leader_s1"]) == []
    assert [i.id for i in review_queue.items_for(users["leader_s2"])] == [e.pk]


def test_review_rule_admin_saves_through_the_service(logged_in, district):
    c = logged_in("bureau_s1")
    url = "/admin/command_center/reviewrule/add/"
    assert c.get(url).status_code == 200
    other = c.post(url, {"street": district["S2"].pk, "severity": "red", "review": "all"})
    assert other.status_code == 200 and not ReviewRule.objects.exists()
    ok = c.post(url, {"street": district["S1"].pk, "severity": "red", "review": "none"})
    assert ok.status_code == 302
    rule = ReviewRule.objects.get(street=district["S1"], severity="red")
    assert rule.review == "none" and AuditLog.objects.filter(action="review_rule.saved", object_id=str(rule.pk)).exists()
    assert logged_in("leader_s1").get(url).status_code in (302, 403)


def test_review_steps_are_pushed_to_the_desk_and_the_phone(rules, report, users, officers,
                                                           django_capture_on_commit_callbacks):
    from core.models import OutboxMessage

    e = handled(report, users, officers)
    with django_capture_on_commit_callbacks(execute=False):
        e = review.return_for_rework(users["leader_s1"], e, "补拍")
    pushes = [m.payload for m in OutboxMessage.objects.filter(kind="command_center.push.event")]
    assert {"kind": "event.updated", "event_id": e.pk, "version": e.version, "action": "return"} in pushes
