"""The web tiers `bench/intake.py` compares (issue 18): how each server kind is started, the snapshot read,
and the side-by-side table with the tier target. Not a benchmark of its own (nothing runs on import).

Server kinds:
- `daphne`, `uvicornN` (N workers): ASGI, HTTP and websockets in one process (`DB_CONN_MAX_AGE=0`: under
  ASGI every request runs in a thread of its own, so a kept connection would never be reused).
- `gunicornN`: gunicorn, N sync workers; `gthreadNxT`: gunicorn, N gthread workers of T threads (`gthread`
  alone is 1×8). WSGI over `config.wsgi` with persistent connections (`DB_CONN_MAX_AGE=60`: a worker thread
  lives as long as the process and reuses its connection). Websockets are not WSGI: each WSGI kind gets an
  ASGI companion (uvicorn, 1 worker) for /ws/, as production runs it behind the path-routing proxy
  (deploy/nginx.conf); pushes cross from one to the other through Redis.
- `split` (burst.py only): the production tier of deploy/nginx.conf, two gunicorn gthread processes of 1 × 8
  threads, one for the desks (every read, the pages) and one for the machine feeds' writes (POST
  /api/v1/events/, the bulk submissions, Open311), plus the uvicorn companion for /ws/: a bulkhead, so a flood
  of reports cannot queue the desks' reads in their process. `split_parts` names the two kinds.
- `uvicornpool` (experiment): uvicorn, 1 worker, with psycopg 3's connection pool (Django ≥ 5.1,
  config.settings_bench). psycopg 3 is not installed in the project (Django would prefer it over psycopg2
  everywhere, and credit's rescoring uses psycopg2's execute_values); install it apart and name it:
  `pip install --target /tmp/pg3 "psycopg[binary]" psycopg-pool; export BENCH_PSYCOPG3_PATH=/tmp/pg3`.
"""
import os
import re
import sys
from pathlib import Path

REFERENCE = "uvicorn1"  # today's production advice: the figures the tier target is relative to
PRODUCTION = "gthread1x8"  # the tier chosen (README "Running in production"), per process: desks.py's default
SPLIT = "split"  # the desks' PRODUCTION process + the feeds' own (deploy/nginx.conf's bulkhead): burst.py's default
SPLIT_PARTS = {SPLIT: (PRODUCTION, PRODUCTION)}  # (desks' kind, feeds' kind)
INTAKE_RATIO = 0.35  # target: intake events/s ≥ this × the bare insert's on the chosen tier (issue 18, part 2)
TIER_FACTOR = 1.8  # target: bare insert and snapshot read on the chosen tier ≥ 1.8 × the reference's
SNAPSHOT_PATH = "/api/v1/command/snapshot/"
WSGI_KIND = re.compile(r"^(gunicorn|gthread)(\d*)(?:x(\d+))?$")
WSGI_CONN_MAX_AGE = "60"
POOL_KIND = "uvicornpool"
ROOT = Path(__file__).resolve().parent.parent


def is_wsgi(kind: str) -> bool:
    return WSGI_KIND.match(kind) is not None


def split_parts(kind: str) -> tuple[str, str] | None:
    """(the desks' server kind, the feeds' server kind) of a split tier; None for a one-process kind."""
    return SPLIT_PARTS.get(kind)


def label(kind: str) -> str:
    if split_parts(kind):
        desks, feeds = split_parts(kind)
        return f"desks: {label(desks)}; feeds: {label(feeds)}"
    m = WSGI_KIND.match(kind)
    if kind == "daphne":
        return "daphne"
    if kind == POOL_KIND:
        return "uvicorn, 1 worker, psycopg 3 pool"
    if m is None:
        workers = kind.removeprefix("uvicorn") or "1"
        return f"uvicorn, {workers} worker{'s' if workers != '1' else ''}"
    workers = m[2] or "1"
    if m[1] == "gunicorn":
        return f"gunicorn, {workers} sync worker{'s' if workers != '1' else ''}, persistent conns"
    return f"gunicorn gthread, {workers}×{m[3] or '8'} threads, persistent conns"


def wsgi_cmd(kind: str, port: int) -> list[str]:
    m = WSGI_KIND.match(kind)
    cmd = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--workers", m[2] or "1", "--log-level", "warning"]
    if m[1] == "gthread":
        cmd += ["--worker-class", "gthread", "--threads", m[3] or "8"]
    return cmd


def asgi_workers(kind: str) -> str:
    return "1" if kind == POOL_KIND else kind.removeprefix("uvicorn") or "1"


