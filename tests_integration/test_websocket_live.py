"""A real websocket: daphne serving config.asgi in its own process on PostgreSQL + Redis, a user who
logged in over HTTP, and the `websockets` client speaking to /ws/link/."""
import asyncio
import json
import re

import httpx
import pytest
import websockets
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests_integration.conftest import LiveProcess, free_port, live_env, python_cmd, wait_for_port

pytestmark = pytest.mark.integration

PASSWORD = "live-pass-word-1"


def make_user(username):
    """A user whose password the live server can check: the tests' fast MD5 hasher (root conftest) is
    not in the live server's PASSWORD_HASHERS, so store a real (cheap) PBKDF2 hash."""
    hasher = PBKDF2PasswordHasher()
    return get_user_model().objects.create(
        username=username, password=hasher.encode(PASSWORD, hasher.salt(), iterations=1000))


@pytest.fixture
def live_server_url(tmp_path):
    """daphne on a free port, using pytest-django's test database (hence transaction=True below)."""
    port = free_port()
    env = live_env(connection.settings_dict["NAME"], ALLOWED_HOSTS="127.0.0.1,localhost")
    with LiveProcess(python_cmd("-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"),
                     env, tmp_path / "daphne.log") as proc:
        wait_for_port(port, proc)
        yield f"127.0.0.1:{port}"


def login(base: str, username: str, password: str) -> str:
    """Log in through the login page like a browser; returns the session cookie."""
    with httpx.Client(base_url=f"http://{base}", timeout=10, follow_redirects=False) as client:
        page = client.get("/login/")
        assert page.status_code == 200, page.text[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post("/login/", data={"username": username, "password": password,
                                                "csrfmiddlewaretoken": token})
        assert response.status_code == 302, f"login failed: {response.status_code} {response.text[:500]}"
        session = client.cookies.get("sessionid")
        assert session, "no session cookie after login"
        return session


async def _talk(base: str, session: str):
    headers = {"Cookie": f"sessionid={session}", "Origin": f"http://{base}"}
    async with websockets.connect(f"ws://{base}/ws/link/", additional_headers=headers, open_timeout=10) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        await ws.send(json.dumps({"type": "ping", "seq": 1}))
        pong = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        await ws.send(json.dumps({"type": "ping", "seq": 2}))
        pong2 = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
    return hello, pong, pong2


async def _anonymous(base: str, origin: str):
    """How the server refuses: a rejected handshake (HTTP status) or a close frame (code)."""
    try:
        async with websockets.connect(f"ws://{base}/ws/link/", additional_headers={"Origin": origin},
                                      open_timeout=10) as ws:
            try:
                await asyncio.wait_for(ws.recv(), timeout=10)
            except websockets.ConnectionClosed as closed:
                return ("closed", closed.rcvd.code if closed.rcvd else None)
            return ("open", None)
    except websockets.InvalidStatus as exc:
        return ("rejected", exc.response.status_code)


@pytest.mark.django_db(transaction=True)
def test_logged_in_user_gets_hello_and_pong(live_server_url):
    make_user("ws_user")
    session = login(live_server_url, "ws_user", PASSWORD)

    hello, pong, pong2 = asyncio.run(_talk(live_server_url, session))

    assert hello == {"type": "hello", "user": "ws_user"}
    assert pong == {"type": "pong", "seq": 1}
    assert pong2 == {"type": "pong", "seq": 2}


@pytest.mark.django_db(transaction=True)
def test_anonymous_and_foreign_origin_are_refused(live_server_url):
    # Anonymous: the consumer closes with 4401 in connect(); before accept() Channels turns that
    # into a rejected handshake (HTTP 403), so either form counts as refused.
    outcome = asyncio.run(_anonymous(live_server_url, f"http://{live_server_url}"))
    assert outcome in {("closed", 4401), ("rejected", 403)}, outcome
    # A page on another origin can't ride the user's cookie (AllowedHostsOriginValidator).
    make_user("ws_user2")
    session = login(live_server_url, "ws_user2", PASSWORD)

    async def foreign():
        try:
            async with websockets.connect(f"ws://{live_server_url}/ws/link/", open_timeout=10, additional_headers={
                    "Cookie": f"sessionid={session}", "Origin": "http://evil.example"}) as ws:
                await asyncio.wait_for(ws.recv(), timeout=10)
                return "open"
        except websockets.InvalidStatus as exc:
            return exc.response.status_code
        except websockets.ConnectionClosed:
            return "closed"

    assert asyncio.run(foreign()) in {403, "closed"}
