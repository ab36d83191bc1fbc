"""Deterministic synthetic geometry for the command-center demo (a Hangzhou-like district near 30.30N, 120.15E).

Pure Python + shapely 2, no Django, so it can be used by seed commands, benchmarks and plain unit tests.

How exact tiling is achieved: every polygon is built from ONE shared lattice of jittered points whose
coordinates are rounded to 6 decimals once, up front. Micro-grids and grids are rectangles of lattice cells
whose rings list *every* lattice point on their edges, so neighbours share identical vertices and edges.
Communities, streets and zones are unions of those pieces, so no float drift ever appears between levels.

    build_district(seed=20261123, *, streets_spec=None, scale=1) -> dict
    random_point_in(boundary, rng) -> (lat, lng)
    generate_microgrid_polygons(n, seed=1) -> list[GeoJSON Polygon]
"""

from __future__ import annotations

import math
import random

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.polygon import orient

DISTRICT_CODE = "330105"
DISTRICT_NAME = "拱墅区"
CENTER_LAT, CENTER_LNG = 30.30, 120.15
TIERS = ("general", "central", "urban")
ZONE_STREET_NAME = "青山湖街道"
ZONE_COUNT = 5

# West → east order; tiers chosen so all three appear in the default demo.
DEFAULT_STREETS = (
    ("拱宸桥街道", "central"),
    ("东新街道", "urban"),
    ("翠苑街道", "urban"),
    ("青山湖街道", "general"),
    ("余杭街道", "general"),
)

# Pool of plausible community names; sampled without replacement so names are unique within the district.
COMMUNITY_NAMES = (
    "大关", "小河", "和睦", "米市巷", "湖墅", "祥符", "德胜", "文晖", "潮鸣", "朝晖", "长庆", "武林",
    "天水", "大塘巷", "香积寺", "桥西", "登云", "丽水", "运河", "卖鱼桥", "信义坊", "半山", "康桥",
    "田园", "石桥", "善贤", "蔡马", "华丰", "上塘", "瓜山", "北秀", "左岸", "皋亭", "永丰", "东清",
    "新兴", "红石板", "星桥", "沈塘", "杭氧",
)

# District extent in degrees (~9.6 km × 7.8 km). Lng span is larger because a degree of lng is shorter here.
_LNG_SPAN = 0.10
_LAT_SPAN = 0.07
# Coarse "base block" lattice that carries the street / community structure (independent of scale).
_BASE_COLS_PER_STREET = 4
_BASE_ROWS = 10
_JITTER = 0.2  # fraction of a cell; < 0.25 keeps every jittered quad simple (non-self-intersecting)
_ROUND = 6

_CN_DIGITS = "零一二三四五六七八九"


