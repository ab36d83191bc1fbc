from channels.generic.websocket import AsyncJsonWebsocketConsumer


class LinkConsumer(AsyncJsonWebsocketConsumer):
    """A link check for pages that show "connection lost": answers ping with pong, logged-in users only."""

    async def connect(self):
        user = self.scope.get("user")
        if not user or not user.is_authenticated:
            await self.close(code=4401)
            return
        await self.accept()
        await self.send_json({"type": "hello", "user": user.get_username()})

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "seq": content.get("seq")})
