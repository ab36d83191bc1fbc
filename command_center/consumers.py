"""`/ws/command/`: the dashboards' live feed (see command_center.push for the message format); `/ws/officer/`:
the officer's own stream for the phone page (command_center.mobile.push)."""
import asyncio

from channels.db import database_sync_to_async

from command_center import push
from command_center.mobile import push as officer_push
from command_center.mobile import selectors as mobile_selectors
from core.consumers import SafeJsonConsumer
from core.roles import BUREAU_STAFF, DISPATCHER, TEAM_LEADER, has_role
from grids import selectors as grid_selectors

FEED_ROLES = (DISPATCHER, TEAM_LEADER, BUREAU_STAFF)
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _access(user):
    """(may connect, area paths) for the user: roles and areas read once, at connect."""
    if not getattr(user, "is_authenticated", False) or not has_role(user, *FEED_ROLES):
        return False, []
    return True, grid_selectors.user_area_paths(user)


class CommandConsumer(SafeJsonConsumer):
    """Joins one group per street the user covers (or the district's); forwards what concerns the user's
    areas. On connect it says which streams it joined: the client fetches the snapshot next."""

    groups_joined: list = []

    async def connect(self):
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        allowed, paths = await _access(user)
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.paths = paths
        push.remember_loop(asyncio.get_running_loop())
        for group in push.groups_for_paths(paths):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        await self.send_json({"type": "hello", "streams": self.groups_joined})

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def cc_push(self, message):
        # A user bound below a street (a grid) joins the street's group: only its own areas go out.
        if grid_selectors.paths_cover(self.paths, message.get("path")):
            await self.send_json(message["payload"])


@database_sync_to_async
def _own_officer_id(user):
    """The officer record's id of a user with the officer role, or None."""
    officer = mobile_selectors.officer_of(user)
    return officer.pk if officer is not None else None


class OfficerConsumer(SafeJsonConsumer):
    """`/ws/officer/`: the signed-in officer's own stream (command_center.mobile.push). The officer is the
    session's, never one the client names: nobody else's socket can join it."""

    group = None

    async def connect(self):
        self.group = None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        officer_id = await _own_officer_id(user)
        if officer_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        push.remember_loop(asyncio.get_running_loop())
        self.group = officer_push.officer_group(officer_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "officer": officer_id})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def officer_push(self, message):
        await self.send_json(message["payload"])
