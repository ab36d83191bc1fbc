"""Appeals and colour appeals get the case deadlines' notices: a reminder before their time limit and an
overdue notice after, each once, recorded, through the outbox to their street's desk and leaders (the
same `case.deadline` push, its `kind` saying which); none for a decided appeal, none for another street."""
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from cases import services, signals
from cases.models import Appeal, CaseRecord, ColorAppeal
from cases.services import deadlines
from cases.testing import command_feeds
from core.models import AuditLog
from core.testing import in_threads
from credit.choices import FactKind
from credit.services import facts as credit_facts


@pytest.fixture
def complaint(shop):
    return credit_facts.post_fact(shop.pk, FactKind.COMPLAINT, source_app="test", source_model="report",
                                  source_pk=1, confirmed=True, source_text="投诉")[0]


@pytest.fixture
def open_appeals(file_case, walk, users, complaint):
    """A closed case of S1 under appeal, and a colour appeal of its subject (S1's restaurant)."""
    case = walk(file_case(), "closed")
    today = timezone.localdate()  # lodged the same day: the same time limit
    appeal = services.appeal(users["leader_s1"], case, kind="reconsideration", grounds="不服", lodged_on=today)
    color = services.appeal_color(users["leader_s1"], case.subject_id, kind="complaint", grounds="颜色不公",
                                  lodged_on=today)
    appeal.refresh_from_db(), color.refresh_from_db()  # the time limits as the database gives them back (UTC)
    return appeal, color


@pytest.fixture
def published(monkeypatch):
    out = []
    monkeypatch.setattr(deadlines.outbox, "publish", lambda topic, payload: out.append((topic, payload)))
    return out


def _rows(published):
    return [(r["kind"], r["reason"]) for _topic, payload in published for r in payload["cases"]]


def test_a_reminder_before_and_an_overdue_notice_after_each_once(open_appeals, published, teams):
    appeal, color = open_appeals
    due = appeal.due_at
    assert color.due_at == due
    assert services.check_deadlines(now=due - timedelta(days=3))["announced"] == 0  # not yet within the lead
    out = services.check_deadlines(now=due - timedelta(hours=3))
    assert out["by_kind"]["appeal"] == {"overdue": 0, "reminded": 1} == out["by_kind"]["color_appeal"]
    assert out["by_kind"]["case"] == {"overdue": 0, "reminded": 0}  # the case itself is closed
    assert services.check_deadlines(now=due - timedelta(hours=1))["announced"] == 0  # once
    out = services.check_deadlines(now=due + timedelta(minutes=5))
    assert (out["overdue"], out["reminded"]) == (2, 0)
    assert services.check_deadlines(now=due + timedelta(days=2))["announced"] == 0  # once
    assert {topic for topic, _payload in published} == {signals.deadlines_due}
    assert _rows(published) == [("appeal", "reminder"), ("color_appeal", "reminder"),
                                ("appeal", "overdue"), ("color_appeal", "overdue")]
    first, second = published[0][1]["cases"]
    street = teams["S1"].street
    assert first == {"kind": "appeal", "id": appeal.pk, "number": appeal.case.number, "street_id": street.pk,
                     "status": "pending", "due_at": due.isoformat(), "overdue": False, "reason": "reminder",
                     "url": f"/cases/{appeal.case_id}/"}
    assert second["id"] == color.pk and second["number"] == "老王面馆" and second["street_id"] == street.pk
    assert second["url"] == f"/color-appeals/#appeal-{color.pk}"
    assert published[1][1]["cases"][0]["overdue"] is True
    # recorded: the appeal's notices in its case's record, the colour appeal's in the audit log
    lines = CaseRecord.objects.filter(case=appeal.case, step="reminder").order_by("id")
    assert [(r.data, r.actor_label) for r in lines] == [({"overdue": False, "appeal": appeal.pk}, "system"),
                                                        ({"overdue": True, "appeal": appeal.pk}, "system")]
    assert "复议/申诉期限提醒" in lines[0].note and "复议/申诉已超期" in lines[1].note
    audits = AuditLog.objects.filter(object_type="cases.colorappeal", object_id=str(color.pk),
                                     action__in=["case.color_appeal_reminder", "case.color_appeal_overdue"])
    assert sorted(audits.values_list("action", "actor_label")) == [("case.color_appeal_overdue", "system"),
                                                                  ("case.color_appeal_reminder", "system")]
    assert Appeal.objects.get(pk=appeal.pk).overdue and ColorAppeal.objects.get(pk=color.pk).overdue