def _cn_number(n: int) -> str:
    """1..99 in Chinese numerals (第一防区, 第十二防区…)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def _ring_from_geom(geom) -> dict:
    """shapely Polygon/MultiPolygon → GeoJSON dict with CCW exteriors and 6-decimal coordinates."""
    if isinstance(geom, Polygon):
        geom = orient(geom, 1.0)
    elif isinstance(geom, MultiPolygon):
        geom = MultiPolygon([orient(p, 1.0) for p in geom.geoms])
    else:  # pragma: no cover - unions of adjacent tiles are always polygonal
        raise ValueError(f"unexpected geometry {geom.geom_type}")
    gj = mapping(geom)

    def fix(ring):
        return [[round(x, _ROUND), round(y, _ROUND)] for x, y in ring]

    if gj["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [fix(r) for r in gj["coordinates"]]}
    return {"type": "MultiPolygon", "coordinates": [[fix(r) for r in poly] for poly in gj["coordinates"]]}


def _polygon_geojson(ring: list) -> dict:
    """A ring of already-rounded (lng, lat) points, CCW, not closed → closed GeoJSON Polygon."""
    coords = [[x, y] for x, y in ring]
    coords.append(coords[0])
    return {"type": "Polygon", "coordinates": [coords]}


class _Lattice:
    """(nx+1) × (ny+1) jittered, smoothly warped points; i grows east, j grows north."""

    def __init__(self, nx: int, ny: int, rng: random.Random, warp: tuple[float, float]):
        self.nx, self.ny = nx, ny
        west, south = CENTER_LNG - _LNG_SPAN / 2, CENTER_LAT - _LAT_SPAN / 2
        dx, dy = _LNG_SPAN / nx, _LAT_SPAN / ny
        ph1, ph2 = warp
        pts = []
        for i in range(nx + 1):
            col = []
            u = i / nx
            for j in range(ny + 1):
                v = j / ny
                # Low-frequency warp so the district outline and strips are not axis-aligned rectangles;
                # lng shift depends only on v and lat shift only on u, which keeps the map one-to-one.
                x = west + u * _LNG_SPAN + 0.003 * math.sin(2 * math.pi * (1.1 * v + ph1))
                y = south + v * _LAT_SPAN + 0.002 * math.sin(2 * math.pi * (0.9 * u + ph2))
                x += rng.uniform(-_JITTER, _JITTER) * dx
                y += rng.uniform(-_JITTER, _JITTER) * dy
                # Rounded once here: every polygon reuses these exact floats, so shared edges are identical.
                col.append((round(x, _ROUND), round(y, _ROUND)))
            pts.append(col)
        self.pts = pts

    def rect_ring(self, i0: int, j0: int, i1: int, j1: int) -> list:
        """CCW ring around cells [i0,i1) × [j0,j1), listing every lattice point on the boundary (no T-junctions)."""
        p = self.pts
        ring = [p[i][j0] for i in range(i0, i1)]            # south edge, west → east
        ring += [p[i1][j] for j in range(j0, j1)]           # east edge, south → north
        ring += [p[i][j1] for i in range(i1, i0, -1)]       # north edge, east → west
        ring += [p[i0][j] for j in range(j1, j0, -1)]       # west edge, north → south
        return ring


def _scale_factors(scale: int) -> tuple[int, int]:
    """Split `scale` into sx × sy == scale with sx >= sy as close to square as possible."""
    sy = int(math.isqrt(scale))
    while scale % sy:
        sy -= 1
    return scale // sy, sy


def _split(total: int, parts: int, rng: random.Random, minimum: int) -> list[int]:
    """Random composition of `total` into `parts` sizes, each >= minimum."""
    sizes = [minimum] * parts
    for _ in range(total - minimum * parts):
        sizes[rng.randrange(parts)] += 1
    return sizes


def _normalise_streets_spec(streets_spec) -> list[tuple[str, str]]:
    if streets_spec is None:
        return list(DEFAULT_STREETS)
    out = []
    for item in streets_spec:
        name, tier = (item["name"], item["tier"]) if isinstance(item, dict) else item
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r} for {name}")
        out.append((name, tier))
    if not out:
        raise ValueError("streets_spec must not be empty")
    if len({n for n, _ in out}) != len(out):
        raise ValueError("street names must be unique")
    return out


def _code(prefix: str, n: int, width: int) -> str:
    if n >= 10 ** width:
        raise ValueError(f"too many children under {prefix}: {n} does not fit in {width} digits")
    return f"{prefix}{n:0{width}d}"


# Micro-grid layouts inside a 2×2-cell grid, as (di0, dj0, di1, dj1) cell rectangles.
_MICRO_LAYOUTS = (
    # 4 singles
    (0.30, [(0, 0, 1, 1), (1, 0, 2, 1), (0, 1, 1, 2), (1, 1, 2, 2)]),
    # 3 pieces: one pair + two singles (pair on the south / north / west / east side)
    (0.1125, [(0, 0, 2, 1), (0, 1, 1, 2), (1, 1, 2, 2)]),
    (0.1125, [(0, 1, 2, 2), (0, 0, 1, 1), (1, 0, 2, 1)]),
    (0.1125, [(0, 0, 1, 2), (1, 0, 2, 1), (1, 1, 2, 2)]),
    (0.1125, [(1, 0, 2, 2), (0, 0, 1, 1), (0, 1, 1, 2)]),
    # 2 halves
    (0.125, [(0, 0, 1, 2), (1, 0, 2, 2)]),
    (0.125, [(0, 0, 2, 1), (0, 1, 2, 2)]),
)
_MICRO_WEIGHTS = [w for w, _ in _MICRO_LAYOUTS]


def build_district(seed: int = 20261123, *, streets_spec=None, scale: int = 1) -> dict:
    """Build the whole demo area tree. See module docstring; output is a dict of AreaSpec lists."""
    if not isinstance(scale, int) or scale < 1:
        raise ValueError("scale must be a positive int")
    streets = _normalise_streets_spec(streets_spec)
    rng = random.Random(seed)
    n_streets = len(streets)
    bx, by = _BASE_COLS_PER_STREET * n_streets, _BASE_ROWS

    # --- Coarse structure first, so it is the same at every scale (scale only refines the lattice). ---
    # Street k spans base columns [bounds[k][r], bounds[k+1][r]) in base row r. Inner boundaries wander
    # ±1 column around the nominal value with steps of at most 1 between rows: widths stay >= 2 and
    # consecutive rows of a street always overlap, so every street (and community) is connected.
    bounds = [[0] * by]
    for k in range(1, n_streets):
        nominal = k * _BASE_COLS_PER_STREET
        off, col = rng.choice((-1, 0, 1)), []
        for _ in range(by):
            off = max(-1, min(1, off + rng.choice((-1, 0, 0, 1))))
            col.append(nominal + off)
        bounds.append(col)
    bounds.append([bx] * by)

    # Communities: 3–5 horizontal bands of base rows per street, each >= 2 rows tall.
    bands_per_street = []
    for _ in range(n_streets):
        n_comm = rng.randint(3, 5)
        bands_per_street.append(_split(by, n_comm, rng, 2))
    n_comm_total = sum(len(b) for b in bands_per_street)
    pool = list(COMMUNITY_NAMES)
    names = rng.sample(pool, n_comm_total) if n_comm_total <= len(pool) else [
        f"{pool[i % len(pool)]}{i // len(pool) + 1}" for i in range(n_comm_total)
    ]
    warp = (rng.random(), rng.random())

    # --- Fine lattice: each base block = sx × sy grids, each grid = 2 × 2 cells. ---
    sx, sy = _scale_factors(scale)
    cx, cy = 2 * sx, 2 * sy  # cells per base block
    lat = _Lattice(bx * cx, by * cy, rng, warp)
    mrng = random.Random(f"{seed}:micro:{scale}")  # separate stream: micro layouts don't shift anything else

    district_ring = lat.rect_ring(0, 0, lat.nx, lat.ny)
    district = {
        "code": DISTRICT_CODE, "name": DISTRICT_NAME, "kind": "district", "parent_code": None,
        "boundary": _polygon_geojson(district_ring),
    }
    out_streets, out_comms, out_grids, out_micro, out_zones = [], [], [], [], []
    name_iter = iter(names)

    for k, (street_name, tier) in enumerate(streets):
        street_code = _code(DISTRICT_CODE, k + 1, 3)
        street_polys = []
        # Grid rows of this street north → south, for zone banding: list of lists of grid codes.
        grid_rows: dict[int, list[str]] = {}
        row_top = by
        for c_idx, band in enumerate(bands_per_street[k]):
            comm_code = _code(street_code, c_idx + 1, 3)
            r_hi, r_lo = row_top, row_top - band  # communities listed north → south
            row_top = r_lo
            # Community polygon = union of one cell rectangle per base row (staircase sides).
            row_polys = []
            for r in range(r_lo, r_hi):
                c0, c1 = bounds[k][r], bounds[k + 1][r]
                row_polys.append(Polygon(lat.rect_ring(c0 * cx, r * cy, c1 * cx, (r + 1) * cy)))
            comm_geom = shapely.union_all(row_polys)
            street_polys.append(comm_geom)
            out_comms.append({
                "code": comm_code, "name": f"{next(name_iter)}社区", "kind": "community",
                "parent_code": street_code, "boundary": _ring_from_geom(comm_geom),
            })
            # Grids in reading order: north row first, west → east.
            g_no = 0
            for r in range(r_hi - 1, r_lo - 1, -1):
                c0, c1 = bounds[k][r], bounds[k + 1][r]
                for gj in range(sy - 1, -1, -1):
                    grid_row_idx = r * sy + gj
                    for gi in range(c0 * sx, c1 * sx):
                        g_no += 1
                        grid_code = _code(comm_code, g_no, 3)
                        i0, j0 = gi * 2, grid_row_idx * 2
                        out_grids.append({
                            "code": grid_code, "name": f"第{g_no}网格", "kind": "grid",
                            "parent_code": comm_code,
                            "boundary": _polygon_geojson(lat.rect_ring(i0, j0, i0 + 2, j0 + 2)),
                        })
                        grid_rows.setdefault(grid_row_idx, []).append(grid_code)
                        layout = mrng.choices(_MICRO_LAYOUTS, weights=_MICRO_WEIGHTS)[0][1]
                        for m_no, (a0, b0, a1, b1) in enumerate(layout, start=1):
                            out_micro.append({
                                "code": _code(grid_code, m_no, 2), "name": f"第{m_no}微网格",
                                "kind": "micro_grid", "parent_code": grid_code,
                                "boundary": _polygon_geojson(lat.rect_ring(i0 + a0, j0 + b0, i0 + a1, j0 + b1)),
                            })
        street_geom = shapely.union_all(street_polys)
        out_streets.append({
            "code": street_code, "name": street_name, "kind": "street", "parent_code": DISTRICT_CODE,
            "tier": tier, "boundary": _ring_from_geom(street_geom),
        })

        if street_name == ZONE_STREET_NAME:
            out_zones.extend(_build_zones(street_code, grid_rows, out_grids))

    return {
        "district": district,
        "streets": out_streets,
        "communities": out_comms,
        "grids": out_grids,
        "micro_grids": out_micro,
        "zones": out_zones,
    }


def _build_zones(street_code: str, grid_rows: dict[int, list[str]], all_grids: list[dict]) -> list[dict]:
    """Split the street's grid rows (north → south) into ZONE_COUNT horizontal bands.

    Whole grid rows per zone keep each zone connected (rows of a street always overlap), and every grid
    lands in exactly one zone.
    """
    rows = [grid_rows[r] for r in sorted(grid_rows, reverse=True)]
    if len(rows) < ZONE_COUNT:  # pragma: no cover - base lattice always has 10 rows
        raise ValueError("street too small for zones")
    boundary_by_code = {g["code"]: g["boundary"] for g in all_grids if g["code"].startswith(street_code)}
    zones, start = [], 0
    for z in range(ZONE_COUNT):
        # Even split of rows; the first (len % ZONE_COUNT) zones take one extra row.
        n_rows = len(rows) // ZONE_COUNT + (1 if z < len(rows) % ZONE_COUNT else 0)
        codes = [c for row in rows[start:start + n_rows] for c in row]
        start += n_rows
        geom = shapely.union_all([shape(boundary_by_code[c]) for c in codes])
        zones.append({
            "code": f"{street_code}Z{z + 1:02d}", "name": f"第{_cn_number(z + 1)}防区", "kind": "zone",
            "parent_code": street_code, "grid_codes": codes, "boundary": _ring_from_geom(geom),
        })
    return zones


def random_point_in(boundary: dict, rng: random.Random) -> tuple[float, float]:
    """(lat, lng) strictly inside a GeoJSON Polygon/MultiPolygon, by rejection sampling on its bounds.

    The candidate is rounded to 6 decimals *before* the test, so the value callers store is the one checked.
    """
    geom = shape(boundary)
    shapely.prepare(geom)
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(100_000):
        x = round(rng.uniform(minx, maxx), _ROUND)
        y = round(rng.uniform(miny, maxy), _ROUND)
        if shapely.contains_xy(geom, x, y):  # contains ⇒ interior, never on the boundary
            return (y, x)
    raise ValueError("could not sample a point inside the boundary")  # pragma: no cover - degenerate polygon


def generate_microgrid_polygons(n: int, seed: int = 1) -> list[dict]:
    """n GeoJSON Polygons exactly tiling a square (0.1° × 0.1°) around (30.30, 120.15), for lookup benchmarks.

    Works for any n: rows = round(sqrt(n)) horizontal bands, each split into n//rows or n//rows+1 cells
    (brick-like, so cells stay roughly square). Row boundaries are jittered polylines holding the separator
    x's of BOTH adjacent rows, so neighbours share identical vertices (no T-junctions). Separators are
    vertical at a jittered x: a vertical line meets each boundary polyline (a function of x) exactly once,
    so no cell can self-intersect however close separators of adjacent rows get.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    rng = random.Random(seed)
    side = 0.1
    west, south = CENTER_LNG - side / 2, CENTER_LAT - side / 2
    rows = max(1, round(math.sqrt(n)))
    counts = [n // rows + (1 if r < n % rows else 0) for r in range(rows)]
    dy = side / rows

    def x_at(frac: float) -> float:
        return round(west + frac * side, _ROUND)

    # Separator x positions per row; the square's west / east edges stay fixed so the region is exact.
    seps = []
    for cnt in counts:
        xs = [x_at(0.0)]
        xs += [x_at((s + rng.uniform(-_JITTER, _JITTER)) / cnt) for s in range(1, cnt)]
        xs.append(x_at(1.0))
        seps.append(xs)

    # Row boundary b (0..rows) as {x: y}; interior boundaries get a jittered y per vertex (|jitter| < dy/2
    # keeps consecutive boundaries apart), the square's south / north edges stay straight.
    boundaries = []
    for b in range(rows + 1):
        xs = set()
        if b > 0:
            xs.update(seps[b - 1])
        if b < rows:
            xs.update(seps[b])
        y0 = south + b * dy
        jitter = _JITTER if 0 < b < rows else 0.0
        boundaries.append({x: round(y0 + rng.uniform(-jitter, jitter) * dy, _ROUND) for x in sorted(xs)})
    boundary_xs = [sorted(bd) for bd in boundaries]

    out = []
    for r, cnt in enumerate(counts):
        lower, upper = boundaries[r], boundaries[r + 1]
        lxs, uxs = boundary_xs[r], boundary_xs[r + 1]
        for c in range(cnt):
            x0, x1 = seps[r][c], seps[r][c + 1]
            ring = [(x, lower[x]) for x in lxs if x0 <= x <= x1]            # south, west → east
            ring += [(x, upper[x]) for x in reversed(uxs) if x0 <= x <= x1]  # north, east → west
            out.append(_polygon_geojson(ring))
    return out
