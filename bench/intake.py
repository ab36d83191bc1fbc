"""Event intake benchmark (issues 4 and 18): the real servers, over the network, side by side in one run.

Targets: events/s through `POST /api/v1/events/` ≥ 0.35 × the events/s of a bare DRF endpoint that inserts
one row, on the chosen production tier (issue 18; issue 4's 0.6 was declined: it needed the rules twice, once in
SQL), same run; p95 time from POST to the websocket message `event.created` on
`/ws/command/` ≤ 100 ms at 200 events/s offered; POST answered p95 and push p95 ≤ 100 ms at 50% and 80% of
the server's measured intake capacity; the chosen web tier's bare insert and the desk's snapshot read
≥ 1.8 × uvicorn with 1 worker (server kinds and the table: bench/_tiers.py).

1. A bench database: PostgreSQL + Redis when both answer (`BENCH_DATABASE_URL`, default
   postgres://postgres@127.0.0.1:5432/bench_intake, dropped and created afresh; `BENCH_REDIS_URL`, default
   redis://127.0.0.1:6379/4, flushed), else a temporary SQLite file with the in-memory channel layer (one
   process, so uvicorn gets one worker) and a note. Real migrations and the demo district's grids, catalog
   and command-center parts (816 areas, ~3,000 subjects, 385 matters, 1,536 delegations, SLA policies)
   under config.settings_bench, which adds the bench-only baseline `POST /api/v1/bench/bare/` (app
   bench.bare) to the real settings. On PostgreSQL the loaded database is kept as a template
   (`<name>_tpl_<hash of migrations and demo loaders>`) and copied on later runs.
2. Starts every server (`--servers`, default uvicorn1, gunicorn1, gunicorn2, gthread1x8, gthread2x4; see
   bench/_tiers.py) as a subprocess, warms each up, then
   - reads: the dispatcher's snapshot (`GET /api/v1/command/snapshot/`, session cookie), `--clients` ×
     `--seconds`, before any intake so every server reads the same data;
   - throughput: `--clients` concurrent keep-alive connections, token-authenticated as the demo API client
     `platform`, POST as fast as answered; bare and intake alternate, server after server, in 2 rounds of
     `--seconds`/2 (so a shared machine's background load falls on all alike); events/s = 2xx / time;
   - push latency, server by server: a websocket client logged in as `dispatcher` (session cookie from the
     login page) on /ws/command/; events are POSTed open-loop at `--rate`/s for `--push-seconds` (at most
     32 in flight); latency = arrival of the event's `event.created` message − the time its POST was due
     (so a server that falls behind shows it); then at `--easy-fraction` and `--busy-fraction` of the
     server's measured intake rate (also POST answered p50/p95).
   Payloads: the demo's problem types at subjects' points, mixed sources, a unique external_id each.
3. Prints the figures, PASS/FAIL per target and server, and which server measured best.

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams, not httpx: on 2 shared
cores httpx's own CPU per request would cap the cheap baseline and flatter the ratio.

    .venv/bin/python bench/intake.py [--servers uvicorn1,gthread1x8] [--seconds 4] [--clients 8] [--rate 200]
        [--push-seconds 3] [--easy-fraction 0.5] [--busy-fraction 0.8] [--tier gthread1x8] [--sqlite]

A measurement: it exits 0 whether the targets are met or not (the PASS/FAIL lines say which).
"""
import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _tiers  # noqa: E402
from bench._common import bench_secret_key  # noqa: E402

TARGET_RATIO = _tiers.INTAKE_RATIO  # intake events/s against the bare insert's, same server and run (issue 18)
TARGET_P95_MS = 100.0
MAX_IN_FLIGHT = 32  # push phase: concurrent POSTs at most
GIVE_UP_AFTER_S = 2.0  # push phase: requests not sent this long after the schedule ends are skipped
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_intake")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
# The demo district's parts the fixture needs: areas, subjects, officers, users; the catalog; SLA policies.
DEMO_PARTS = ("grids.demo.load", "enforcement.demo.load", "command_center.demo.load")
SOURCES = ("citizen", "grid_worker", "collector", "sensor", "ai_camera", "hotline_12345")


# --- set-up -------------------------------------------------------------------------------------

