"""The production web tier as README "Running in production" sets it up: nginx with deploy/nginx.conf in front
of two gunicorns (config.wsgi: one for the desks, one for the machine feeds' writes) and uvicorn (config.asgi,
/ws/ only), on PostgreSQL + Redis: an event reported over HTTP reaches the desk's websocket, both through the
proxy, and the proxy sends the machine-feed writes to the feeds' gunicorn and every read to the desks'. The
file is used as it is, with only its addresses and log paths pointed at loopback ports and a temporary directory.

nginx is Debian's `nginx` package: `.ci/run` installs it when missing; elsewhere the test skips without it."""
import asyncio
import json
import os
import re
import shutil
import subprocess
import time
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


def loopback_conf(tmp: Path, listen: int, http_port: int, feeds_port: int, ws_port: int) -> Path:
    """deploy/nginx.conf with its addresses and paths replaced; each replaced line must exist exactly once,
    so the test fails if the file changes shape instead of silently testing something else."""
    text = CONF.read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{http_port};"),
        ("server 127.0.0.1:8001;", f"server 127.0.0.1:{ws_port};"),
        ("server 127.0.0.1:8002;", f"server 127.0.0.1:{feeds_port};"),
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


def gunicorn(port: int, env: dict, log: Path) -> LiveProcess:
    """A gthread gunicorn as README "Running in production" runs one, its access log in `log`."""
    return LiveProcess(python_cmd("-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                                  "--worker-class", "gthread", "--threads", "4", "--keep-alive", "75",
                                  "--access-logfile", "-"), env, log)


@pytest.fixture
def tier(tmp_path):
    """The desks' gunicorn, the feeds' gunicorn (both gthread) and uvicorn on the test database, nginx in
    front; yields the proxy's address and the three servers' processes (their logs say who answered what)."""
    nginx = nginx_binary()
    http_port, feeds_port, ws_port, listen = free_port(), free_port(), free_port(), free_port()
    env = live_env(connection.settings_dict["NAME"], ALLOWED_HOSTS="127.0.0.1,localhost", TRUSTED_PROXY_COUNT="1")
    conf = loopback_conf(tmp_path, listen, http_port, feeds_port, ws_port)
    check = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    with gunicorn(http_port, env, tmp_path / "gunicorn-desks.log") as wsgi, \
            gunicorn(feeds_port, env, tmp_path / "gunicorn-feeds.log") as feeds, \
            LiveProcess(python_cmd("-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port",
                                   str(ws_port), "--ws", "websockets-sansio", "--log-level", "info"),
                        env, tmp_path / "uvicorn.log") as asgi, \
            LiveProcess([nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
                        env, tmp_path / "nginx.out") as proxy:
        for port, proc in ((http_port, wsgi), (feeds_port, feeds), (ws_port, asgi), (listen, proxy)):
            wait_for_port(port, proc)
        yield {"base": f"127.0.0.1:{listen}", "wsgi": wsgi, "feeds": feeds, "asgi": asgi}


def logged(proc: LiveProcess, *request_lines: str, timeout: float = 20.0) -> str:
    """The process's whole log once every request line appears in it (gunicorn writes its access line
    after the answer has left, so the client may be faster than the log); fails at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        text = proc.log_path.read_text(errors="replace")
        missing = [line for line in request_lines if line not in text]
        if not missing:
            return text
        if time.monotonic() > deadline:
            pytest.fail(f"not in {proc.log_path.name} after {timeout} s: {missing}\n{text[-3000:]}")
        time.sleep(0.05)


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
    # Who answered what: the desks' gunicorn the snapshot, the feeds' gunicorn the report, neither a
    # websocket; uvicorn no API call.
    wsgi_log = logged(tier["wsgi"], '"GET /api/v1/command/snapshot/ HTTP/1.1" 200')
    feeds_log = logged(tier["feeds"], '"POST /api/v1/events/ HTTP/1.1" 201')
    assert "/ws/" not in wsgi_log and "/ws/" not in feeds_log
    assert "/api/v1/" not in tier["asgi"].output()


@pytest.mark.django_db(transaction=True)
def test_machine_feed_writes_go_to_the_feeds_workers_and_everything_else_to_the_desks(tier, users, catalog):
    """The bulkhead of deploy/nginx.conf: reports from machines (synchronous, `Prefer: respond-async`,
    bulk, Open311) are answered by the feeds' gunicorn; the desk's reads, the list of events and the
    submission's status by the desks' gunicorn."""
    live_password(users["dispatcher"], users["platform"])
    base = tier["base"]
    report = {"source": "platform", "problem_type": "ZDJY", "description": "人行道上有流动摊贩占道经营",
              "lat": S1_POINT[0], "lng": S1_POINT[1]}
    with httpx.Client(base_url=f"http://{base}", timeout=30, follow_redirects=False) as client:
        token = client.post("/api/v1/auth/token/", data={"username": "platform", "password": PASSWORD}).json()["token"]
        api = {"Authorization": f"Token {token}"}
        synchronous = client.post("/api/v1/events/", headers=api, json={**report, "external_id": "feed-sync"})
        accepted = client.post("/api/v1/events/", headers={**api, "Prefer": "respond-async"},
                               json={**report, "external_id": "feed-async"})
        bulk = client.post("/api/v1/event-submissions/", headers=api, json={"events": [
            {**report, "external_id": f"feed-bulk-{i}"} for i in range(3)]})
        # Open311 with the doubled slash some clients send: nginx matches the normalised path.
        open311 = client.post("/open311/v2//requests.json", data={
            "api_key": token, "service_code": "ZDJY", "lat": S1_POINT[0], "long": S1_POINT[1],
            "description": "人行道上有流动摊贩"})
        status = client.get(accepted.headers["Location"], headers=api)
        listed = client.get("/api/v1/events/", headers=api)
        login(client, "dispatcher")
        snapshot = client.get("/api/v1/command/snapshot/")

    assert synchronous.status_code == 201, synchronous.text[:500]
    assert accepted.status_code == 202 and bulk.status_code == 202, (accepted.text[:300], bulk.text[:300])
    assert open311.status_code == 200, open311.text[:500]
    assert status.status_code == 200 and listed.status_code == 200 and snapshot.status_code == 200
    submission = accepted.headers["Location"]
    feeds_log = logged(tier["feeds"], '"POST /api/v1/events/ HTTP/1.1" 201', '"POST /api/v1/events/ HTTP/1.1" 202',
                       '"POST /api/v1/event-submissions/ HTTP/1.1" 202', '"POST /open311/v2//requests.json HTTP/1.1" 200')
    desks_log = logged(tier["wsgi"], '"POST /api/v1/auth/token/ HTTP/1.1" 200', f'"GET {submission} HTTP/1.1" 200',
                       '"GET /api/v1/events/ HTTP/1.1" 200', '"POST /login/ HTTP/1.1" 302',
                       '"GET /api/v1/command/snapshot/ HTTP/1.1" 200')
    # Each request was answered once, by one tier: no read on the feeds, no machine report on the desks.
    assert not re.search(r'"GET |/login/|/auth/token/', feeds_log), feeds_log[-2000:]
    assert not re.search(r'"POST /(api/v1/events|api/v1/event-submissions|open311)/', desks_log), desks_log[-2000:]
