"""The production web tier as README "Running in production" sets it up: nginx with deploy/nginx.conf in front
of gunicorn (config.wsgi, HTTP) and uvicorn (config.asgi, /ws/ only), on PostgreSQL + Redis: an event reported
over HTTP reaches the desk's websocket, both through the proxy. The file is
used as it is, with only its addresses and log paths pointed at loopback ports and a temporary directory.

nginx is Debian's `nginx` package: `.ci/run` installs it when missing; elsewhere the test skips without it."""
import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import websockets
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from command_center.testing import S1_POINT
from tests_integration.conftest import ROOT, LiveProcess, free_port, live_env, python_cmd, wait_for_port

pytestmark = pytest.mark.integration

PASSWORD = "tier-pass-word-1"
CONF = ROOT / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing on CI (.ci/run installs Debian's nginx package)")
        pytest.skip("nginx not installed (apt-get install nginx)")
    return found


def loopback_conf(tmp: Path, listen: int, http_port: int, ws_port: int) -> Path:
    """deploy/nginx.conf with its addresses and paths replaced; each replaced line must exist exactly once,
    so the test fails if the file changes shape instead of silently testing something else."""
    text = CONF.read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{http_port};"),
        ("server 127.0.0.1:8001;", f"server 127.0.0.1:{ws_port};"),
        ("pid /run/nginx-command-center.pid;", f"pid {tmp}/nginx.pid;"),
        ("error_log /var/log/nginx/command-center-error.log warn;", f"error_log {tmp}/error.log warn;"),
        ("access_log /var/log/nginx/command-center-access.log;", f"access_log {tmp}/access.log;"),
    ):
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has exactly one {old!r}"
        text = text.replace(old, new)
    # Temporary files in the test's directory (the package's defaults need root).
    text = text.replace("http {", "http {\n" + "".join(
        f"    {kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")), 1)
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


@pytest.fixture
def tier(tmp_path):
    """gunicorn (gthread) and uvicorn on the test database, nginx in front; yields the proxy's address and
    the two servers' processes (their logs say who answered what)."""
    nginx = nginx_binary()
    http_port, ws_port, listen = free_port(), free_port(), free_port()
    env = live_env(connection.settings_dict["NAME"], ALLOWED_HOSTS="127.0.0.1,localhost", TRUSTED_PROXY_COUNT="1")
    conf = loopback_conf(tmp_path, listen, http_port, ws_port)
    check = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    with LiveProcess(python_cmd("-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{http_port}",
                                "--worker-class", "gthread", "--threads", "4", "--keep-alive", "75",
                                "--access-logfile", "-"),
                     env, tmp_path / "gunicorn.log") as wsgi, \
            LiveProcess(python_cmd("-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port",
                                   str(ws_port), "--ws", "websockets-sansio", "--log-level", "info"),
                        env, tmp_path / "uvicorn.log") as asgi, \
            LiveProcess([nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
                        env, tmp_path / "nginx.out") as proxy:
        for port, proc in ((http_port, wsgi), (ws_port, asgi), (listen, proxy)):
            wait_for_port(port, proc)
        yield {"base": f"127.0.0.1:{listen}", "wsgi": wsgi, "asgi": asgi}


def live_password(*users):
    """Passwords the live servers can check (a real, cheap PBKDF2 hash: the tests' MD5 hasher is not in
    their PASSWORD_HASHERS)."""
    hasher = PBKDF2PasswordHasher()
    for user in users:
        user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
        user.save(update_fields=["password"])


def login(client: httpx.Client, username: str) -> str:
    page = client.get("/login/")
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post("/login/", data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302, f"login failed: {response.status_code} {response.text[:500]}"
    return client.cookies.get("sessionid")


async def desk_socket(base: str, session: str, token: str):
    """The desk's socket through the proxy: hello, ping/pong, then an event reported over HTTP (to the
    WSGI workers) must arrive on it (from the ASGI server, through Redis). Returns (hello, pong, created id,
    pushed message)."""
    headers = {"Cookie": f"sessionid={session}", "Origin": f"http://{base}"}
    async with websockets.connect(f"ws://{base}/ws/command/", additional_headers=headers, open_timeout=20) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
        await ws.send(json.dumps({"type": "ping"}))
        pong = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
        async with httpx.AsyncClient(base_url=f"http://{base}", timeout=30) as client:
            created = await client.post("/api/v1/events/", headers={"Authorization": f"Token {token}"}, json={
                "source": "citizen", "problem_type": "ZDJY", "description": "人行道上有流动摊贩占道经营",
                "lat": S1_POINT[0], "lng": S1_POINT[1]})
        assert created.status_code == 201, created.text[:500]
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
            if message.get("type") == "event.created":
                return hello, pong, created.json()["id"], message


async def anonymous_socket(base: str):
    try:
        async with websockets.connect(f"ws://{base}/ws/command/", additional_headers={"Origin": f"http://{base}"},
                                      open_timeout=20) as ws:
            await asyncio.wait_for(ws.recv(), timeout=20)
            return "open"
    except websockets.InvalidStatus as exc:
        return exc.response.status_code
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


@pytest.mark.django_db(transaction=True)
def test_api_goes_to_the_wsgi_workers_and_websockets_to_the_asgi_server(tier, users, catalog):
    live_password(users["dispatcher"], users["platform"])
    base = tier["base"]
    with httpx.Client(base_url=f"http://{base}", timeout=30, follow_redirects=False) as client:
        session = login(client, "dispatcher")
        snapshot = client.get("/api/v1/command/snapshot/")
        refused = httpx.get(f"http://{base}/api/v1/command/snapshot/", timeout=30)
    token = httpx.post(f"http://{base}/api/v1/auth/token/", data={"username": "platform", "password": PASSWORD},
                       timeout=30).json()["token"]

    assert snapshot.status_code == 200, snapshot.text[:500]
    assert {"events", "officers"} <= set(snapshot.json())
    assert refused.status_code in (401, 403)
    hello, pong, created_id, pushed = asyncio.run(desk_socket(base, session, token))
    assert hello["type"] == "hello" and hello["streams"], hello
    assert pong == {"type": "pong"}
    assert pushed["event"]["id"] == created_id
    assert asyncio.run(anonymous_socket(base)) in {4401, 403}
    # Who answered what: gunicorn logged the API calls and no websocket; uvicorn no API call.
    wsgi_log, asgi_log = tier["wsgi"].output(), tier["asgi"].output()
    assert "GET /api/v1/command/snapshot/" in wsgi_log and "POST /api/v1/events/" in wsgi_log
    assert "/ws/" not in wsgi_log
    assert "/api/v1/" not in asgi_log
