"""Co-governance (红茶议事会) as a record: deliberate with participants, meetings with minutes, the
consensus closing or re-opening the event; the refusals; the record on the event and in the admin."""
from datetime import timedelta

import pytest
from django.utils import timezone

from command_center.choices import Action, AssignmentStatus, Status
from command_center.models import Assignment, Deadline, Deliberation, DeliberationMeeting, Event, TimelineEntry
from command_center.services import deliberation, transitions
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import AuditLog

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"
PEOPLE = [{"name": "王阿姨", "role": "居民代表"}, {"name": "陈老板", "role": "商户"}, {"name": "社区主任", "role": "社区"}]


def on_site(report, users, officers):
    e = transitions.dispatch(users["dispatcher"], report(), officers["s1"], override=True, reason="指定张三（测试）")
    e = transitions.accept(users["officer_s1"], e)
    return transitions.arrive(users["officer_s1"], e)


def act(client, event_id, path, data=None):
    etag = Event.objects.get(pk=event_id).etag
    return client.post(f"{URL}{event_id}/{path}/", data or {}, format="json", HTTP_IF_MATCH=etag)


def test_deliberation_record_meetings_and_closing_consensus(report, users, officers):
    e = on_site(report, users, officers)
    e = transitions.deliberate(users["leader_s1"], e, "夜市摊位占道与居民休息矛盾", participants=PEOPLE)
    record = Deliberation.objects.get(event=e)
    assert (record.topic, record.participants, record.from_status) == ("夜市摊位占道与居民休息矛盾", PEOPLE, "on_site")
    held = timezone.now() - timedelta(days=1)
    e = deliberation.add_meeting(users["dispatcher"], e, held_at=held, minutes="各方同意摊位收缩至划线内，22点收摊",
                                 place="社区议事厅", attendees=PEOPLE[:2])
    assert e.status == Status.DELIBERATION
    meeting = DeliberationMeeting.objects.get(deliberation=record)
    assert (meeting.held_at, meeting.place, meeting.attendees) == (held, "社区议事厅", PEOPLE[:2])
    e = deliberation.conclude(users["leader_s1"], e, consensus="划线经营、22点收摊，社区监督", outcome="close")
    record.refresh_from_db()
    assert (e.status, e.result) == (Status.CLOSED, "划线经营、22点收摊，社区监督") and e.closed_at
    assert record.outcome == "close" and record.concluded_at
    assert Assignment.objects.get(event=e).status == AssignmentStatus.DONE
    actions = list(TimelineEntry.objects.filter(event=e).values_list("action", flat=True))
    assert actions[-3:] == [Action.DELIBERATE, Action.MEETING, Action.CONCLUDE]
    assert {"deliberation.opened", "deliberation.meeting", "deliberation.concluded", "event.conclude"} <= set(
        AuditLog.objects.values_list("action", flat=True))
    with pytest.raises(PermissionError):
        meeting.delete()


def test_reopening_gives_it_back_to_the_officer_with_a_fresh_deadline(report, users, officers):
    e = on_site(report, users, officers)
    e = transitions.deliberate(users["dispatcher"], e, "需要物业配合")
    e = deliberation.conclude(users["dispatcher"], e, consensus="物业同意清理，由执法队复查", outcome="reopen")
    assert (e.status, e.officer) == (Status.ON_SITE, officers["s1"])
    assert Deadline.objects.filter(event=e, stage="rework", met_at__isnull=True, cancelled_at__isnull=True).exists()
    e = transitions.resolve(users["officer_s1"], e, "已复查")
    assert e.status == Status.RESOLVED
    # a second deliberation is a new record
    assert Deliberation.objects.filter(event=e).count() == 1


