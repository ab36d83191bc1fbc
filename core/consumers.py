from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core import safejson

# Clients send pings; nothing they may send is big. A frame over this is answered as bad, not parsed.
WS_FRAME_MAX_BYTES = 64 * 1024


class SafeJsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON consumer that survives any frame: a binary, oversized, malformed or deeply nested one is
    answered with {"type": "error", "code": ...} and the connection stays open (Channels' own would
    raise and drop the socket)."""

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not text_data:
            await self.send_json({"type": "error", "code": "invalid"})
            return
        try:
            content = safejson.loads(text_data, limit_bytes=WS_FRAME_MAX_BYTES)
        except safejson.JsonRejected as exc:
            await self.send_json({"type": "error", "code": exc.kind})
            return
        except ValueError:
            await self.send_json({"type": "error", "code": "invalid"})
            return
        await self.receive_json(content, **kwargs)

    @classmethod
    async def decode_json(cls, text_data):
        return safejson.loads(text_data, limit_bytes=WS_FRAME_MAX_BYTES)


class LinkConsumer(SafeJsonConsumer):
    """A link check for pages that show "connection lost": answers ping with pong, logged-in users only."""

    async def connect(self):
        user = self.scope.get("user")
        if not user or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username()})

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "seq": content.get("seq")})
