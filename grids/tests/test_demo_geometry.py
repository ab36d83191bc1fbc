"""Pure geometry tests for grids.demo_geometry (no DB, no Django settings needed)."""

import random
import re
from collections import Counter, defaultdict

import pytest
import shapely
from shapely.geometry import shape

from grids.demo_geometry import build_district, generate_microgrid_polygons, random_point_in

LEVELS = ("streets", "communities", "grids", "micro_grids", "zones")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Areas are in square degrees; the district is ~7e-3, one micro-grid ~1e-5 at scale 1.
TILE_TOL = 1e-9
OVERLAP_TOL = 1e-12


@pytest.fixture(scope="module")
def district():
    return build_district()


@pytest.fixture(scope="module")
def geoms(district):
    """code -> shapely geometry, built once: shape() is the slow part of these tests."""
    out = {district["district"]["code"]: shape(district["district"]["boundary"])}
    for level in LEVELS:
        out.update({a["code"]: shape(a["boundary"]) for a in district[level]})
    return out


def all_specs(d):
    return [d["district"]] + [a for level in LEVELS for a in d[level]]


def assert_tiles(parent, children, label):
    """children exactly cover parent (union == parent), don't overlap (sum of areas == union area), lie inside."""
    union = shapely.union_all(children)
    assert union.symmetric_difference(parent).area <= TILE_TOL, f"{label}: children don't cover parent"
    assert sum(c.area for c in children) - union.area <= OVERLAP_TOL, f"{label}: children overlap"
    # Vectorised difference: one GEOS call for all children instead of a Python loop.
    outside = shapely.area(shapely.difference(children, parent))
    assert outside.max() <= OVERLAP_TOL, f"{label}: a child sticks out of its parent"


def test_counts_and_tiers(district):
    assert district["district"]["name"] == "拱墅区" and district["district"]["code"] == "330105"
    assert len(district["streets"]) == 5
    assert {s["tier"] for s in district["streets"]} == {"general", "central", "urban"}
    assert {s["name"] for s in district["streets"]} <= {"拱宸桥街道", "东新街道", "翠苑街道", "青山湖街道", "余杭街道"}
    per_street = Counter(c["parent_code"] for c in district["communities"])
    assert set(per_street) == {s["code"] for s in district["streets"]}
    assert all(3 <= n <= 5 for n in per_street.values())
    assert len(district["grids"]) >= 150
    assert len(district["micro_grids"]) >= 400
    per_grid = Counter(m["parent_code"] for m in district["micro_grids"])
    assert set(per_grid) == {g["code"] for g in district["grids"]}  # every grid has micro-grids
    assert all(2 <= n <= 4 for n in per_grid.values())


def test_boundaries_are_valid_closed_ccw_and_rounded(district, geoms):
    for spec in all_specs(district):
        b = spec["boundary"]
        polys = [b["coordinates"]] if b["type"] == "Polygon" else b["coordinates"]
        assert b["type"] == "Polygon" or spec["kind"] == "zone"  # only zones may be MultiPolygons
        for poly in polys:
            ring = poly[0]
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert all(round(v, 6) == v for pt in ring for v in pt)
            assert shapely.LinearRing(ring).is_ccw, spec["code"]
        g = geoms[spec["code"]]
        assert g.is_valid, spec["code"]
        # GeoJSON order is [lng, lat]: lng around 120.15, lat around 30.30.
        minx, miny, maxx, maxy = g.bounds
        assert 120.0 < minx < maxx < 120.3 and 30.2 < miny < maxy < 30.4


def test_codes_unique_hierarchical_and_names_chinese(district):
    specs = all_specs(district)
    codes = [s["code"] for s in specs]
    assert len(codes) == len(set(codes))
    suffix = {"street": r"\d{3}", "community": r"\d{3}", "grid": r"\d{3}", "micro_grid": r"\d{2}", "zone": r"Z\d{2}"}
    by_code = {s["code"]: s for s in specs}
    parent_kind = {"street": "district", "community": "street", "grid": "community",
                   "micro_grid": "grid", "zone": "street"}
    for s in specs:
        assert CHINESE.search(s["name"]), s["name"]
        if s["kind"] == "district":
            assert s["parent_code"] is None
            continue
        parent = by_code[s["parent_code"]]
        assert parent["kind"] == parent_kind[s["kind"]]
        assert re.fullmatch(re.escape(parent["code"]) + suffix[s["kind"]], s["code"]), s["code"]
    assert all(c["name"].endswith("社区") for c in district["communities"])
    assert all(re.fullmatch(r"第\d+网格", g["name"]) for g in district["grids"])
    assert all(re.fullmatch(r"第\d+微网格", m["name"]) for m in district["micro_grids"])


