"""Bursts from machines (issue 18, part 3): asynchronous intake on the real server with real worker processes.

Targets, in one run:
1. the 202 path (`POST /api/v1/events/` with `Prefer: respond-async`) ≥ 0.8 × the bare insert (events/s,
   closed loop, alternating rounds, no worker running);
2. a burst of `--rate` (200) events/s for `--burst-seconds` (30) offered open-loop is absorbed with 0 errors
   (every one answered 202) and 0 lost (every accepted submission processed, each into one event or its
   validation errors);
3. the backlog drains at the measured processing rate (the drain after the burst against the rate the same
   number of workers showed on a standing backlog: ≥ 0.75 ×);
4. the dispatcher's snapshot read (`GET /api/v1/command/snapshot/`, session of `dispatcher`, 4 reads/s until
   every POST of the burst is answered) has p95 ≤ 500 ms during the burst;
5. with 2 workers the drain rate is ≥ 1.6 × one worker's.

PostgreSQL + Redis only (`BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/bench_async_burst,
dropped and created anew from a template kept on the server; `BENCH_REDIS_URL`, default
redis://127.0.0.1:6379/6, flushed). The database set-up, the server and the HTTP client come from
bench/intake.py. The server (`--server`) is by default the production tier, `split` (bench/_tiers.py): two
gunicorn gthread processes of 1 × 8 threads, the desks' and the machine feeds', plus the uvicorn companion for
/ws/. The bench routes as deploy/nginx.conf does: the POSTs of every phase (bare insert, the 202 path, the bulk
backlog, the burst) go to the feeds' process, the desk's snapshot reads to the desks'. A one-process kind
(`--server gthread1x8`, the tier before the bulkhead) takes both on one process, for comparison. Workers are
`manage.py process_event_submissions` processes (what production runs beside, or instead of, Celery beat's
task), started together with `--start-at` so their start-up is not counted, at `--worker-nice` (10: the
README's production advice where they share cores with the web tier, so the desk wins the CPU and the
backlog, durable, waits; 0 runs them at the web tier's priority). The reports are spread over `--clients`
(8) API clients (camera platforms): order is kept per client, so one client's reports are processed one
after another and more workers only help with more clients.

    .venv/bin/python bench/burst.py [--server split|gthread1x8] [--worker-nice 10] [--seconds 6] [--rate 200]
                                    [--burst-seconds 30] [--drain-size 600] [--clients 8]

A short check of the whole run (a few minutes on a loaded machine):
    .venv/bin/python bench/burst.py --seconds 4 --burst-seconds 5 --drain-size 200

A measurement: exits 0 whether the targets are met or not (the PASS/FAIL lines say which).
"""
import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_async_burst")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")

from bench import intake as bench_intake  # noqa: E402 — reads the two variables above
from bench._common import bench_secret_key  # noqa: E402
from bench._tiers import SNAPSHOT_PATH, SPLIT, kind_env, label, split_parts  # noqa: E402
from bench.intake import Conn, conditions, pct, run_closed_loop  # noqa: E402

TARGET_RATIO = 0.8
TARGET_SNAPSHOT_P95_MS = 500.0
TARGET_TWO_WORKERS = 1.6
TARGET_DRAIN_SHARE = 0.75
MAX_IN_FLIGHT = 32  # as bench/intake.py: a fleet of reporting systems, not an unbounded one
PASSWORD = "bench-Pass-2026"
ASYNC_PATH = "/api/v1/events/"
WORKER_NICE = 10  # the README's production advice: submission workers below the web tier on shared cores


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --- load ----------------------------------------------------------------------------------------

async def ratio_phase(srv, bare_headers, async_headers, payloads, seconds, rounds=2) -> dict:
    """Bare insert and the 202 path, alternating, as bench/intake.py measures bare and intake (both on the
    feeds' process: the same process, so the ratio compares requests, not tiers)."""
    for path, hs, make in (("/api/v1/bench/bare/", bare_headers, payloads.bare), (ASYNC_PATH, async_headers, payloads.event)):
        await run_closed_loop(srv["feeds_port"], "POST", path, hs, make, 1.0)  # warm-up
    totals = {"bare": [0, 0.0, 0], "async": [0, 0.0, 0]}
    statuses = {}
    for _ in range(rounds):
        for name, path, hs, make in (("bare", "/api/v1/bench/bare/", bare_headers, payloads.bare),
                                     ("async", ASYNC_PATH, async_headers, payloads.event)):
            r = await run_closed_loop(srv["feeds_port"], "POST", path, hs, make, seconds / rounds)
            t = totals[name]
            t[0], t[1], t[2] = t[0] + r["ok"], t[1] + r["elapsed"], t[2] + r["errors"]
            statuses.update({f"{name} {k}": v for k, v in r["statuses"].items()})
    rates = {k: v[0] / v[1] for k, v in totals.items()}
    return {**rates, "errors": {k: v[2] for k, v in totals.items()}, "statuses": statuses}


