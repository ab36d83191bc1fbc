"""Websocket routes. Each app adds its own consumers here."""
from django.urls import path

from command_center.consumers import CommandConsumer, OfficerConsumer
from core.consumers import LinkConsumer

websocket_urlpatterns = [
    path("ws/link/", LinkConsumer.as_asgi()),
    path("ws/command/", CommandConsumer.as_asgi()),
    path("ws/officer/", OfficerConsumer.as_asgi()),
]