def kind_env(kind: str) -> dict:
    """What a kind adds to the servers' environment."""
    if kind == POOL_KIND:
        if not os.environ.get("BENCH_PSYCOPG3_PATH"):
            raise SystemExit("uvicornpool needs BENCH_PSYCOPG3_PATH (a directory holding psycopg 3 and psycopg_pool)")
        return {"DB_CONN_MAX_AGE": "0", "BENCH_DB_POOL": "1",
                "PYTHONPATH": f"{os.environ['BENCH_PSYCOPG3_PATH']}{os.pathsep}{ROOT}"}
    return {"DB_CONN_MAX_AGE": WSGI_CONN_MAX_AGE} if is_wsgi(kind) else {"DB_CONN_MAX_AGE": "0"}


async def reads(servers: list, clients: int, seconds: float, closed_loop, rounds: int = 2) -> None:
    """The dispatcher desk's snapshot (GET, session cookie as the page sends it), reads/s per server in
    interleaved rounds; measured before any intake so every server reads the same data."""
    for srv in servers:  # warm-up
        await closed_loop(srv["port"], None, None, "snapshot", clients, 1.0, session=srv["session"])
        srv["read_totals"] = [0, 0.0, 0]
    for _ in range(rounds):
        for srv in servers:
            r = await closed_loop(srv["port"], None, None, "snapshot", clients, seconds / rounds,
                                  session=srv["session"])
            t = srv["read_totals"]
            t[0], t[1], t[2] = t[0] + r["ok"], t[1] + r["elapsed"], t[2] + r["errors"]
            srv.setdefault("read_statuses", {}).update({f"snapshot {k}": v for k, v in r["statuses"].items()})
    for srv in servers:
        ok, elapsed, errors = srv["read_totals"]
        srv["snapshot"] = ok / elapsed
        srv["snapshot_errors"] = errors


def load_verdict(phase: dict, target_ms: float) -> bool:
    return (phase["post_p95"] <= target_ms and phase["p95"] <= target_ms and phase["missing"] == 0
            and not phase["errors"])


def choose(results: list, wanted: str | None):
    """The tier the figures recommend: `wanted` when given, else the non-reference server whose weaker
    gain (bare or snapshot) over the reference is largest."""
    ref = next((r for r in results if r["kind"] == REFERENCE), None)
    if wanted:
        return ref, next((r for r in results if r["kind"] == wanted), None)
    if ref is None:
        return None, None
    others = [r for r in results if r is not ref]
    best = max(others, key=lambda r: min(r["bare"] / ref["bare"], r["snapshot"] / ref["snapshot"]), default=None)
    return ref, best


def print_table(results: list, fractions: tuple, target_ms: float, wanted: str | None = None) -> None:
    ref = next((r for r in results if r["kind"] == REFERENCE), None)
    head = ["server", "bare /s", "snapshot /s", "intake events/s"]
    if ref:
        head += [f"bare × {REFERENCE}", f"snapshot × {REFERENCE}"]
    head += [f"at {f:g}: POST p50/p95, push p95 (ms)" for f in fractions]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in results:
        row = [label(r["kind"]), f"{r['bare']:.0f}", f"{r['snapshot']:.0f}", f"{r['intake']:.1f}"]
        if ref:
            row += [f"{r['bare'] / ref['bare']:.2f}", f"{r['snapshot'] / ref['snapshot']:.2f}"]
        for f in fractions:
            p = r["loads"][f]
            row.append(f"{p['post_p50']:.0f}/{p['post_p95']:.0f}, {p['p95']:.0f} "
                       f"{'PASS' if load_verdict(p, target_ms) else 'FAIL'}")
        print("| " + " | ".join(row) + " |")
    ref, tier = choose(results, wanted)
    if ref is None or tier is None:
        print(f"tier target: not judged (needs {REFERENCE} and another server in the same run)")
        return
    gain_bare, gain_read = tier["bare"] / ref["bare"], tier["snapshot"] / ref["snapshot"]
    ok = gain_bare >= TIER_FACTOR and gain_read >= TIER_FACTOR
    ratio = tier["intake"] / tier["bare"]
    print(f"chosen tier: {label(tier['kind'])} ({tier['kind']}): bare insert {gain_bare:.2f} ×, snapshot read "
          f"{gain_read:.2f} × {REFERENCE} (target ≥ {TIER_FACTOR} × both: {'PASS' if ok else 'FAIL'}); intake/bare "
          f"on it {ratio:.2f} (target ≥ {INTAKE_RATIO}: {'PASS' if ratio >= INTAKE_RATIO else 'FAIL'})")
