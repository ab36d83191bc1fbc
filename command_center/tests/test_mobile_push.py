"""The officer's own stream (`/ws/officer/`, command_center.mobile.push): who may join it, what the
transitions push to it (assigned, reassigned, withdrawn, the duty status), through the outbox, once."""
import pytest
from django.utils import timezone
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connections

from command_center import push
from command_center.mobile import push as officer_push
from command_center.services import transitions
from command_center.testing import S1_POINT
from config.routing import websocket_urlpatterns
from core import outbox, roles
from core.models import OutboxMessage
from grids import accounts
from grids.models import Officer

ROUTER = URLRouter(websocket_urlpatterns)


@pytest.fixture
def sent(monkeypatch):
    """Every group message sent, as (group, message), instead of the channel layer."""
    out = []
    monkeypatch.setattr(push, "_group_send_many", out.extend)
    return out


def to_officer(sent_messages, officer):
    group = officer_push.officer_group(officer.pk)
    return [m["payload"] for g, m in sent_messages if g == group]


@pytest.fixture
def wang(users, teams, departments):
    """A second officer of S1, on duty with a fresh position (a desk may pick him without an override)."""
    user, _ = accounts.add_user(None, username="wang5", role=roles.OFFICER, area_codes=["S1"], password="pass-word-1")
    return Officer.objects.create(user=user, name="王五", badge_no="B003", team=teams["S1"],
                                  home_department=departments["ZHZF"], duty_status="available",
                                  last_lat=S1_POINT[0], last_lng=S1_POINT[1], last_position_at=timezone.now())


# --- what the transitions push ------------------------------------------------------------------

@pytest.mark.django_db
def test_dispatch_pushes_task_assigned_with_what_the_card_needs(report, users, officers, sent,
                                                              django_capture_on_commit_callbacks):
    event = report(description="学校门口流动摊贩", address="文一路1号")
    with django_capture_on_commit_callbacks(execute=True):
        transitions.dispatch(users["dispatcher"], event, officers["s1"])
    [msg] = to_officer(sent, officers["s1"])
    assert msg["type"] == "task.assigned" and msg["cause"] == "dispatch"
    task = msg["task"]
    assert task["id"] == event.pk and task["status"] == "dispatched" and task["severity"] == event.severity
    assert task["problem_type_name"] == "占道经营" and task["address"] == "文一路1号"
    due = event.deadlines.filter(met_at__isnull=True, cancelled_at__isnull=True).order_by("due_at").first()
    assert task["due_at"] == due.due_at.isoformat() and task["stage"] == due.stage
    assert to_officer(sent, officers["s2"]) == []  # nobody else's stream hears of it


@pytest.mark.django_db
def test_reassign_tells_both_officers_and_reject_withdraws(report, users, officers, wang, sent,
                                                           django_capture_on_commit_callbacks):
    event = transitions.dispatch(users["dispatcher"], report(), officers["s1"])
    with django_capture_on_commit_callbacks(execute=True):
        event = transitions.dispatch(users["dispatcher"], event, wang, reassign=True, reason="就近改派")
    [gone] = to_officer(sent, officers["s1"])
    assert gone["type"] == "task.withdrawn" and gone["task"] == {"id": event.pk} and gone["cause"] == "released"
    [came] = to_officer(sent, wang)
    assert came["type"] == "task.reassigned" and came["task"]["id"] == event.pk
    with django_capture_on_commit_callbacks(execute=True):
        transitions.reject(users["dispatcher"], event, "不属于本部门职责")
    assert [m["type"] for m in to_officer(sent, wang)] == ["task.reassigned", "task.withdrawn"]
    assert len(to_officer(sent, officers["s1"])) == 1


@pytest.mark.django_db
def test_decline_withdraws_and_a_resolve_does_not(report, users, officers, sent, django_capture_on_commit_callbacks):
    mine = officers["s1"]
    declined = transitions.dispatch(users["dispatcher"], report(), mine)
    done = transitions.arrive(mine.user, transitions.accept(mine.user, transitions.dispatch(users["dispatcher"], report(), mine)))
    start = len(sent)
    with django_capture_on_commit_callbacks(execute=True):
        transitions.decline(mine.user, declined, "不在我的片区")
    with django_capture_on_commit_callbacks(execute=True):
        transitions.resolve(mine.user, done, "已劝离")
    msgs = to_officer(sent[start:], mine)
    assert [(m["type"], m.get("task", {}).get("id"), m.get("cause")) for m in msgs if m["type"] != "officer.status"] == [
        ("task.withdrawn", declined.pk, "declined")]
    # The duty status follows the task: busy while still holding the signed-for one, then available.
    assert [m["duty_status"] for m in msgs if m["type"] == "officer.status"] == ["busy", "available"]


