"""The Redis channel layer carries a group message from one consumer's channel to another's."""
import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer

pytestmark = pytest.mark.integration


@pytest.mark.asyncio
async def test_group_send_reaches_every_member_through_redis():
    layer = get_channel_layer()
    group = f"it-{uuid.uuid4().hex}"
    a, b = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(group, a)
    await layer.group_add(group, b)
    try:
        await layer.group_send(group, {"type": "event.created", "id": 7})
        got_a = await asyncio.wait_for(layer.receive(a), timeout=5)
        got_b = await asyncio.wait_for(layer.receive(b), timeout=5)
        assert got_a == got_b == {"type": "event.created", "id": 7}
        await layer.group_discard(group, b)
        await layer.group_send(group, {"type": "event.updated", "id": 8})
        assert (await asyncio.wait_for(layer.receive(a), timeout=5))["id"] == 8
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(b), timeout=0.5)
    finally:
        await layer.group_discard(group, a)  # no flush(): other processes may share this Redis DB


@pytest.mark.asyncio
async def test_a_second_layer_instance_sees_the_same_redis():
    """Two processes = two layer instances: a message sent on one is received on the other."""
    from channels.layers import channel_layers

    sender = channel_layers.make_backend("default")
    receiver = get_channel_layer()
    channel = await receiver.new_channel()
    await sender.send(channel, {"type": "link.ping", "seq": 3})
    assert (await asyncio.wait_for(receiver.receive(channel), timeout=5)) == {"type": "link.ping", "seq": 3}


@pytest.mark.asyncio
async def test_an_idle_receive_outlasts_the_blocking_pop():
    """A desk's consumer waits in the layer's blocking pop (BZPOPMIN, `brpop_timeout` seconds) for as long
    as nothing happens. The Redis client's socket timeout must not be shorter, or every idle consumer
    dies with a TimeoutError (redis-py 8 set a 5 s default: see the pin in requirements.txt)."""
    from channels.layers import channel_layers

    layer = channel_layers.make_backend("default")
    connection = layer.connection(0)
    try:
        pool = connection.connection_pool
        socket_timeout = pool.connection_class(**pool.connection_kwargs).socket_timeout  # with the client's defaults
        assert socket_timeout is None or socket_timeout > layer.brpop_timeout, socket_timeout
    finally:
        await connection.aclose()


@pytest.mark.asyncio
async def test_group_send_many_reaches_exactly_whom_group_send_reaches():
    """Several groups in one call (the live push's street and district): every member of each group gets
    that group's message, in the order given, as group_send delivers it; a group without members is skipped;
    a member at capacity is skipped as group_send skips it."""
    from channels.layers import channel_layers

    layer = get_channel_layer()
    assert hasattr(layer, "group_send_many")
    street, district, empty = (f"it-{name}-{uuid.uuid4().hex}" for name in ("street", "district", "empty"))
    leader, dispatcher, both = [await layer.new_channel() for _ in range(3)]
    await layer.group_add(street, leader)
    await layer.group_add(district, dispatcher)
    for group in (street, district):
        await layer.group_add(group, both)
    try:
        await layer.group_send_many([(street, {"type": "event.created", "seq": 1}),
                                     (district, {"type": "event.created", "seq": 9}),
                                     (empty, {"type": "event.created", "seq": 0})])
        assert await asyncio.wait_for(layer.receive(leader), 5) == {"type": "event.created", "seq": 1}
        assert await asyncio.wait_for(layer.receive(dispatcher), 5) == {"type": "event.created", "seq": 9}
        assert [(await asyncio.wait_for(layer.receive(both), 5))["seq"] for _ in range(2)] == [1, 9]
        # The same as the library's own group_send, from another instance ("process").
        other = channel_layers.make_backend("default")
        await other.group_send(street, {"type": "event.updated", "seq": 2})
        await layer.group_send_many([(street, {"type": "event.updated", "seq": 3})])
        assert [(await asyncio.wait_for(layer.receive(leader), 5))["seq"] for _ in range(2)] == [2, 3]
        # At capacity: skipped, as group_send skips it.
        full = channel_layers.make_backend("default")
        full.capacity = 1
        await full.group_send_many([(street, {"type": "x", "seq": 4}), (street, {"type": "x", "seq": 5})])
        assert (await asyncio.wait_for(layer.receive(leader), 5))["seq"] == 4
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(leader), timeout=0.5)
        assert [(await asyncio.wait_for(layer.receive(both), 5))["seq"] for _ in range(3)] == [2, 3, 4]
    finally:
        for group, channel in ((street, leader), (street, both), (district, dispatcher), (district, both)):
            await layer.group_discard(group, channel)
