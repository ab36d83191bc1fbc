"""Dispatch ranking benchmark (issue 4): rank 2,000 officers of one street for an event (target: p95 ≤ 10 ms).

Standalone and honest: the project's own settings (config.settings) on a throwaway SQLite file
(SQLITE_PATH, WAL as in the embedded default), real migrations, a real published catalog (so the
matter's owning department comes from the routing snapshot, as in production), and the real
`command_center.dispatch.ranking(event)` — what `GET …/events/{id}/candidates/` calls: the first page of 20
candidates with their reasons, plus how many officers each reason leaves out — and `dispatch.best(event)`,
what automatic dispatch calls; and what the desk's override adds (`overridable(event)`, the street's
officers the ranking leaves out, and `eligibility(event, officer)`, the dispatch service's check of a pick).

The street has 2,000 officers in 4 teams, all with fresh positions within ~3 km of the event, mixed home
departments (9), skill departments (about a third have one or two), ranks 1–4, duty statuses (mostly
available, some busy/en route/on scene, a few off duty or on a break) and loads (0–3 live assignments,
from 1,500 live assignments on other events). Two events are timed: one whose matter is delegated to
the street (pool: the street's teams) and one whose matter the street does not hold (pool: the street's
teams plus the owning department's officers — here the same people). Each call's SQL queries are counted
too: the ranking should read a fixed handful, not one or more per officer (N+1).

    .venv/bin/python bench/dispatch.py [--officers 2000] [--runs 200] [--seed 1]

A measurement: it exits 0 whether the target is met or not (the PASS/FAIL line says which).
Set DATABASE_URL to run it on PostgreSQL instead (it creates rows there: use a scratch database).
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import area, pct, setup_django  # noqa: E402

TARGET_P95_MS = 10.0


def build(rng: random.Random, n_officers: int):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from command_center.choices import AssignmentStatus
    from command_center.models import Assignment, Event
    from enforcement.services import catalog as catalog_services
    from grids.choices import DutyStatus
    from grids.models import Department, Officer, Team

    t0 = time.perf_counter()
    now = timezone.now()
    district = area("BD", "基准区", "district")
    street = area("BS1", "基准街道", "street", district, tier="urban")
    other = area("BS2", "另一街道", "street", district, tier="general")
    grid = area("BG1", "基准网格", "grid", street)

    depts = [Department.objects.create(code=c, name=f"{c}部门") for c in
             ("ZHZF", "SCJG", "STHJ", "ZRZY", "YJGL", "JT", "WJ", "WHSC", "NY")]
    teams = [Team.objects.create(code=f"BT{i}", name=f"基准执法{i}中队", street=street) for i in range(4)]

    # Catalog: M-DEL (ZHZF) delegated to the street; M-OWN (SCJG) not delegated anywhere.
    catalog_services.create_matter(None, code="M-DEL", name="占道经营", law="《城市市容和环境卫生管理条例》", article="第三十六条",
                     department="ZHZF", kind="administrative_penalty", domain="市容")
    catalog_services.create_matter(None, code="M-OWN", name="无照经营", law="《无证无照经营查处办法》", article="第十三条",
                     department="SCJG", kind="administrative_penalty", domain="市场")
    catalog_services.delegate(None, matter_code="M-DEL", street_code="BS1", effective_from=date(2020, 1, 1))
    catalog_services.publish_draft(None)

    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"bench-officer-{i}") for i in range(n_officers)], batch_size=1000)
    if users[0].pk is None:  # backends that do not return ids from bulk_create
        users = list(User.objects.filter(username__startswith="bench-officer-").order_by("id"))
    lat0, lng0 = 30.25, 120.15
    statuses = ([DutyStatus.AVAILABLE] * 14 + [DutyStatus.BUSY] * 2 + [DutyStatus.EN_ROUTE, DutyStatus.ON_SCENE,
                DutyStatus.OFF_DUTY, DutyStatus.ON_BREAK])
    officers = []
    for i, u in enumerate(users):
        officers.append(Officer(
            user=u, name=f"队员{i}", badge_no=f"B{i:06d}", team=teams[i % len(teams)],
            home_department=depts[0] if rng.random() < 0.4 else rng.choice(depts[1:]),
            rank=rng.choice((1, 1, 1, 2, 2, 3, 4)), duty_status=rng.choice(statuses),
            skill_matter_codes=["M-OWN"] if rng.random() < 0.05 else [],
            last_lat=lat0 + rng.uniform(-0.025, 0.025), last_lng=lng0 + rng.uniform(-0.03, 0.03),
            last_accuracy=10.0, last_position_at=now - timedelta(seconds=rng.randint(0, 240)),
        ))
    officers = Officer.objects.bulk_create(officers, batch_size=1000)
    if officers[0].pk is None:
        officers = list(Officer.objects.filter(badge_no__startswith="B").order_by("id"))
    through = Officer.skill_departments.through
    through.objects.bulk_create([
        through(officer_id=o.pk, department_id=d.pk)
        for o in officers if rng.random() < 0.33 for d in rng.sample(depts, rng.choice((1, 2)))
    ], batch_size=2000, ignore_conflicts=True)

    def event(i, matter, delegated, department):
        return Event(source="citizen", problem_type_code="ZDJY", problem_type_name="占道经营", matter_code=matter,
                     description="基准事件", lat=lat0, lng=lng0, area=grid, grid=grid, street=street, team=teams[0],
                     department=department, delegated=delegated, severity="orange", status="new",
                     created_at=now - timedelta(minutes=i % 60))

    # Loads: 1,500 other events, each with one live assignment to a random officer (0–3 per officer).
    others = Event.objects.bulk_create([event(i, "M-DEL", True, depts[0]) for i in range(1500)], batch_size=500)
    if others[0].pk is None:
        others = list(Event.objects.order_by("id"))
    load_of = {}
    assignments = []
    for ev in others:
        o = rng.choice(officers)
        if load_of.get(o.pk, 0) >= 3:
            continue
        load_of[o.pk] = load_of.get(o.pk, 0) + 1
        assignments.append(Assignment(event=ev, officer=o, status=AssignmentStatus.LIVE, assigned_at=now))
    Assignment.objects.bulk_create(assignments, batch_size=1000)

    delegated_event = Event.objects.create(**{f.name: getattr(event(0, "M-DEL", True, depts[0]), f.name)
                                              for f in Event._meta.concrete_fields if f.name != "id"})
    owned_event = Event.objects.create(**{f.name: getattr(event(0, "M-OWN", False, depts[1]), f.name)
                                          for f in Event._meta.concrete_fields if f.name != "id"})
    # The delegated event has had two officers already (declined): they must come out as "had it before".
    for o in officers[:2]:
        Assignment.objects.create(event=delegated_event, officer=o, status=AssignmentStatus.DECLINED,
                                  assigned_at=now, ended_at=now)
    # Fresh statistics, as a running PostgreSQL has (and no autovacuum pass in the middle of the timing):
    # planned on the empty-table estimates of a just-loaded one, it counted each officer's load through
    # the wrong index (~150 ms a ranking).
    # (SQLite keeps no statistics unless asked, and Django never asks: the embedded default runs without.)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {
        "build_s": time.perf_counter() - t0, "officers": len(officers), "live_assignments": len(assignments),
        "skill_links": through.objects.count(), "events": [("delegated to the street", delegated_event),
                                                          ("held by a department", owned_event)],
    }


def _timed(fn, runs, cpu=None):
    """Wall-clock ms per call, sorted; `cpu` (a list) also gets this process's CPU ms per call, which a
    machine shared with other busy processes inflates far less than the wall clock."""
    for _ in range(5):
        fn()
    times = []
    for _ in range(runs):
        c, t = time.process_time(), time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - c) * 1000)
    times.sort()
    if cpu is not None:
        cpu.sort()
    return times


def measure(event, runs: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from command_center.dispatch import best, eligibility, overridable, ranking
    from grids.models import Officer

    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as ctx:
        first = ranking(event)  # cold: builds the routing snapshot
    cold_ms = (time.perf_counter() - t0) * 1000
    cold_queries = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        ranking(event)
    warm_queries = len(ctx.captured_queries)
    warm_sql = [q["sql"][:110] for q in ctx.captured_queries]
    cpu = []
    times = _timed(lambda: ranking(event), runs, cpu)
    best_times = _timed(lambda: best(event), runs)
    # What the drawer and a manual pick add: the street's officers the ranking leaves out (the nearest 50,
    # with their reasons), and one officer's eligibility (the dispatch service's check of a pick).
    left_out = overridable(event)
    overridable_times = _timed(lambda: overridable(event), runs)
    picked = Officer.objects.filter(team__street_id=event.street_id).order_by("id").first()
    eligibility_times = _timed(lambda: eligibility(event, picked), runs)
    return {
        "overridable": len(left_out), "overridable_times": overridable_times, "eligibility_times": eligibility_times,
        "cold_ms": cold_ms, "cold_queries": cold_queries, "warm_queries": warm_queries, "warm_sql": warm_sql,
        "ranked": first.pool, "eligible": first.eligible, "excluded": first.excluded, "shown": len(first.candidates),
        "top": first.candidates[0] if first.candidates else None, "times": times, "cpu": cpu, "best_times": best_times,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--officers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmpdir:
        t0 = time.perf_counter()
        setup_django(tmpdir, "bench_dispatch")
        t_migrate = time.perf_counter() - t0
        from django.db import connection

        rng = random.Random(args.seed)
        info = build(rng, args.officers)
        print(f"dispatch ranking benchmark on {connection.vendor} ({'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'temp SQLite file, WAL'}): "
              f"{info['officers']:,} officers in one street (4 teams, 9 departments, {info['skill_links']:,} skill links), "
              f"{info['live_assignments']:,} live assignments for loads")
        print(f"  setup: migrate {t_migrate:.1f} s, data {info['build_s']:.1f} s")
        verdicts = []
        for label, event in info["events"]:
            m = measure(event, args.runs)
            ms = m["times"]
            p50, p95, p99 = pct(ms, 50), pct(ms, 95), pct(ms, 99)
            per_officer = m["warm_queries"] / max(1, m["ranked"])
            n_plus_1 = m["warm_queries"] > 20
            top = m["top"]
            print(f"- event {label} (severity orange, matter {event.matter_code}): {m['ranked']:,} officers considered, "
                  f"{m['eligible']:,} eligible; first: #{top.officer_id} {top.duty_status} "
                  f"{top.distance_m:.0f} m load {top.load}" if top and top.distance_m is not None else
                  f"- event {label}: {m['ranked']:,} ranked, {m['eligible']:,} eligible")
            print(f"    SQL queries per rank(): {m['warm_queries']} warm ({per_officer:.4f} per officer), "
                  f"{m['cold_queries']} cold (first call, {m['cold_ms']:.0f} ms incl. the routing snapshot) — "
                  + ("N+1: queries grow with the officers!" if n_plus_1 else "no N+1 (a fixed handful)"))
            for sql in m["warm_sql"]:
                print(f"      {sql}")
            print(f"    excluded by reason: {m['excluded']}; page shown: {m['shown']} candidates with reasons")
            print(f"    ranking() (page of 20 + counts), {args.runs} runs: p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
                  f"p99 {p99:.2f} ms, mean {statistics.fmean(ms):.2f} ms, max {ms[-1]:.2f} ms")
            cpu = m["cpu"]
            print(f"    ranking() CPU time of this process per call: p50 {pct(cpu, 50):.2f} ms, p95 {pct(cpu, 95):.2f} ms "
                  f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall times above include waiting for a CPU)")
            bt = m["best_times"]
            print(f"    best() (automatic dispatch), {args.runs} runs: p50 {pct(bt, 50):.2f} ms, p95 {pct(bt, 95):.2f} ms")
            ot, et = m["overridable_times"], m["eligibility_times"]
            print(f"    overridable() ({m['overridable']} listed, the drawer's override list), {args.runs} runs: "
                  f"p50 {pct(ot, 50):.2f} ms, p95 {pct(ot, 95):.2f} ms; eligibility() of one pick: "
                  f"p50 {pct(et, 50):.2f} ms, p95 {pct(et, 95):.2f} ms")
            ok = p95 <= TARGET_P95_MS and pct(bt, 95) <= TARGET_P95_MS
            verdicts.append(ok)
            print(f"    target p95 ≤ {TARGET_P95_MS:.0f} ms: {'PASS' if ok else 'FAIL'}")
        print(f"target: p95 ≤ {TARGET_P95_MS:.0f} ms for ranking among {args.officers:,} officers: "
              f"{'PASS' if all(verdicts) else 'FAIL'}")
        connection.close()
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
