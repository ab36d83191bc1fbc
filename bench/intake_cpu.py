"""Intake's cost on the production web tier (issue 18: gunicorn gthread, 1 worker × 8 threads), as the
worker's own CPU.

bench/intake.py's closed loop (its database, payloads and client) against one gunicorn gthread worker
(bench/_tiers.py's production kind) with persistent connections (DB_CONN_MAX_AGE=60): bare insert and intake alternate for
`--rounds`, and besides events/s it reads the worker's CPU time (/proc/<pid>/stat) before and after each
phase. CPU per request does not depend on what else the machine runs (events/s on a shared 2-core machine
does), so it is the figure to compare runs with; the two ratios agree on an idle machine.

Target (issue 18, part 2): intake events/s ≥ 0.35 × the bare insert's, i.e. about 9 ms of CPU per intake.

    BENCH_DATABASE_URL=postgres://…/bench_x BENCH_REDIS_URL=redis://…/5 .venv/bin/python bench/intake_cpu.py
        [--seconds 10] [--rounds 2] [--clients 8]

Always exits 0 (a PASS/FAIL line).
"""
import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _tiers  # noqa: E402
from bench import intake as B  # noqa: E402

TARGET_RATIO = _tiers.INTAKE_RATIO


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint, over all rounds")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    if not B.services_up():
        print("needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL)")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-intake-cpu-") as tmpdir:
        loaded = B.fresh_postgres()
        B.flush_redis()
        env = {"DATABASE_URL": B.PG_URL, "REDIS_URL": B.REDIS_URL,
               "SECRET_KEY": os.environ.get("SECRET_KEY") or B.bench_secret_key()}
        problem_types, points, rng = B.prepare(env, 1, loaded)
        if not loaded:
            B.save_template()
        print(f"intake CPU benchmark: {_tiers.label(_tiers.PRODUCTION)}; {args.clients} clients × "
              f"{args.seconds:g} s per endpoint; conditions at start: {B.conditions()}")
        srv = B.start_server(_tiers.PRODUCTION, env, B.Payloads(problem_types, points, rng, f"cpu-{os.getpid()}"), tmpdir)
        worker = int(subprocess.run(["pgrep", "-P", str(srv["proc"].pid)], capture_output=True, text=True)
                     .stdout.split()[0])
        totals = {"bare": [0, 0.0, 0.0], "intake": [0, 0.0, 0.0]}
        try:
            for endpoint in totals:  # warm-up: imports, spatial index, routing snapshot, caches
                asyncio.run(B.closed_loop(srv["port"], srv["token"], srv["payloads"], endpoint, args.clients, 1.5))
            for _ in range(args.rounds):
                for endpoint, t in totals.items():
                    before = cpu_seconds(worker)
                    r = asyncio.run(B.closed_loop(srv["port"], srv["token"], srv["payloads"], endpoint, args.clients,
                                                  args.seconds / args.rounds))
                    t[0], t[1], t[2] = t[0] + r["ok"], t[1] + r["elapsed"], t[2] + cpu_seconds(worker) - before
                    if r["errors"]:
                        print(f"  {endpoint}: {r['errors']} errors {r['statuses']}")
        finally:
            B.stop_server(srv)
        errors = B.server_errors(tmpdir, _tiers.PRODUCTION)
    rate = {k: v[0] / v[1] for k, v in totals.items()}
    cpu_ms = {k: 1000 * v[2] / max(v[0], 1) for k, v in totals.items()}
    ratio, cpu_ratio = rate["intake"] / rate["bare"], cpu_ms["bare"] / cpu_ms["intake"]
    print(f"- bare {rate['bare']:.1f}/s, intake {rate['intake']:.1f} events/s, ratio {ratio:.2f} "
          f"(target ≥ {TARGET_RATIO}: {'PASS' if ratio >= TARGET_RATIO else 'FAIL'})")
    print(f"- worker CPU per request: bare {cpu_ms['bare']:.1f} ms, intake {cpu_ms['intake']:.1f} ms, "
          f"ratio {cpu_ratio:.2f} (target ≥ {TARGET_RATIO}: {'PASS' if cpu_ratio >= TARGET_RATIO else 'FAIL'})")
    if errors:
        print(f"  server log: {errors}")
    print(f"  conditions at the end: {B.conditions()}")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
