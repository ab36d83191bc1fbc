"""Cases due soon or overdue reach their street's desk and team leader: the deadline check writes
cases.signals.deadlines_due to the outbox, the command center pushes each case as `case.deadline`."""
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async

from cases import services as case_services
from cases.testing import command_feeds
from command_center import push
from command_center.testing import person_case_in_s1
from core.models import OutboxMessage


def test_a_reminder_before_and_an_overdue_notice_after_each_pushed_once(users, catalog, teams, departments,
                                                                        monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    case = person_case_in_s1(users, teams, departments)
    sent = []
    monkeypatch.setattr(push, "publish_many",
                        lambda kind, changes, once=None: sent.append((kind, changes, once)) or [])
    due = case.step_due_at
    with django_capture_on_commit_callbacks(execute=True):
        assert case_services.check_deadlines(now=due - timedelta(hours=3))["reminded"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert case_services.check_deadlines(now=due + timedelta(minutes=5))["overdue"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert case_services.check_deadlines(now=due + timedelta(days=2))["announced"] == 0
    assert [kind for kind, _c, _o in sent] == [push.CASE_DEADLINE, push.CASE_DEADLINE]
    (street_id, path, body), = sent[0][1]
    assert street_id == case.street_id and path == case.street.path
    assert body["case"]["number"] == case.number and body["case"]["reason"] == "reminder"
    assert sent[1][1][0][2]["case"]["reason"] == "overdue" and sent[1][1][0][2]["case"]["overdue"] is True
    # each push is an outbox row, sent once per row (a drain that runs it again sends nothing twice)
    assert all(once and once.startswith("outbox:") for _k, _c, once in sent)
    assert OutboxMessage.objects.filter(kind="command_center.push.case_deadlines", done_at__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_street_leader_hears_it_over_the_socket_another_street_does_not(users, catalog, teams,
                                                                                   departments):
    case = await database_sync_to_async(person_case_in_s1)(users, teams, departments)
    async with command_feeds(users, ("leader_s1", "leader_s2", "dispatcher")) as socks:
        await database_sync_to_async(case_services.check_deadlines)(now=case.step_due_at + timedelta(minutes=1))
        for name in ("leader_s1", "dispatcher"):
            msg = await socks[name].receive_json_from(timeout=3)
            assert msg["type"] == "case.deadline" and msg["case"]["id"] == case.pk and msg["case"]["kind"] == "case"
            assert msg["case"]["reason"] == "overdue" and msg["case"]["url"] == f"/cases/{case.pk}/"
            assert isinstance(msg["seq"], int)
        assert await socks["leader_s2"].receive_nothing(timeout=0.3)
