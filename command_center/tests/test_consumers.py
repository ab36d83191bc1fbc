"""`/ws/command/` over the in-memory channel layer: who may connect, who receives what, in order."""
import asyncio
import threading
from datetime import timedelta

import pytest
import pytest_asyncio
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from command_center.dashboard import selectors as dashboard_selectors
from command_center.services import intake as intake_service
from command_center.services import sweep
from command_center.testing import S1_POINT, S2_POINT
from config.routing import websocket_urlpatterns

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ROUTER = URLRouter(websocket_urlpatterns)


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections():
    """database_sync_to_async runs on a worker thread: its connection (kept by CONN_MAX_AGE on
    PostgreSQL) must not outlive the test, or the test database cannot be dropped."""
    yield
    await database_sync_to_async(connections.close_all)()


async def connect(user, app=ROUTER, **kwargs):
    comm = WebsocketCommunicator(app, "/ws/command/", **kwargs)
    if user is not None:
        comm.scope["user"] = user
    connected, code = await comm.connect(timeout=3)
    return comm, connected, code


async def connect_ok(user):
    comm, connected, _code = await connect(user)
    assert connected
    hello = await comm.receive_json_from(timeout=3)
    assert hello["type"] == "hello"
    return comm, hello


async def drain(comm, timeout=0.3):
    """Everything waiting (receive_nothing does not cancel the consumer on a timeout, receive_from does)."""
    out = []
    while not await comm.receive_nothing(timeout=timeout):
        out.append(await comm.receive_json_from(timeout=3))
    return out


def _intake(client, point=S1_POINT, **fields):
    lat, lng = point
    data = {"source": "citizen", "problem_type": "ZDJY", "description": "人行道上有流动摊贩占道经营",
            "lat": lat, "lng": lng, **fields}
    return intake_service.intake_event(client, data)[0]


intake = database_sync_to_async(_intake)


async def test_anonymous_is_refused(district):
    from django.contrib.auth.models import AnonymousUser

    for user in (None, AnonymousUser()):
        comm, connected, code = await connect(user)
        assert not connected and code == 4401
        await comm.disconnect()


async def test_officers_and_platforms_are_refused(users):
    for name in ("officer_s1", "platform"):
        comm, connected, code = await connect(users[name])
        assert not connected and code == 4403
        await comm.disconnect()


async def test_dispatcher_receives_event_created(users, catalog, district):
    comm, hello = await connect_ok(users["dispatcher"])
    assert hello["streams"] == ["cc.district"]
    event = await intake(users["platform"])
    msg = await comm.receive_json_from(timeout=3)
    assert msg["type"] == "event.created" and msg["stream"] == "cc.district" and msg["event"]["id"] == event.pk
    assert msg["event"]["street_id"] == district["S1"].pk
    await comm.disconnect()


async def test_a_leader_of_s2_does_not_receive_s1_events(users, catalog, district):
    s2, hello = await connect_ok(users["leader_s2"])
    assert hello["streams"] == [f"cc.street.{district['S2'].pk}"]
    s1, _ = await connect_ok(users["leader_s1"])
    e1 = await intake(users["platform"])
    got = await s1.receive_json_from(timeout=3)
    assert got["event"]["id"] == e1.pk and got["stream"] == f"cc.street.{district['S1'].pk}"
    assert await drain(s2) == []
    e2 = await intake(users["platform"], point=S2_POINT)
    assert (await s2.receive_json_from(timeout=3))["event"]["id"] == e2.pk
    assert await drain(s1) == []
    await s1.disconnect()
    await s2.disconnect()


async def test_a_user_bound_to_a_grid_gets_only_its_grids_events(users, catalog, district):
    """Below street level the street's group is shared: the consumer filters by the user's areas."""
    grid_user = await database_sync_to_async(_user_bound_to)("bureau_g2", "bureau_staff", district["S1G2"])
    comm, hello = await connect_ok(grid_user)
    assert hello["streams"] == [f"cc.street.{district['S1'].pk}"]
    await intake(users["platform"])  # S1G1
    assert await drain(comm) == []
    e = await intake(users["platform"], point=(30.2, 120.7))  # S1G2
    assert (await comm.receive_json_from(timeout=3))["event"]["id"] == e.pk
    await comm.disconnect()