@pytest.mark.django_db
def test_duty_status_follows_the_task_on_the_officers_stream(report, users, officers, sent,
                                                            django_capture_on_commit_callbacks):
    mine = officers["s1"]
    event = transitions.dispatch(users["dispatcher"], report(), mine)
    for step in (lambda e: transitions.accept(mine.user, e), lambda e: transitions.arrive(mine.user, e),
                 lambda e: transitions.resolve(mine.user, e, "已处理")):
        with django_capture_on_commit_callbacks(execute=True):
            event = step(event)
    statuses = [m["duty_status"] for m in to_officer(sent, mine) if m["type"] == "officer.status"]
    assert statuses == ["en_route", "on_scene", "available"]
    mine.refresh_from_db()
    assert mine.duty_status == "available"
    seqs = [m["seq"] for m in to_officer(sent, mine)]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # one counter per officer, no gaps


@pytest.mark.django_db
def test_a_task_taken_away_before_the_push_ran_is_not_announced(report, users, officers, wang, sent):
    """The outbox row of the first dispatch runs after the reassignment committed: no stale card."""
    event = transitions.dispatch(users["dispatcher"], report(), officers["s1"])
    transitions.dispatch(users["dispatcher"], event, wang, reassign=True)
    assert officer_push.on_officer_task({"kind": "task.assigned", "officer_id": officers["s1"].pk,
                                         "event_id": event.pk, "cause": "dispatch"}) is None
    assert to_officer(sent, officers["s1"]) == []


@pytest.mark.django_db(transaction=True)
def test_the_push_is_an_outbox_row_sent_once(report, users, officers, sent, monkeypatch):
    """Written in the dispatch's transaction: a process killed after the commit leaves the row, the drain
    sends it; a row run twice is sent once."""
    monkeypatch.setattr(outbox, "_after_commit", lambda *a, **k: None)  # the committer "dies" after its commit
    event = transitions.dispatch(users["dispatcher"], report(), officers["s1"])
    row = OutboxMessage.objects.get(kind="command_center.push.officer_task")
    assert row.payload == {"kind": "task.assigned", "officer_id": officers["s1"].pk, "event_id": event.pk,
                           "cause": "dispatch"}
    assert to_officer(sent, officers["s1"]) == []
    outbox.process([row.pk])
    outbox.process([row.pk])
    OutboxMessage.objects.filter(pk=row.pk).update(done_at=None, claimed_at=None)
    outbox.process([row.pk])  # run again after a crash between its send and its done mark
    assert [m["task"]["id"] for m in to_officer(sent, officers["s1"])] == [event.pk]


# --- the consumer ---------------------------------------------------------------------------------

@pytest_asyncio.fixture
async def _close_worker_connections():
    yield
    await database_sync_to_async(connections.close_all)()


async def connect(user):
    comm = WebsocketCommunicator(ROUTER, "/ws/officer/")
    if user is not None:
        comm.scope["user"] = user
    connected, code = await comm.connect(timeout=3)
    return comm, connected, code


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_only_an_officer_joins_and_only_their_own_stream(users, officers, _close_worker_connections):
    from django.contrib.auth.models import AnonymousUser

    for user in (None, AnonymousUser()):
        comm, connected, code = await connect(user)
        assert not connected and code == 4401
    for name in ("dispatcher", "leader_s1", "bureau", "platform"):
        comm, connected, code = await connect(users[name])
        assert not connected and code == 4403, name
    norecord = await database_sync_to_async(accounts.add_user)(
        None, username="o_norecord", role=roles.OFFICER, area_codes=["S1"], password="pass-word-1")
    comm, connected, code = await connect(norecord[0])
    assert not connected and code == 4403

    s1, connected, _ = await connect(users["officer_s1"])
    assert connected and await s1.receive_json_from(timeout=3) == {"type": "hello", "officer": officers["s1"].pk}
    s2, connected, _ = await connect(users["nobody"])  # 李四's account
    assert connected and (await s2.receive_json_from(timeout=3))["officer"] == officers["s2"].pk
    await s1.send_json_to({"type": "ping"})
    assert await s1.receive_json_from(timeout=3) == {"type": "pong"}
    await s1.disconnect()
    await s2.disconnect()


def _dispatch(report, users, officer):
    return transitions.dispatch(users["dispatcher"], report(point=S1_POINT), officer)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_dispatch_reaches_the_officers_socket_and_no_other(report, users, officers, _close_worker_connections):
    s1, _c, _ = await connect(users["officer_s1"])
    await s1.receive_json_from(timeout=3)
    s2, _c, _ = await connect(users["nobody"])
    await s2.receive_json_from(timeout=3)
    event = await database_sync_to_async(_dispatch)(report, users, officers["s1"])
    msg = await s1.receive_json_from(timeout=3)
    assert msg["type"] == "task.assigned" and msg["task"]["id"] == event.pk
    assert await s2.receive_nothing(timeout=0.3)
    await s1.disconnect()
    await s2.disconnect()