def services_up() -> bool:
    try:
        import psycopg2
        import redis

        dsn = PG_URL.rsplit("/", 1)[0] + "/postgres"
        psycopg2.connect(dsn, connect_timeout=3).close()
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return True
    except Exception as exc:  # noqa: BLE001 — any failure means: fall back to SQLite
        print(f"note: PostgreSQL/Redis not reachable ({type(exc).__name__}: {exc}); using SQLite")
        return False


def data_fingerprint() -> str:
    """What the bench database is made of (migrations, demo loaders): a change rebuilds the template."""
    h = hashlib.sha256()
    files = sorted(ROOT.glob("*/migrations/*.py")) + sorted(ROOT.glob("bench/bare/migrations/*.py"))
    files += [ROOT / f"{path.rsplit('.', 1)[0].replace('.', '/')}.py" for path in DEMO_PARTS]
    files += sorted(ROOT.glob("grids/demo_*.py"))
    for path in files:
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _admin_conn():
    import psycopg2

    conn = psycopg2.connect(PG_URL.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    return conn


def fresh_postgres() -> bool:
    """Drop and create the bench database, from a template when one holds the same migrations and demo
    data (migrating and loading the demo take 15–50 s on a busy machine; a copy takes about one).
    Returns True when the copy already holds the data."""
    name = PG_URL.rsplit("/", 1)[1]
    template = f"{name}_tpl_{data_fingerprint()}"
    conn = _admin_conn()
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        have = cur.fetchone() is not None
        if have:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{name}_tpl_%"])
            for (old,) in cur.fetchall():
                cur.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return have


def save_template():
    name = PG_URL.rsplit("/", 1)[1]
    conn = _admin_conn()
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}_tpl_{data_fingerprint()}" TEMPLATE "{name}"')
    conn.close()