async def burst(port, desk_port, async_headers, payloads, session, rate, seconds) -> dict:
    """`rate`/s for `seconds` to `port`, open loop (at most MAX_IN_FLIGHT at once), while a desk reads its
    snapshot from `desk_port` 4 times a second; returns the accepted submission ids, errors, POST and
    snapshot latencies."""
    accepted, errors, post_ms, snap_ms, ext_ids = [], {}, [], [], []
    n = int(rate * seconds)
    t0 = time.perf_counter() + 0.2
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    idle: list[Conn] = []

    async def one(i):
        due = t0 + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        async with slots:
            conn = idle.pop() if idle else Conn(port)
            body = payloads.event()
            headers = async_headers[i % len(async_headers)]
            try:
                status, data = await conn.request("POST", ASYNC_PATH, headers, body)
            except (OSError, asyncio.IncompleteReadError) as exc:
                conn.close()
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            post_ms.append((time.perf_counter() - due) * 1000)
            idle.append(conn)
        if status == 202:
            accepted.append(json.loads(data)["id"])
            ext_ids.append(json.loads(body)["external_id"])
        else:
            errors[status] = errors.get(status, 0) + 1

    posting = asyncio.Event()  # set once every POST of the burst is answered: the desk reads until then

    async def desk():
        conn = Conn(desk_port)
        headers = {"Cookie": f"sessionid={session}"}
        try:
            while not posting.is_set():
                t = time.perf_counter()
                status, _data = await conn.request("GET", SNAPSHOT_PATH, headers)
                snap_ms.append((time.perf_counter() - t) * 1000)
                if status != 200:
                    errors[f"snapshot {status}"] = errors.get(f"snapshot {status}", 0) + 1
                await asyncio.sleep(max(0.0, 0.25 - (time.perf_counter() - t)))
        finally:
            conn.close()

    async def offer():
        await asyncio.gather(*(one(i) for i in range(n)))
        posting.set()

    await asyncio.gather(desk(), offer())
    for c in idle:
        c.close()
    took = time.perf_counter() - t0
    return {"offered": n, "accepted": accepted, "external_ids": ext_ids, "errors": errors, "took": took,
            "achieved": len(accepted) / max(took, 1e-9), "post_ms": post_ms, "snap_ms": snap_ms}


# --- workers and the backlog ---------------------------------------------------------------------

def backlog() -> int:
    from command_center import submissions

    return submissions.backlog()


def start_workers(k: int, backend_env: dict, logdir, nice: int, start_in: float = 6.0):
    """k worker processes that all begin at the same moment (their Django start-up is not counted), at
    `nice` (as production runs them beside the web tier: when they share its cores the desk's requests
    win the CPU and the backlog waits; the backlog is durable, a desk's answer is not)."""
    start_at = time.time() + start_in
    procs = []
    for i in range(k):
        log = open(Path(logdir) / f"worker{len(procs)}-{time.time():.0f}.log", "w")
        cmd = [sys.executable, "manage.py", "process_event_submissions", "--start-at", f"{start_at:.3f}",
               "--idle-sleep", "0.05"]
        procs.append((subprocess.Popen(cmd, cwd=ROOT, env=bench_intake.server_env(backend_env), stdout=log,
                                       stderr=subprocess.STDOUT, preexec_fn=(lambda: os.nice(nice)) if nice else None),
                      log))
    return procs, start_at


def stop_workers(procs) -> tuple[int, float]:
    """Stop them; (submissions processed, CPU seconds spent) as the workers report at exit."""
    for proc, _log in procs:
        proc.send_signal(signal.SIGTERM)
    processed, cpu = 0, 0.0
    for proc, log in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        said = re.search(r"processed (\d+) in ([0-9.]+) s of CPU", Path(log.name).read_text(errors="replace"))
        if said:
            processed, cpu = processed + int(said.group(1)), cpu + float(said.group(2))
    return processed, cpu


