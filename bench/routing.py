"""Routing benchmark: decisions per second and time per decision with 2,000 matters, 20 streets and
10,000 grids (target: p95 ≤ 2 ms per decision).

Standalone and honest: its own in-memory SQLite database (Django configured here with just the apps
routing needs), real migrations, real models, and the real `enforcement.selectors.route()` — the same
call the command center's event intake makes — including the periodic database stamp check the cache
does every CATALOG_CACHE_CHECK_SECONDS. Points are random inside the district; problem types are random.

    .venv/bin/python bench/routing.py [--decisions 20000] [--seed 1]

Exits 1 when the p95 misses the target.
"""
import argparse
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 2.0
N_MATTERS, N_STREETS, N_GRIDS = 2000, 20, 10000


def setup_django():
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        USE_TZ=True,
        TIME_ZONE="Asia/Shanghai",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "core", "grids", "enforcement"],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        AREA_INDEX_CHECK_SECONDS=2.0,
        CATALOG_CACHE_CHECK_SECONDS=2.0,
        AREA_CONTAINMENT_TOLERANCE=0.01,
        NOTICE_SENDER="grids.services.OutboxSender",
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, run_syncdb=True)


def build(rng: random.Random):
    from django.utils import timezone
    from shapely.geometry import box, mapping

    from enforcement.choices import MatterKind, Severity, VersionStatus
    from enforcement.models import CatalogVersion, Delegation, Matter, ProblemType
    from grids.demo_geometry import CENTER_LAT, CENTER_LNG, generate_microgrid_polygons
    from grids.models import Area, Department, Team

    t0 = time.perf_counter()
    polygons = generate_microgrid_polygons(N_GRIDS, seed=rng.randint(0, 10**6))
    half = 0.05
    district = Area(id=1, code="D", name="基准区", kind="district", path="/1/",
                    boundary=mapping(box(CENTER_LNG - half, CENTER_LAT - half, CENTER_LNG + half, CENTER_LAT + half)))
    areas = [district]
    streets = []
    for s in range(N_STREETS):
        sid, cid = 2 + s, 2 + N_STREETS + s
        tier = ("general", "central", "urban")[s % 3]
        streets.append(Area(id=sid, code=f"S{s:02d}", name=f"街道{s:02d}", kind="street", parent_id=1, tier=tier,
                            path=f"/1/{sid}/"))
        areas.append(Area(id=cid, code=f"S{s:02d}C", name=f"社区{s:02d}", kind="community", parent_id=sid,
                          path=f"/1/{sid}/{cid}/"))
    areas += streets
    first_grid = 2 + 2 * N_STREETS
    per_street = N_GRIDS // N_STREETS
    for g, poly in enumerate(polygons):
        s = min(g // per_street, N_STREETS - 1)  # polygons come in rows: a street is a band of rows
        sid, cid, gid = 2 + s, 2 + N_STREETS + s, first_grid + g
        areas.append(Area(id=gid, code=f"G{g:05d}", name=f"网格{g}", kind="grid", parent_id=cid, boundary=poly,
                          path=f"/1/{sid}/{cid}/{gid}/"))
    Area.objects.bulk_create(areas, batch_size=1000)
    departments = [Department.objects.create(code=c, name=f"{c}部门") for c in
                   ("ZHZF", "SCJG", "STHJ", "ZRZY", "YJGL", "JT", "WJ", "WHSC", "NY")]
    Team.objects.bulk_create([Team(code=f"T-{s.code}", name=f"{s.name}综合行政执法队", street=s) for s in streets])

    version = CatalogVersion.objects.create(number=1, status=VersionStatus.PUBLISHED,
                                            published_at=timezone.now())
    kinds = [MatterKind.ADMINISTRATIVE_PENALTY] * 6 + [MatterKind.INSPECTION] * 3 + [MatterKind.COERCIVE_MEASURE]
    matters = Matter.objects.bulk_create([
        Matter(version=version, code=f"M{i:04d}", name=f"对第{i}类违法行为的行政处罚", law="《基准条例》",
               article=f"第{i % 90 + 1}条", department=departments[i % len(departments)], kind=rng.choice(kinds),
               domain=f"领域{i % 13}", non_site=rng.random() < 0.1)
        for i in range(N_MATTERS)
    ], batch_size=1000)
    size = {"general": 250, "central": 300, "urban": 350}
    delegations = []
    for s in streets:
        for m in rng.sample(matters, size[s.tier]):
            delegations.append(Delegation(matter=m, street=s, tier=s.tier, effective_from=date(2025, 1, 1)))
    Delegation.objects.bulk_create(delegations, batch_size=2000)
    severities = Severity.values
    ProblemType.objects.bulk_create([
        ProblemType(code=f"P{i:03d}", name=f"问题{i}", matter_code=rng.choice(matters).code,
                    default_severity=rng.choice(severities))
        for i in range(200)
    ])
    return {"build_s": time.perf_counter() - t0, "delegations": len(delegations), "grids": len(polygons),
            "bounds": (CENTER_LAT - half, CENTER_LNG - half, CENTER_LAT + half, CENTER_LNG + half)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    setup_django()
    rng = random.Random(args.seed)
    info = build(rng)

    from enforcement import routing
    from enforcement.selectors import route
    from grids import spatial

    min_lat, min_lng, max_lat, max_lng = info["bounds"]
    codes = [f"P{i:03d}" for i in range(200)]
    t0 = time.perf_counter()
    spatial.get_index()
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    route(codes[0], (min_lat + max_lat) / 2, (min_lng + max_lng) / 2)   # snapshot + today's delegations
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    route(codes[0], (min_lat + max_lat) / 2, (min_lng + max_lng) / 2, on=date(2026, 3, 1))
    t_new_day = time.perf_counter() - t0

    points = [(rng.uniform(min_lat + 1e-6, max_lat - 1e-6), rng.uniform(min_lng + 1e-6, max_lng - 1e-6))
              for _ in range(args.decisions)]
    types = [rng.choice(codes) for _ in range(args.decisions)]
    times = []
    delegated = 0
    start = time.perf_counter()
    for (lat, lng), code in zip(points, types):
        t = time.perf_counter()
        d = route(code, lat, lng)
        times.append(time.perf_counter() - t)
        delegated += d.delegated
    wall = time.perf_counter() - start
    times.sort()
    ms = [x * 1000 for x in times]

    def pct(p):
        return ms[min(len(ms) - 1, int(len(ms) * p))]

    p95 = pct(0.95)
    print(f"routing benchmark: {N_MATTERS} matters, {N_STREETS} streets, {info['grids']} grids, "
          f"{info['delegations']} delegations, 200 problem types (built in {info['build_s']:.1f} s)")
    print(f"  cold: spatial index {t_index * 1000:.0f} ms, catalog snapshot + today's delegations "
          f"{t_cold * 1000:.0f} ms, another day's delegations {t_new_day * 1000:.1f} ms")
    print(f"  {args.decisions} decisions in {wall:.2f} s: {args.decisions / wall:,.0f} decisions/s "
          f"({delegated / args.decisions:.0%} to street teams)")
    print(f"  per decision: mean {statistics.fmean(ms):.3f} ms, p50 {pct(0.5):.3f} ms, p95 {p95:.3f} ms, "
          f"p99 {pct(0.99):.3f} ms, max {ms[-1]:.2f} ms (includes the cache's periodic DB stamp checks)")
    ok = p95 <= TARGET_P95_MS
    print(f"  target p95 ≤ {TARGET_P95_MS} ms: {'met' if ok else 'MISSED'}")
    routing.invalidate()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