def test_each_level_tiles_its_parent(district, geoms):
    children_of = defaultdict(list)
    for level in ("streets", "communities", "grids", "micro_grids"):
        for a in district[level]:
            children_of[a["parent_code"]].append(geoms[a["code"]])
    parents = [district["district"]] + district["streets"] + district["communities"] + district["grids"]
    for p in parents:
        assert_tiles(geoms[p["code"]], children_of[p["code"]], p["code"])


def test_zones_partition_qingshanhu_grids(district, geoms):
    street = next(s for s in district["streets"] if s["name"] == "青山湖街道")
    zones = district["zones"]
    assert len(zones) == 5 and all(z["parent_code"] == street["code"] for z in zones)
    assert [z["name"] for z in zones] == ["第一防区", "第二防区", "第三防区", "第四防区", "第五防区"]
    communities = {c["code"] for c in district["communities"] if c["parent_code"] == street["code"]}
    street_grids = {g["code"] for g in district["grids"] if g["parent_code"] in communities}
    zoned = [c for z in zones for c in z["grid_codes"]]
    assert len(zoned) == len(set(zoned)) and set(zoned) == street_grids  # each grid in exactly one zone
    for z in zones:
        union = shapely.union_all([geoms[c] for c in z["grid_codes"]])
        assert geoms[z["code"]].symmetric_difference(union).area <= TILE_TOL
    assert_tiles(geoms[street["code"]], [geoms[z["code"]] for z in zones], "zones")


def test_deterministic():
    assert build_district(7) == build_district(7)
    assert build_district(7) != build_district(8)
    assert generate_microgrid_polygons(50, seed=3) == generate_microgrid_polygons(50, seed=3)


def test_streets_spec_override():
    spec = [{"name": "东新街道", "tier": "urban"}, ("青山湖街道", "general"), ("余杭街道", "central")]
    d = build_district(1, streets_spec=spec)
    assert [(s["name"], s["tier"]) for s in d["streets"]] == [(n, t) for n, t in
                                                              [("东新街道", "urban"), ("青山湖街道", "general"),
                                                               ("余杭街道", "central")]]
    assert len(d["zones"]) == 5
    with pytest.raises(ValueError):
        build_district(1, streets_spec=[("东新街道", "nope")])


def test_scale_multiplies_grids_and_still_tiles():
    d = build_district(scale=10)
    assert len(d["grids"]) >= 1500 and len(d["micro_grids"]) >= 4000
    district = shape(d["district"]["boundary"])
    grids = [shape(g["boundary"]) for g in d["grids"]]
    micro = [shape(m["boundary"]) for m in d["micro_grids"]]
    assert all(shapely.is_valid(grids)) and all(shapely.is_valid(micro))
    # Grids and micro-grids each tile the whole district (cheaper than per-parent checks at this size).
    assert_tiles(district, grids, "scale10 grids")
    assert_tiles(district, micro, "scale10 micro")
    codes = [a["code"] for level in LEVELS for a in d[level]]
    assert len(codes) == len(set(codes))


def test_random_point_in_lands_strictly_inside(district, geoms):
    rng = random.Random(42)
    for spec in district["micro_grids"][::25] + district["zones"] + district["streets"]:
        g = geoms[spec["code"]]
        for _ in range(5):
            lat, lng = random_point_in(spec["boundary"], rng)
            assert g.contains(shapely.Point(lng, lat))  # contains == interior, not on the boundary
            assert 30.2 < lat < 30.4 and 120.0 < lng < 120.3  # returned as (lat, lng), not (lng, lat)


@pytest.mark.parametrize("n", [10000, 37, 1])
def test_generate_microgrid_polygons_tiles_square(n):
    polys = generate_microgrid_polygons(n)
    assert len(polys) == n
    assert all(p["type"] == "Polygon" and p["coordinates"][0][0] == p["coordinates"][0][-1] for p in polys)
    geoms = [shape(p) for p in polys]
    assert all(shapely.is_valid(geoms))
    assert all(shapely.LinearRing(p["coordinates"][0]).is_ccw for p in polys[:: max(1, n // 200)])
    # The documented region: a 0.1° square centred on (lat 30.30, lng 120.15).
    square = shapely.box(120.10, 30.25, 120.20, 30.35)
    assert_tiles(square, geoms, f"microgrid square n={n}")