def wait_drained(timeout: float, since: float | None = None) -> tuple[float, int]:
    """Poll the backlog until it is 0: (seconds from `since` (Unix time) or now, backlog left)."""
    t_start = since if since is not None else time.time()
    while time.time() < t_start + timeout:
        left = backlog()
        if left == 0:
            return time.time() - t_start, 0
        time.sleep(0.1)
    return time.time() - t_start, backlog()


def drain_rate(k: int, backend_env, logdir, timeout: float, nice: int) -> dict:
    """Start k workers on the standing backlog, time it to empty: processed per second."""
    size = backlog()
    procs, start_at = start_workers(k, backend_env, logdir, nice)
    try:
        time.sleep(max(0.0, start_at - time.time()))
        elapsed, left = wait_drained(timeout, since=start_at)
    finally:
        processed, cpu = stop_workers(procs)
    return {"workers": k, "size": size, "seconds": elapsed, "left": left, "rate": (size - left) / max(elapsed, 1e-9),
            "cpu_ms": 1000 * cpu / max(processed, 1)}


def fill_backlog(port, bulk_headers, payloads, size: int):
    """`size` submissions through the bulk endpoint (up to 500 a request), spread over the clients."""
    import httpx

    made, i = 0, 0
    per_client = min(500, -(-size // len(bulk_headers)))  # every client gets a share: order is kept per client
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        while made < size:
            n = min(per_client, size - made)
            events = [json.loads(payloads.event()) for _ in range(n)]
            r = client.post("/api/v1/event-submissions/", json={"events": events},
                            headers=bulk_headers[i % len(bulk_headers)])
            if r.status_code != 202:
                raise SystemExit(f"bulk submission failed: {r.status_code} {r.text[:300]}")
            made, i = made + n, i + 1


def outcome(ids, ext_ids) -> dict:
    """What became of the accepted submissions: processed (done / failed with errors), lost (pending or
    missing), events made for them (exactly one per done submission)."""
    from django.db.models import Count

    from command_center.models import Event, EventSubmission

    rows = dict(EventSubmission.objects.filter(pk__in=ids).order_by().values_list("status").annotate(n=Count("id")))
    found = sum(rows.values())
    events = Event.objects.filter(external_id__in=ext_ids).count()
    done_with_event = EventSubmission.objects.filter(pk__in=ids, status="done", event__isnull=False).count()
    lost = (len(ids) - found) + (rows.get("done", 0) - done_with_event)  # pending is late, not lost
    return {"done": rows.get("done", 0), "failed": rows.get("failed", 0), "pending": rows.get("pending", 0),
            "lost": lost, "events": events}


def failure_reasons(ids, limit=3) -> str:
    from command_center.models import EventSubmission

    seen = {}
    for status, errors in EventSubmission.objects.filter(pk__in=ids, status="failed").values_list("error_status", "errors"):
        key = f"{status} {json.dumps(errors, ensure_ascii=False)[:120]}"
        seen[key] = seen.get(key, 0) + 1
    return "; ".join(f"{n}× {k}" for k, n in sorted(seen.items(), key=lambda kv: -kv[1])[:limit])


# --- the web tier --------------------------------------------------------------------------------

def start_tier(kind, backend_env, payloads, logdir) -> dict:
    """bench/intake.py's server for `kind`; for a split kind, its desks' server (with the /ws/ companion,
    the login and the token) and the feeds' process beside it. `feeds_port` is where the machines POST:
    the feeds' process, or the one process of a one-process kind."""
    parts = split_parts(kind)
    if parts is None:
        srv = bench_intake.start_server(kind, backend_env, payloads, logdir)
        srv["feeds_port"] = srv["port"]
        return srv
    desks, feeds = parts
    srv = bench_intake.start_server(desks, backend_env, payloads, logdir)
    port = bench_intake.free_port()
    log = open(Path(logdir) / f"{desks}-feeds.log", "w")  # under the desks' kind: end_of_run reads its errors
    srv["feeds_proc"], srv["feeds_log"], srv["feeds_port"] = (
        subprocess.Popen(bench_intake.server_cmd(feeds, port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                         env=bench_intake.server_env(backend_env) | kind_env(feeds)), log, port)
    try:
        bench_intake.wait_ready(port, srv["feeds_proc"])
    except BaseException:
        stop_tier(srv)
        raise
    return srv


def stop_tier(srv) -> None:
    if srv.get("feeds_proc") is not None:
        srv["feeds_proc"].send_signal(signal.SIGTERM)
        try:
            srv["feeds_proc"].wait(timeout=15)
        except subprocess.TimeoutExpired:
            srv["feeds_proc"].kill()
        srv["feeds_log"].close()
    bench_intake.stop_server(srv)


# --- driver --------------------------------------------------------------------------------------

def camera_clients(n: int) -> list[str]:
    """n API clients (camera platforms) over the whole district, with their tokens."""
    from rest_framework.authtoken.models import Token

    from core import roles
    from grids import accounts
    from grids.models import Area

    root = Area.objects.filter(parent__isnull=True).order_by("id").values_list("code", flat=True).first()
    tokens = []
    for i in range(n):
        user, _ = accounts.add_user(None, username=f"camera{i}", role=roles.API_CLIENT, area_codes=[root], password=PASSWORD)
        tokens.append(Token.objects.get_or_create(user=user)[0].key)
    return tokens


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=SPLIT, help="split (default: the production tier, the desks' and the "
                        "feeds' gunicorn gthread 1 × 8, the uvicorn companion for /ws/; bench/_tiers.py) or a "
                        "one-process kind of bench/intake.py: gthreadNxT, uvicornN, daphne")
    parser.add_argument("--worker-nice", type=int, default=WORKER_NICE,
                        help="niceness of the submission workers (0: the web tier's priority)")
    parser.add_argument("--seconds", type=float, default=6.0, help="closed-loop time per endpoint (2 rounds)")
    parser.add_argument("--connections", type=int, default=8, help="closed-loop connections")
    parser.add_argument("--clients", type=int, default=8, help="API clients the reports are spread over")
    parser.add_argument("--rate", type=float, default=200.0, help="burst: events/s offered")
    parser.add_argument("--burst-seconds", type=float, default=30.0)
    parser.add_argument("--drain-size", type=int, default=600, help="backlog for the 2-worker drain rate")
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t_start = time.perf_counter()
    if not bench_intake.services_up():
        print("burst benchmark needs PostgreSQL + Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL): not run. FAIL")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmpdir:
        loaded = bench_intake.fresh_postgres()
        bench_intake.flush_redis()
        backend_env = {"DATABASE_URL": bench_intake.PG_URL, "REDIS_URL": bench_intake.REDIS_URL,
                       "SECRET_KEY": os.environ.get("SECRET_KEY") or bench_secret_key(),
                       # the burst (6,000) and what the ratio phase leaves must fit
                       "EVENT_SUBMISSION_MAX_BACKLOG": os.environ.get("EVENT_SUBMISSION_MAX_BACKLOG", "50000")}
        t0 = time.perf_counter()
        problem_types, points, rng = bench_intake.prepare(backend_env, args.seed, loaded)
        if not loaded:
            bench_intake.save_template()
        tokens = camera_clients(args.clients)
        print(f"burst benchmark on PostgreSQL ({bench_intake.PG_URL}) + Redis ({bench_intake.REDIS_URL}), server "
              f"{args.server} ({label(args.server)}); workers at nice {args.worker_nice}; set-up "
              f"{time.perf_counter() - t0:.1f} s; {args.clients} API clients")
        print(f"  conditions at start: {conditions()} (a machine shared with other sessions' work: ratios within this "
              "run are what count)")
        json_h = {"Content-Type": "application/json"}
        async_headers = [{"Authorization": f"Token {tokens[i % len(tokens)]}", "Prefer": "respond-async", **json_h}
                         for i in range(max(args.connections, len(tokens)))]
        bulk_headers = [{"Authorization": f"Token {t}"} for t in tokens]
        payloads = bench_intake.Payloads(problem_types, points, rng, f"burst-{os.getpid()}")
        srv = start_tier(args.server, backend_env, payloads, tmpdir)
        try:
            bare_headers = [{"Authorization": f"Token {srv['token']}", **json_h}] * args.connections
            ratio = asyncio.run(ratio_phase(srv, bare_headers, async_headers[:args.connections], payloads, args.seconds))
            print(f"1. 202 path {ratio['async']:.1f}/s vs bare insert {ratio['bare']:.1f}/s: ratio "
                  f"{ratio['async'] / ratio['bare']:.2f} (target ≥ {TARGET_RATIO}: "
                  f"{verdict(ratio['async'] / ratio['bare'] >= TARGET_RATIO)}); errors {ratio['errors']}"
                  + (f" {ratio['statuses']}" if ratio["statuses"] else ""))
            one = drain_rate(1, backend_env, tmpdir, args.drain_timeout, args.worker_nice)  # the backlog the ratio phase left
            fill_backlog(srv["feeds_port"], bulk_headers, payloads, args.drain_size)
            two = drain_rate(2, backend_env, tmpdir, args.drain_timeout, args.worker_nice)
            print(f"   processing rate: 1 worker {one['rate']:.1f}/s ({one['size']} in {one['seconds']:.1f} s, "
                  f"{one['cpu_ms']:.1f} ms of worker CPU each), 2 workers {two['rate']:.1f}/s ({two['size']} in "
                  f"{two['seconds']:.1f} s, {two['cpu_ms']:.1f} ms each); load average now {os.getloadavg()[0]:.1f}")
            scale = two["rate"] / max(one["rate"], 1e-9)
            # The burst, with 2 workers running throughout.
            procs, start_at = start_workers(2, backend_env, tmpdir, args.worker_nice, start_in=6.0)
            try:
                time.sleep(max(0.0, start_at - time.time()))
                b = asyncio.run(burst(srv["feeds_port"], srv["port"], async_headers, payloads, srv["session"], args.rate,
                                      args.burst_seconds))
                left_at_end, t_end = backlog(), time.time()
                burst_load = conditions()
                drained_in, left = wait_drained(args.drain_timeout, since=t_end)
            finally:
                processed, cpu = stop_workers(procs)
            out = outcome(b["accepted"], b["external_ids"])
            errors = sum(b["errors"].values())
            print(f"2. burst {args.rate:g}/s × {args.burst_seconds:g} s: offered {b['offered']}, accepted "
                  f"{len(b['accepted'])} in {b['took']:.0f} s ({b['achieved']:.0f}/s), errors {errors} {b['errors'] or ''}; POST answered "
                  f"p50 {pct(b['post_ms'], 50):.0f} ms / p95 {pct(b['post_ms'], 95):.0f} ms (from when due); processed "
                  f"{out['done']} into events + {out['failed']} with validation errors, still pending {out['pending']}, "
                  f"lost {out['lost']}, events made "
                  f"{out['events']} (target 0 errors, 0 lost: "
                  f"{verdict(errors == 0 and out['lost'] == 0 and len(b['accepted']) == b['offered'] and out['events'] == out['done'])})")
            if out["failed"]:
                print(f"   refused as the synchronous path would (the bench's random reports): {failure_reasons(b['accepted'])}")
            after = left_at_end / max(drained_in, 1e-9) if left_at_end else float("nan")
            ok_drain = left == 0 and left_at_end > 0 and after >= TARGET_DRAIN_SHARE * two["rate"]
            print(f"3. backlog at the burst's end {left_at_end}, drained in {drained_in:.1f} s: {after:.1f}/s against the "
                  f"measured processing rate {two['rate']:.1f}/s with 2 workers ({after / max(two['rate'], 1e-9):.2f} ×; "
                  f"target ≥ {TARGET_DRAIN_SHARE}: {verdict(ok_drain)}); left {left}; the workers spent "
                  f"{1000 * cpu / max(processed, 1):.1f} ms of CPU per submission")
            p95 = pct(b["snap_ms"], 95)
            print(f"   during the burst: {burst_load}")
            where = "the desks' own process" if srv["feeds_port"] != srv["port"] else "the process taking the POSTs"
            print(f"4. the desk's snapshot read ({where}) while the burst was being posted: {len(b['snap_ms'])} reads, p50 {pct(b['snap_ms'], 50):.0f} ms, "
                  f"p95 {p95:.0f} ms, max {max(b['snap_ms'] or [0]):.0f} ms (target p95 ≤ {TARGET_SNAPSHOT_P95_MS:.0f} ms: "
                  f"{verdict(p95 <= TARGET_SNAPSHOT_P95_MS)})")
            print(f"5. 2 workers drain {scale:.2f} × one worker's rate (target ≥ {TARGET_TWO_WORKERS}: "
                  f"{verdict(scale >= TARGET_TWO_WORKERS)})")
        finally:
            stop_tier(srv)
        bench_intake.end_of_run(tmpdir, srv["kind"], t_start)
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