def test_deliberation_refusals(report, users, officers):
    e = on_site(report, users, officers)
    with pytest.raises(ValidationFailed):
        transitions.deliberate(users["dispatcher"], e, "议题", participants=[{"role": "无名"}])
    with pytest.raises(ValidationFailed):
        transitions.deliberate(users["dispatcher"], e, "议题", participants="张三")
    with pytest.raises(Conflict):  # not in deliberation
        deliberation.add_meeting(users["dispatcher"], e, held_at=timezone.now(), minutes="x")
    e = transitions.deliberate(users["dispatcher"], e, "议题")
    with pytest.raises(Forbidden):
        deliberation.add_meeting(users["officer_s1"], e, held_at=timezone.now(), minutes="x")
    with pytest.raises(NotFound):
        deliberation.conclude(users["leader_s2"], e, consensus="x", outcome="close")
    with pytest.raises(ValidationFailed):
        deliberation.add_meeting(users["dispatcher"], e, held_at=timezone.now() + timedelta(days=2), minutes="x")
    with pytest.raises(ValidationFailed):
        deliberation.add_meeting(users["dispatcher"], e, held_at="not a time", minutes="x")
    with pytest.raises(ValidationFailed):
        deliberation.conclude(users["dispatcher"], e, consensus="x", outcome="maybe")
    with pytest.raises(ValidationFailed):
        deliberation.conclude(users["dispatcher"], e, consensus=" ", outcome="close")
    assert not DeliberationMeeting.objects.exists() and Event.objects.get(pk=e.pk).status == Status.DELIBERATION


def test_deliberation_over_the_api(api, report, users, officers):
    e = on_site(report, users, officers)
    disp = api(users["dispatcher"])
    r = act(disp, e.pk, "deliberate", {"topic": "油烟扰民协商", "participants": PEOPLE})
    assert r.status_code == 200 and r.json()["status"] == "deliberation"
    assert act(api(users["officer_s1"]), e.pk, "deliberation/meetings",
               {"held_at": timezone.now().isoformat(), "minutes": "x"}).status_code == 403
    assert act(api(users["leader_s2"]), e.pk, "deliberation/meetings",
               {"held_at": timezone.now().isoformat(), "minutes": "x"}).status_code == 404
    assert act(disp, e.pk, "deliberation/meetings", {"minutes": "x"}).status_code == 400
    r = act(disp, e.pk, "deliberation/meetings", {"held_at": (timezone.now() - timedelta(hours=2)).isoformat(),
                                                  "minutes": "商户同意安装净化器", "place": "红茶议事厅",
                                                  "attendees": PEOPLE})
    assert r.status_code == 200, r.content
    stale = disp.post(f"{URL}{e.pk}/deliberation/conclude/", {"consensus": "x", "outcome": "close"}, format="json",
                      HTTP_IF_MATCH=f'"{e.pk}-v1"')
    assert stale.status_code == 412
    r = act(disp, e.pk, "deliberation/conclude", {"consensus": "一月内安装净化器", "outcome": "close"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert act(disp, e.pk, "deliberation/conclude", {"consensus": "x", "outcome": "close"}).status_code == 409
    listed = api(users["leader_s1"]).get(f"{URL}{e.pk}/deliberations/").json()
    assert [(d["topic"], d["outcome"], len(d["meetings"])) for d in listed] == [("油烟扰民协商", "close", 1)]
    assert listed[0]["participants"] == PEOPLE and listed[0]["meetings"][0]["minutes"] == "商户同意安装净化器"
    assert api(users["leader_s2"]).get(f"{URL}{e.pk}/deliberations/").status_code == 404


def test_resolving_from_deliberation_concludes_it_and_it_may_be_deliberated_again(report, users, officers):
    from command_center.services import review

    review.install_default_rules()
    e = on_site(report, users, officers)
    e = transitions.deliberate(users["dispatcher"], e, "第一次议事")
    e = transitions.resolve(users["leader_s1"], e, "议事后商户自行整改")
    first = Deliberation.objects.get(event=e)
    assert (first.outcome, first.consensus) == ("close", "议事后商户自行整改") and first.concluded_at
    assert e.status == Status.UNDER_REVIEW
    e = review.return_for_rework(users["leader_s1"], e, "需复查")
    e = transitions.deliberate(users["dispatcher"], e, "第二次议事")
    assert Deliberation.objects.filter(event=e).count() == 2