def flush_redis():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def server_env(backend_env: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH")}
    env.update(backend_env, DJANGO_SETTINGS_MODULE="config.settings_bench", ALLOWED_HOSTS="127.0.0.1,localhost",
               LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    return env


def prepare(backend_env: dict, seed: int, loaded: bool):
    """Migrate and load the demo district in this process (unless `loaded`); return the payload
    ingredients."""
    os.environ.update(server_env(backend_env))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from enforcement.models import ProblemType
    from grids.models import Subject

    if not loaded:
        call_command("migrate", verbosity=0)
        # The parts of `load_demo` intake needs, as it calls them (one transaction, each sees the
        # earlier parts' results); credit scoring and the dashboard's large load are left out (slow here).
        from django.db import transaction
        from django.utils.module_loading import import_string

        from grids.demo import DEFAULT_SEED

        results = {}
        with transaction.atomic():
            for path in DEMO_PARTS:
                results[path] = import_string(path)(seed=DEFAULT_SEED, stdout=None, results=results, large=False) or {}
    problem_types = list(ProblemType.objects.filter(active=True).order_by("code").values_list("code", "name"))
    points = list(Subject.objects.order_by("id").values_list("lat", "lng"))
    connections.close_all()
    # The outbox's sender thread keeps the connection it marked the demo's rows done with: closed too, or
    # the database cannot be copied as the next runs' template.
    from core import outbox

    outbox.wait_sent(10)
    outbox.release_connection()
    rng = random.Random(seed)
    return problem_types, points, rng


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_cmd(kind: str, port: int) -> list[str]:
    py = sys.executable
    if _tiers.is_wsgi(kind):
        return _tiers.wsgi_cmd(kind, port)
    if kind == "daphne":
        return [py, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    return [py, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--workers", _tiers.asgi_workers(kind), "--ws", "websockets-sansio", "--no-access-log",
            "--log-level", "warning"]


# --- a minimal HTTP/1.1 keep-alive client ------------------------------------------------------

class Conn:
    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await self._request(method, path, headers, body)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            if not reused or getattr(exc, "partial", b""):
                raise
            self.close()  # the server closed an idle kept-alive connection (gunicorn's keepalive): resend once
            return await self._request(method, path, headers, body)

    async def _request(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        hdrs = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            data = await self.reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                data += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
            data = data[:-2]
        else:
            data = await self.reader.read()
        if hdrs.get("connection", "").lower() == "close":
            self.close()
        return status, data

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Payloads:
    def __init__(self, problem_types, points, rng, run_tag: str):
        self.problem_types, self.points, self.rng, self.n, self.tag = problem_types, points, rng, 0, run_tag

    def event(self) -> bytes:
        self.n += 1
        code, name = self.rng.choice(self.problem_types)
        lat, lng = self.rng.choice(self.points)
        return json.dumps({
            "source": SOURCES[self.n % len(SOURCES)], "problem_type": code, "lat": lat, "lng": lng,
            "description": f"基准测试：{name}", "external_id": f"BENCH-{self.tag}-{self.n}",
        }, ensure_ascii=False).encode()

    def bare(self) -> bytes:
        self.n += 1
        return json.dumps({"note": f"bench {self.tag} {self.n}"}).encode()


# --- phases --------------------------------------------------------------------------------------

ENDPOINTS = {"bare": ("/api/v1/bench/bare/", "bare"), "intake": ("/api/v1/events/", "event"),
             "snapshot": (_tiers.SNAPSHOT_PATH, None)}


async def run_closed_loop(port, method: str, path: str, header_sets: list, make_body=None, seconds: float = 1.0) -> dict:
    """One keep-alive connection per header set, each sending as soon as the last answer came (`make_body`
    gives each request's body; None: empty); 2xx counted as ok. Shared by burst.py and desks.py."""
    ok, errors, statuses = 0, 0, {}
    stop_at = time.perf_counter() + seconds

    async def client(headers):
        nonlocal ok, errors
        conn = Conn(port)
        try:
            while time.perf_counter() < stop_at:
                status, body = await conn.request(method, path, headers, make_body() if make_body else b"")
                if 200 <= status < 300:
                    ok += 1
                else:
                    errors += 1
                    statuses.setdefault(status, body[:200])
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(h) for h in header_sets))
    elapsed = time.perf_counter() - t0
    return {"ok": ok, "errors": errors, "elapsed": elapsed, "statuses": statuses}


async def closed_loop(port, token, payloads, endpoint: str, clients: int, seconds: float, session=None) -> dict:
    """POSTs (bare, intake: the API client's token) or GETs (snapshot: the desk's session cookie) as fast
    as answered."""
    path, maker = ENDPOINTS[endpoint]
    if maker is None:
        method, headers = "GET", {"Cookie": f"sessionid={session}"}
    else:
        method, headers = "POST", {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    return await run_closed_loop(port, method, path, [headers] * clients,
                                 getattr(payloads, maker) if maker else None, seconds)


async def throughput(servers: list, clients: int, seconds: float, rounds: int = 2) -> None:
    """Events/s of bare and intake on every server, in interleaved rounds (server A bare, A intake, B bare,
    B intake, …, then again) so the machine's background load falls on all of them alike."""
    for srv in servers:  # warm-up: imports, spatial index, routing snapshot (in every worker)
        for endpoint in ("bare", "intake"):
            await closed_loop(srv["port"], srv["token"], srv["payloads"], endpoint, clients, 1.0)
        srv["totals"] = {"bare": [0, 0.0, 0], "intake": [0, 0.0, 0]}
        srv["statuses"] = {}
    for _ in range(rounds):
        for srv in servers:
            for endpoint in ("bare", "intake"):
                r = await closed_loop(srv["port"], srv["token"], srv["payloads"], endpoint, clients, seconds / rounds)
                t = srv["totals"][endpoint]
                t[0], t[1], t[2] = t[0] + r["ok"], t[1] + r["elapsed"], t[2] + r["errors"]
                srv["statuses"].update({f"{endpoint} {k}": v for k, v in r["statuses"].items()})
    for srv in servers:
        rates = {k: v[0] / v[1] for k, v in srv["totals"].items()}
        srv.update(bare=rates["bare"], intake=rates["intake"], ratio=rates["intake"] / max(rates["bare"], 1e-9),
                   errors={k: v[2] for k, v in srv["totals"].items()})


def login(port: int, username: str, password: str) -> str:
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        page = client.get("/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        r = client.post("/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": csrf})
        if r.status_code != 302 or not client.cookies.get("sessionid"):
            raise SystemExit(f"login of {username} failed: {r.status_code}")
        return client.cookies.get("sessionid")


def api_token(port: int, username: str, password: str) -> str:
    import httpx

    r = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token/", data={"username": username, "password": password},
                   timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def open_command_socket(ws_port: int, session: str, timeout: float = 30, origin_port: int | None = None):
    """A desk's /ws/command/ with its session cookie, past the server's `hello` (the page's origin: the
    HTTP port when the websockets have a server of their own)."""
    import websockets

    ws = await websockets.connect(f"ws://127.0.0.1:{ws_port}/ws/command/", open_timeout=timeout, max_queue=None,
                                  additional_headers={"Cookie": f"sessionid={session}",
                                                      "Origin": f"http://127.0.0.1:{origin_port or ws_port}"})
    hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))
    assert hello.get("type") == "hello", hello
    return ws


async def collect_created(ws, arrived: dict) -> None:
    """Until the socket closes (or the task is cancelled): {event id: first arrival (perf_counter)} of
    every `event.created`."""
    async for raw in ws:
        now = time.perf_counter()
        msg = json.loads(raw)
        if msg.get("type") == "event.created":
            arrived.setdefault(msg["event"]["id"], now)


async def push_latency(port, token, session, payloads, rate: float, seconds: float, ws_port=None) -> dict:
    """POSTs to `port`, the desk's websocket on `ws_port` (the ASGI companion of a WSGI server; else `port`)."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    due_at, arrived, post_ms, errors = {}, {}, [], {}
    ws = await open_command_socket(ws_port or port, session, timeout=30, origin_port=port)
    listener = asyncio.create_task(collect_created(ws, arrived))
    idle: list[Conn] = []
    n = int(rate * seconds)
    t0 = time.perf_counter() + 0.2
    give_up = t0 + seconds + GIVE_UP_AFTER_S
    # At most MAX_IN_FLIGHT requests at once (a fleet of reporting systems, not an unbounded one); a
    # request waiting for a free connection is late, and its lateness counts (latency is from its due time).
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    skipped = 0

    async def one(i):
        nonlocal skipped
        due = t0 + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        async with slots:
            if time.perf_counter() > give_up:  # the server fell so far behind that the rest is pointless
                skipped += 1
                return
            conn = idle.pop() if idle else Conn(port)
            body = payloads.event()
            status, data = await conn.request("POST", "/api/v1/events/", headers, body)
            post_ms.append((time.perf_counter() - due) * 1000)
            idle.append(conn)
        if status == 201:
            due_at[json.loads(data)["id"]] = due
        else:
            errors[status] = errors.get(status, 0) + 1

    await asyncio.gather(*(one(i) for i in range(n)))
    sent_done = time.perf_counter()
    deadline = sent_done + 10
    while time.perf_counter() < deadline and not all(i in arrived for i in due_at):
        await asyncio.sleep(0.05)
    listener.cancel()
    await ws.close()
    for c in idle:
        c.close()
    lat_ms = [(arrived[i] - due_at[i]) * 1000 for i in due_at if i in arrived]
    return {"offered": n, "created": len(due_at), "errors": errors, "skipped": skipped,
            "missing": sum(1 for i in due_at if i not in arrived),
            "achieved_rate": len(due_at) / (sent_done - t0), "p50": pct(lat_ms, 50), "p95": pct(lat_ms, 95),
            "p99": pct(lat_ms, 99), "post_p50": pct(post_ms, 50), "post_p95": pct(post_ms, 95),
            "connections": len(idle)}


# --- driver --------------------------------------------------------------------------------------

def wait_ready(port: int, proc, timeout=60):
    import httpx

    t_end = time.time() + timeout
    while time.time() < t_end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not start")


def start_server(kind, backend_env, payloads, logdir) -> dict:
    port = free_port()
    log = open(Path(logdir) / f"{kind}.log", "w")
    env = server_env(backend_env) | _tiers.kind_env(kind)
    proc = subprocess.Popen(server_cmd(kind, port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    srv = {"kind": kind, "port": port, "proc": proc, "log": log, "payloads": payloads}
    wait_ready(port, proc)
    if _tiers.is_wsgi(kind):  # websockets go to an ASGI companion, as the proxy routes /ws/ in production
        srv["ws_port"] = free_port()
        srv["ws_log"] = open(Path(logdir) / f"{kind}-ws.log", "w")
        srv["ws_proc"] = subprocess.Popen(server_cmd("uvicorn1", srv["ws_port"]), cwd=ROOT,
                                          env=server_env(backend_env) | _tiers.kind_env("uvicorn1"),
                                          stdout=srv["ws_log"], stderr=subprocess.STDOUT)
        wait_ready(srv["ws_port"], srv["ws_proc"])
    srv["token"] = api_token(port, "platform", "demo-pass-2026")
    srv["session"] = login(port, "dispatcher", "demo-pass-2026")
    return srv


def stop_server(srv):
    for proc, log in ((srv["proc"], srv["log"]), (srv.get("ws_proc"), srv.get("ws_log"))):
        if proc is None:
            continue
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def push_phases(srv, args):
    port, token, session, payloads = srv["port"], srv["token"], srv["session"], srv["payloads"]
    ws_port = srv.get("ws_port")
    srv["push"] = asyncio.run(push_latency(port, token, session, payloads, args.rate, args.push_seconds, ws_port))
    # POST answered and push latency at shares of this server's measured capacity (its intake events/s):
    # the push path's own latency, apart from queueing, and with some headroom left.
    srv["loads"] = {}
    for fraction in load_fractions(args):
        rate = max(1.0, round(srv["intake"] * fraction, 1))
        seconds = min(6.0, max(args.push_seconds, 12 / rate))  # a dozen events or more, ≤ 6 s
        phase = asyncio.run(push_latency(port, token, session, payloads, rate, seconds, ws_port))
        srv["loads"][fraction] = {**phase, "rate": rate}
    srv["easy"] = srv["loads"][args.easy_fraction]


def load_fractions(args) -> tuple:
    return tuple(dict.fromkeys([args.easy_fraction, args.busy_fraction]))


def server_errors(logdir, kind) -> str:
    """The server's own account of failures (tracebacks' last lines), if any."""
    text = "".join(path.read_text(errors="replace") for path in sorted(Path(logdir).glob(f"{kind}*.log")))
    last = [line for line in text.splitlines() if re.match(r"^[a-zA-Z_.]+(Error|Exception)\b", line)]
    if not last:
        return ""
    counts = {}
    for line in last:
        counts[line[:160]] = counts.get(line[:160], 0) + 1
    return "; ".join(f"{n}× {line}" for line, n in sorted(counts.items(), key=lambda kv: -kv[1])[:3])


def conditions() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"


def end_of_run(logdir, kind: str, t_start: float) -> None:
    """What burst.py and desks.py print and clean after the servers stopped: the server's failures, the
    machine's load, an empty Redis db, the run's time (from `t_start`, perf_counter)."""
    errs = server_errors(logdir, kind)
    if errs:
        print(f"  server log: {errs}")
    print(f"  conditions at the end: {conditions()}")
    flush_redis()
    print(f"total {time.perf_counter() - t_start:.0f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", default="", help="comma-separated: daphne, uvicornN, gunicornN (sync "
                        "workers), gthreadNxT (gthread workers × threads); see bench/_tiers.py")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="throughput time per endpoint (2 rounds; 4 s rounds steadied the snapshot read's figure)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections (throughput)")
    parser.add_argument("--rate", type=float, default=200.0, help="events/s offered (push latency)")
    parser.add_argument("--push-seconds", type=float, default=3.0)
    parser.add_argument("--easy-fraction", type=float, default=0.5,
                        help="push phase at this share of the measured intake events/s")
    parser.add_argument("--busy-fraction", type=float, default=0.8,
                        help="another push phase at this share of the measured intake events/s")
    parser.add_argument("--tier", default="", help=f"the server kind judged against {_tiers.REFERENCE} "
                        "(default: the one with the best gains)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite + in-memory channels even if services are up")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the servers
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmpdir:
        use_services = not args.sqlite and services_up()
        loaded = False
        if use_services:
            loaded = fresh_postgres()
            flush_redis()
            # Production settings (DATABASE_URL set) need a SECRET_KEY; every server of the run shares it.
            backend_env = {"DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL,
                           "SECRET_KEY": os.environ.get("SECRET_KEY") or bench_secret_key()}
            backend = f"PostgreSQL ({PG_URL}) + Redis ({REDIS_URL}) channel layer"
            # Today's advice, then the WSGI tiers (each ~45 s; add daphne, uvicorn2… with --servers).
            default_servers = "uvicorn1,gunicorn1,gunicorn2,gthread1x8,gthread2x4"
        else:
            backend_env = {"SQLITE_PATH": os.path.join(tmpdir, "bench_intake.sqlite3")}
            backend = "SQLite (temp file, WAL) + in-memory channel layer — NOT the production set-up"
            default_servers = "daphne,uvicorn1"  # the in-memory layer reaches one process only
        servers = [s.strip() for s in (args.servers or default_servers).split(",") if s.strip()]
        t0 = time.perf_counter()
        problem_types, points, rng = prepare(backend_env, args.seed, loaded)
        if use_services and not loaded:
            save_template()
        print(f"intake benchmark on {backend}", flush=True)
        print(f"  set-up ({'copy of the template database' if loaded else 'migrate + demo district'}): "
              f"{time.perf_counter() - t0:.1f} s; {len(problem_types)} problem types, "
              f"{len(points):,} subject points; {args.clients} clients × {args.seconds:g} s per endpoint (alternating "
              f"bare/intake), push at {args.rate:g}/s for {args.push_seconds:g} s")
        print(f"  conditions at start: {conditions()}")
        started = []
        try:
            for kind in servers:
                payloads = Payloads(problem_types, points, rng, f"{kind}-{os.getpid()}")
                try:
                    started.append(start_server(kind, backend_env, payloads, tmpdir))
                except (Exception, SystemExit) as exc:  # noqa: BLE001 — measure the others
                    print(f"- {kind}: FAILED to start ({type(exc).__name__}: {exc}); server log:")
                    print((Path(tmpdir) / f"{kind}.log").read_text()[-2000:])
            asyncio.run(_tiers.reads(started, args.clients, args.seconds, closed_loop))
            asyncio.run(throughput(started, args.clients, args.seconds))
            for srv in started:
                push_phases(srv, args)
        finally:
            for srv in started:
                stop_server(srv)
        results = started
        for r in results:
            kind = r["kind"]
            p = r["push"]
            ok_ratio, ok_p95 = r["ratio"] >= TARGET_RATIO, p["p95"] <= TARGET_P95_MS and p["missing"] == 0
            statuses = {**r.get("read_statuses", {}), **r["statuses"]}
            print(f"- {kind}: bare {r['bare']:.1f}/s, snapshot {r['snapshot']:.1f}/s, intake {r['intake']:.1f}/s, "
                  f"ratio {r['ratio']:.2f} (target ≥ {TARGET_RATIO}: {'PASS' if ok_ratio else 'FAIL'}); errors "
                  f"{r['errors'] | {'snapshot': r['snapshot_errors']}}" + (f" {statuses}" if statuses else ""))
            print(f"    push at {args.rate:g}/s offered: {p['created']}/{p['offered']} created "
                  f"({p['achieved_rate']:.0f}/s achieved), POST→event.created p50 {p['p50']:.0f} ms, "
                  f"p95 {p['p95']:.0f} ms, p99 {p['p99']:.0f} ms, missing {p['missing']}, POST answered p95 "
                  f"{p['post_p95']:.0f} ms, errors {p['errors']}, not sent (server too far behind) {p['skipped']} "
                  f"(target p95 ≤ {TARGET_P95_MS:.0f} ms: {'PASS' if ok_p95 else 'FAIL'})")
            for fraction, e in r["loads"].items():
                ok = _tiers.load_verdict(e, TARGET_P95_MS)
                print(f"    push at {e['rate']:g}/s ({fraction:g} × its intake events/s): {e['created']}/"
                      f"{e['offered']} created, POST answered p50 {e['post_p50']:.0f} ms, p95 {e['post_p95']:.0f} ms; "
                      f"POST→event.created p50 {e['p50']:.0f} ms, p95 {e['p95']:.0f} ms, missing {e['missing']}, "
                      f"errors {e['errors']} (target POST and push p95 ≤ {TARGET_P95_MS:.0f} ms: "
                      f"{'PASS' if ok else 'FAIL'})")
            errs = server_errors(tmpdir, kind)
            if errs:
                print(f"    server log: {errs}")
        print(f"  conditions at the end: {conditions()}")
        if results:
            _tiers.print_table(results, load_fractions(args), TARGET_P95_MS, args.tier or None)
        if use_services:
            flush_redis()
        if results:
            best = max(results, key=lambda r: (round(r["intake"], 1), -r["easy"]["p95"]))
            print(f"best measured server: {best['kind']} ({best['intake']:.1f} events/s, push p95 at an easy rate "
                  f"{best['easy']['p95']:.0f} ms)")
        print(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