def _user_bound_to(username, role, area):
    from django.contrib.auth.models import Group

    from grids.models import AreaMembership

    user = get_user_model().objects.create_user(username, password="pw-123456789")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    AreaMembership.objects.create(user=user, area=area)
    return user


async def test_sla_breached_is_pushed_after_a_sweep(users, catalog):
    comm, _ = await connect_ok(users["dispatcher"])
    event = await intake(users["platform"])
    await comm.receive_json_from(timeout=3)  # event.created

    def sweep_first():
        first = event.deadlines.order_by("due_at").first()
        return sweep.sweep_due_deadlines(first.due_at + timedelta(seconds=1))

    assert await database_sync_to_async(sweep_first)() == 1
    msg = await comm.receive_json_from(timeout=3)
    assert msg["type"] == "sla.breached" and msg["event"]["id"] == event.pk and msg["breach"]["stage"]
    await comm.disconnect()


async def test_seq_increments_per_stream(users, catalog, district):
    leader, _ = await connect_ok(users["leader_s1"])
    disp, _ = await connect_ok(users["dispatcher"])
    await intake(users["platform"])
    await intake(users["platform"], point=S2_POINT)
    await intake(users["platform"])
    street = [m["seq"] for m in await drain(leader, timeout=1)]
    district_seqs = [m["seq"] for m in await drain(disp, timeout=1)]
    assert len(street) == 2 and street[1] == street[0] + 1
    assert len(district_seqs) == 3 and district_seqs == list(range(district_seqs[0], district_seqs[0] + 3))
    # The snapshot's seq for each stream is the last one pushed there.
    snap = await database_sync_to_async(dashboard_selectors.snapshot_for)(users["leader_s1"])
    assert snap["streams"] == {f"cc.street.{district['S1'].pk}": street[-1]}
    await leader.disconnect()
    await disp.disconnect()


async def test_session_cookie_through_auth_middleware(users, catalog):
    """The real stack: a logged-in browser's session cookie authenticates the websocket."""

    def login():
        client = Client()
        client.force_login(users["leader_s1"])
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    session_key = await database_sync_to_async(login)()
    app = AuthMiddlewareStack(ROUTER)
    headers = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode())]
    comm = WebsocketCommunicator(app, "/ws/command/", headers=headers)
    connected, _ = await comm.connect(timeout=3)
    assert connected
    assert (await comm.receive_json_from(timeout=3))["type"] == "hello"
    event = await intake(users["platform"])
    assert (await comm.receive_json_from(timeout=3))["event"]["id"] == event.pk
    await comm.send_json_to({"type": "ping"})
    assert (await comm.receive_json_from(timeout=3)) == {"type": "pong"}
    await comm.disconnect()
    # Without a cookie: anonymous, refused.
    comm = WebsocketCommunicator(app, "/ws/command/")
    connected, code = await comm.connect(timeout=3)
    assert not connected and code == 4401


async def test_a_breach_fired_on_a_plain_thread_reaches_the_dashboard(users, catalog):
    """The embedded default's SLA ticker is a thread with no event loop: its push still arrives."""
    comm, _ = await connect_ok(users["dispatcher"])
    event = await intake(users["platform"])
    await comm.receive_json_from(timeout=3)  # event.created
    first = await database_sync_to_async(lambda: event.deadlines.order_by("due_at").first())()
    fired = []

    def ticker():
        from django.db import connection

        try:
            fired.append(sweep.sweep_due_deadlines(first.due_at + timedelta(seconds=1)))
        finally:
            connection.close()

    thread = threading.Thread(target=ticker)
    thread.start()
    await asyncio.to_thread(thread.join, 10)
    assert fired == [1]
    msg = await comm.receive_json_from(timeout=3)
    assert msg["type"] == "sla.breached" and msg["event"]["id"] == event.pk
    await comm.disconnect()
