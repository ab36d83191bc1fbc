"""The production channel layer: channels-redis's, plus one call, `group_send_many`.

A live push goes to two groups (the event's street and the district). channels-redis sends each group on its
own: two round trips to find and prune the group's members, two more to deliver (prune the members'
queues, run the delivery script), each through redis-py's asyncio client, whose fixed cost per command was
most of the push's (~2.5% of an intake's CPU per round trip, py-spy on the production tier).
`group_send_many` sends several groups in two pipelined round trips per Redis host. What reaches whom is
the library's own: the same member look-up and expiry, `_map_channel_keys_to_connection` for the messages,
the same delivery script (copied from channels-redis 4.3.0's `group_send`, pinned in requirements.txt), so a
message reaches exactly the channels `group_send` would reach, serialised the same way.
"""
import collections
import logging
import time

from channels_redis.core import RedisChannelLayer as LibraryRedisChannelLayer

logger = logging.getLogger(__name__)

# channels-redis 4.3.0's group delivery script (RedisChannelLayer.group_send): each channel's queue gets the
# message unless it is at capacity; returns how many were over capacity.
GROUP_SEND_LUA = """
    local over_capacity = 0
    local current_time = ARGV[#ARGV - 1]
    local expiry = ARGV[#ARGV]
    for i=1,#KEYS do
        if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
            redis.call('ZADD', KEYS[i], current_time, ARGV[i])
            redis.call('EXPIRE', KEYS[i], expiry)
        else
            over_capacity = over_capacity + 1
        end
    end
    return over_capacity
"""


class RedisChannelLayer(LibraryRedisChannelLayer):
    """channels_redis.core.RedisChannelLayer with `group_send_many` (see the module docstring)."""

    async def group_send_many(self, sends) -> None:
        """Send each (group, message) of `sends` to the group's members, in order, as `group_send` would."""
        sends = list(sends)
        for group, _message in sends:
            assert self.require_valid_group_name(group), "Group name not valid"
        members = await self._members(sends)
        deliveries = collections.defaultdict(list)  # host index -> [(group, member count, keys, args)]
        now = 0.0
        for (group, message), channel_names in zip(sends, members):
            if not channel_names:
                continue
            # A channel's queue is ordered by this time: each send's later than the one before, so a channel
            # in two groups receives their messages in the order given (group_send's own round trips did that).
            now = max(time.time(), now + 1e-6)
            keys_by_host, key_message, key_capacity = self._map_channel_keys_to_connection(channel_names, message)
            for index, keys in keys_by_host.items():
                args = [key_message[k] for k in keys] + [key_capacity[k] for k in keys] + [now, self.expiry]
                deliveries[index].append((group, len(channel_names), keys, args))
        for index, items in deliveries.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for _group, _count, keys, args in items:
                for key in keys:  # the members' old messages, as group_send discards them
                    pipe.zremrangebyscore(key, min=0, max=int(time.time()) - int(self.expiry))
                pipe.eval(GROUP_SEND_LUA, len(keys), *keys, *args)
            replies = await pipe.execute()
            at = 0
            for group, count, keys, _args in items:
                at += len(keys) + 1
                if replies[at - 1] > 0:
                    logger.info("%s of %s channels over capacity in group %s", replies[at - 1], count, group)

    async def _members(self, sends) -> list[list[str]]:
        """Each send's group members, the expired ones pruned first: one pipeline per host."""
        members = [[] for _ in sends]
        by_host = collections.defaultdict(list)
        for position, (group, _message) in enumerate(sends):
            by_host[self.consistent_hash(group)].append(position)
        expired = int(time.time()) - self.group_expiry
        for index, positions in by_host.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for position in positions:
                key = self._group_key(sends[position][0])
                pipe.zremrangebyscore(key, min=0, max=expired)
                pipe.zrange(key, 0, -1)
            replies = await pipe.execute()
            for n, position in enumerate(positions):
                members[position] = [name.decode("utf8") for name in replies[2 * n + 1]]
        return members
