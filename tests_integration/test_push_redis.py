"""Live push across processes: the service commits in one "process" (its own RedisChannelLayer
instance), a dashboard's websocket lives in another; seq numbers come from Redis, shared by both."""
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections

from command_center import push
from command_center.dashboard import selectors as dashboard_selectors
from command_center.services import intake
from command_center.testing import S1_POINT
from config.routing import websocket_urlpatterns

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _intake(client):
    lat, lng = S1_POINT
    return intake.intake_event(client, {
        "source": "citizen", "problem_type": "ZDJY", "description": "占道经营", "lat": lat, "lng": lng,
        "external_id": uuid.uuid4().hex,
    })[0]


@pytest.fixture
def web_process_a(monkeypatch):
    """The service's process: its own layer instance (the consumer below uses the default one)."""
    layer_a = channel_layers.make_backend("default")
    assert type(layer_a).__name__ == "RedisChannelLayer" and layer_a is not get_channel_layer()
    def send_from_a(messages, wait=True):  # sent here and now, whether or not the caller would wait
        for group, message in messages:
            async_to_sync(layer_a.group_send)(group, message)

    monkeypatch.setattr(push, "_group_send_many", send_from_a)
    push.reset_sequence()
    yield layer_a
    push.reset_sequence()


async def test_a_push_from_one_process_reaches_a_websocket_on_another(users, catalog, district,  # noqa: F811
                                                                       web_process_a):
    assert isinstance(push.get_sequence(), push.RedisSequence)
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/command/")
    comm.scope["user"] = users["leader_s1"]
    connected, _ = await comm.connect(timeout=5)
    assert connected
    assert (await comm.receive_json_from(timeout=5))["type"] == "hello"
    # A bare member of the district group on a third instance ("process") receives it too.
    layer_c = channel_layers.make_backend("default")
    channel_c = await layer_c.new_channel()
    await layer_c.group_add(push.DISTRICT_GROUP, channel_c)
    try:
        first = await database_sync_to_async(_intake)(users["platform"])
        second = await database_sync_to_async(_intake)(users["platform"])
        m1 = await comm.receive_json_from(timeout=5)
        m2 = await comm.receive_json_from(timeout=5)
        assert (m1["type"], m1["event"]["id"], m2["event"]["id"]) == ("event.created", first.pk, second.pk)
        assert m1["stream"] == f"cc.street.{district['S1'].pk}" and m2["seq"] == m1["seq"] + 1
        got = await layer_c.receive(channel_c)
        assert got["payload"]["event"]["id"] == first.pk and got["payload"]["stream"] == push.DISTRICT_GROUP
        # The seq lives in Redis: a fresh sequence object (another process) reads the same numbers.
        other = push.RedisSequence(settings.REDIS_URL)
        assert (await database_sync_to_async(other.current)([m1["stream"]]))[m1["stream"]] == m2["seq"]
        snap = await database_sync_to_async(dashboard_selectors.snapshot_for)(users["leader_s1"])
        assert snap["streams"][m1["stream"]] == m2["seq"]
        assert {r["id"] for r in snap["events"]} >= {first.pk, second.pk}
    finally:
        await layer_c.group_discard(push.DISTRICT_GROUP, channel_c)
        await comm.disconnect()
        # The worker thread's connection (CONN_MAX_AGE keeps it) must not hold the test database open.
        await database_sync_to_async(connections.close_all)()


async def test_the_committer_hands_the_push_over_and_its_row_is_marked_once_sent(users, catalog, district,
                                                                                 monkeypatch):
    """No stand-in for the send: the request's thread hands the push to the process's sender loop (the real
    Redis layer) and goes on; the outbox row is marked done by the sender once the push is out."""
    from core import outbox
    from core.models import OutboxMessage

    real_send, waited = push._group_send_many, []

    def recorded(messages, wait=True):
        waited.append(wait)
        return real_send(messages, wait=wait)

    monkeypatch.setattr(push, "_group_send_many", recorded)
    push.reset_sequence()
    layer = channel_layers.make_backend("default")
    channel = await layer.new_channel()
    await layer.group_add(push.DISTRICT_GROUP, channel)
    try:
        event = await database_sync_to_async(_intake)(users["platform"])
        got = await layer.receive(channel)
        assert got["payload"]["event"]["id"] == event.pk and got["payload"]["type"] == "event.created"
        assert waited == [False]  # handed over, not waited for

        def marked():
            outbox.wait_sent(10)
            return OutboxMessage.objects.get(kind="command_center.push.event", payload__event_id=event.pk).done_at

        assert await database_sync_to_async(marked)() is not None
    finally:
        await layer.group_discard(push.DISTRICT_GROUP, channel)
        push.reset_sequence()
        await database_sync_to_async(connections.close_all)()
