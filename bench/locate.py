"""Point → area lookup benchmark (issue 2): 10,000 generated micro-grid polygons.

Builds grids.spatial.AreaIndex directly from rows (no database): the micro-grids of
grids.demo_geometry.generate_microgrid_polygons(N), under a district > street > community > grid
chain of rectangles that cover the same square, so every lookup walks the whole chain as
GET /api/v1/grids/locate/ does. Then times R lookups at random points with perf_counter_ns and
prints the index build time and the median / p99 time per lookup against the target (<= 0.2 ms).

    .venv/bin/python bench/locate.py [--polygons 10000] [--lookups 20000] [--seed 1]

A measurement: it exits 0 whether the target is met or not (the PASS/FAIL line says which).
"""
import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SLA_TICKER", "off")

import django  # noqa: E402

django.setup()  # settings and app registry only: nothing here touches a database

from shapely.geometry import shape  # noqa: E402

from grids.demo_geometry import CENTER_LAT, CENTER_LNG, generate_microgrid_polygons  # noqa: E402
from grids.spatial import AreaIndex  # noqa: E402

TARGET_MS = 0.2
SIDE = 0.1  # generate_microgrid_polygons tiles a 0.1° square around (CENTER_LAT, CENTER_LNG)
WEST, SOUTH = CENTER_LNG - SIDE / 2, CENTER_LAT - SIDE / 2


def rect(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def build_rows(polygons):
    """(id, code, name, kind, parent_id, boundary) rows: 1 district, 2×2 streets, 4×4 communities,
    10×10 grids (rectangles), then the micro-grids, each under the grid holding its centroid."""
    rows = [(1, "D", "区", "district", None, rect(WEST, SOUTH, WEST + SIDE, SOUTH + SIDE))]
    next_id = 2

    def level(n, kind, parent_of):
        nonlocal next_id
        ids = {}
        step = SIDE / n
        for i in range(n):
            for j in range(n):
                x0, y0 = WEST + i * step, SOUTH + j * step
                ids[(i, j)] = next_id
                rows.append((next_id, f"{kind}-{i}-{j}", f"{kind} {i},{j}", kind, parent_of(x0 + step / 2, y0 + step / 2),
                             rect(x0, y0, x0 + step, y0 + step)))
                next_id += 1
        return lambda x, y: ids[(min(int((x - WEST) / step), n - 1), min(int((y - SOUTH) / step), n - 1))]

    street_at = level(2, "street", lambda x, y: 1)
    community_at = level(4, "community", street_at)
    grid_at = level(10, "grid", community_at)
    for k, boundary in enumerate(polygons):
        c = shape(boundary).centroid
        rows.append((next_id, f"M{k}", f"微网格{k}", "micro_grid", grid_at(c.x, c.y), boundary))
        next_id += 1
    return rows


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--polygons", type=int, default=10_000)
    ap.add_argument("--lookups", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    t0 = time.perf_counter_ns()
    polygons = generate_microgrid_polygons(args.polygons, seed=args.seed)
    t_gen = time.perf_counter_ns() - t0
    rows = build_rows(polygons)

    t0 = time.perf_counter_ns()
    index = AreaIndex(rows)
    t_build = time.perf_counter_ns() - t0

    rng = random.Random(args.seed)
    points = [(SOUTH + rng.random() * SIDE, WEST + rng.random() * SIDE) for _ in range(args.lookups)]
    for lat, lng in points[:1000]:  # warm-up
        index.chain(lat, lng)

    times, misses, depth_ok = [], 0, 0
    for lat, lng in points:
        t = time.perf_counter_ns()
        chain = index.chain(lat, lng)
        times.append(time.perf_counter_ns() - t)
        if not chain:
            misses += 1
        elif chain[0].kind == "micro_grid" and chain[-1].kind == "district":
            depth_ok += 1
    outside = [index.chain(SOUTH - 0.5, WEST - 0.5) for _ in range(10)]

    times.sort()
    median_ms = statistics.median(times) / 1e6
    p99_ms = percentile(times, 99) / 1e6
    print(f"areas indexed:      {len(rows):,} ({args.polygons:,} micro-grids + {len(rows) - args.polygons} parents)")
    print(f"polygon generation: {t_gen / 1e9:.2f} s (not part of the index)")
    print(f"index build:        {t_build / 1e6:.1f} ms")
    print(f"lookups:            {len(times):,} random points (chain: micro-grid … district)")
    print(f"  median:           {median_ms * 1000:.1f} µs ({median_ms:.4f} ms)")
    print(f"  p99:              {p99_ms * 1000:.1f} µs ({p99_ms:.4f} ms)")
    print(f"  mean:             {statistics.fmean(times) / 1e3:.1f} µs, max {times[-1] / 1e3:.1f} µs")
    print(f"  full chains:      {depth_ok:,}/{len(times):,}; misses: {misses}; outside point found nothing: "
          f"{all(not c for c in outside)}")
    verdict = "PASS" if p99_ms <= TARGET_MS else "FAIL"
    print(f"target: <= {TARGET_MS} ms per lookup (p99): {verdict}")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