def test_found_late_gets_the_overdue_notice_only(open_appeals, published):
    appeal, _color = open_appeals
    services.check_deadlines(now=appeal.due_at + timedelta(days=1))
    services.check_deadlines(now=appeal.due_at + timedelta(days=2))
    assert _rows(published) == [("appeal", "overdue"), ("color_appeal", "overdue")]


def test_decided_appeals_get_no_notice(open_appeals, users, published):
    appeal, color = open_appeals
    services.decide_appeal(users["bureau"], appeal.case, result="upheld", note="维持")
    services.decide_color_appeal(users["bureau"], color.pk, result="upheld", note="维持")
    assert services.check_deadlines(now=appeal.due_at - timedelta(hours=1))["announced"] == 0
    assert services.check_deadlines(now=appeal.due_at + timedelta(days=1))["announced"] == 0
    assert published == []


def test_a_decided_one_stops_while_the_other_goes_on(open_appeals, users, published):
    appeal, color = open_appeals
    services.check_deadlines(now=appeal.due_at - timedelta(hours=1))
    services.decide_color_appeal(users["bureau"], color.pk, result="upheld", note="维持")
    services.check_deadlines(now=appeal.due_at + timedelta(hours=1))
    assert _rows(published) == [("appeal", "reminder"), ("color_appeal", "reminder"), ("appeal", "overdue")]


def test_appeals_have_their_own_lead_time(open_appeals, published, settings):
    appeal, _color = open_appeals
    settings.CASES_APPEAL_REMIND_BEFORE_HOURS = 72
    assert services.check_deadlines(now=appeal.due_at - timedelta(hours=73))["announced"] == 0
    assert services.check_deadlines(now=appeal.due_at - timedelta(hours=71))["reminded"] == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_street_leader_hears_them_over_the_socket_another_street_does_not(open_appeals, users):
    appeal, color = open_appeals
    async with command_feeds(users, ("leader_s1", "leader_s2", "dispatcher")) as socks:
        await database_sync_to_async(services.check_deadlines)(now=appeal.due_at + timedelta(minutes=1))
        for name in ("leader_s1", "dispatcher"):
            got = {}
            for _ in range(2):
                msg = await socks[name].receive_json_from(timeout=3)
                assert msg["type"] == "case.deadline" and msg["case"]["reason"] == "overdue"
                got[msg["case"]["kind"]] = msg["case"]
            assert got["appeal"]["id"] == appeal.pk and got["appeal"]["url"] == f"/cases/{appeal.case_id}/"
            assert got["color_appeal"]["id"] == color.pk
        assert await socks["leader_s2"].receive_nothing(timeout=0.3)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_sweepers_side_by_side_announce_once(open_appeals):
    """Four checks at the same instant on PostgreSQL: the others wait on the rows the first locked, then
    finds them flagged; each notice is written once."""
    assert connection.vendor == "postgresql"
    appeal, color = open_appeals
    results, errors = in_threads(4, lambda _i: services.check_deadlines(now=appeal.due_at + timedelta(minutes=1)))
    assert not errors, errors
    assert sorted(r["announced"] for r in results) == [0, 0, 0, 2]
    assert CaseRecord.objects.filter(case=appeal.case, step="reminder", data__appeal=appeal.pk).count() == 1
    assert AuditLog.objects.filter(action="case.color_appeal_overdue", object_id=str(color.pk)).count() == 1
