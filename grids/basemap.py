"""The offline base map: the demo district's roads, rivers, parks and landmarks as GeoJSON, drawn by
Leaflet as vector layers under everything else when no tile service is configured (MAP_TILE_URL empty:
a desk on a closed network sees streets and the canal, not a blank background).

Built from the demo district's own outline (grids.demo_geometry.build_district, the same seed as
`load_demo`), clipped to it, and named with the road names the demo's addresses use (grids.demo.ROADS),
so the base map and the demo's boundaries and addresses agree. Deterministic and computed once.

    basemap() -> GeoJSON FeatureCollection; each feature's properties: kind (road_major, road_minor,
    river, park, landmark) and name.
"""
from __future__ import annotations

import math
from functools import lru_cache

from shapely.geometry import LineString, Point, Polygon, mapping, shape

from grids.demo_geometry import build_district

# The demo's road names, in the order the base map lays them out (a subset of grids.demo.ROADS).
MAJOR_EW = ("德胜路", "文一路", "湖州街")
MAJOR_NS = ("莫干山路", "上塘路", "丽水路", "东新路")
MINOR_EW = ("大关路", "香积寺路", "石桥路", "登云路")
MINOR_NS = ("金华路", "长乐路", "沈半路", "半山路", "康桥路")
RIVERS = ("京杭大运河", "上塘河")
PARKS = (("大关公园", 0.30, 0.45, 0.04, 0.06), ("半山森林公园", 0.86, 0.82, 0.10, 0.12))
LANDMARKS = (("拱宸桥", "bridge"), ("香积寺", "temple"), ("京杭大运河博物馆", "museum"), ("拱墅区人民政府", "government"),
             ("运河文化广场", "square"), ("杭州东站", "station"))


def _frame():
    """The district's outline and an (u, v) → (lng, lat) map over its bounding box."""
    outline = shape(build_district()["district"]["boundary"])
    west, south, east, north = outline.bounds

    def at(u, v):
        return (round(west + u * (east - west), 6), round(south + v * (north - south), 6))

    return outline, at


def _wavy(at, start, end, *, amplitude=0.006, waves=1.5, steps=24):
    """A gently curving line from start to end (in (u, v)), offset sideways by a sine."""
    (u0, v0), (u1, v1) = start, end
    du, dv = u1 - u0, v1 - v0
    length = math.hypot(du, dv) or 1
    nu, nv = -dv / length, du / length
    points = []
    for i in range(steps + 1):
        t = i / steps
        off = amplitude * math.sin(math.pi * waves * t)
        points.append(at(u0 + du * t + nu * off, v0 + dv * t + nv * off))
    return LineString(points)


def _feature(geom, kind, name, **extra):
    return {"type": "Feature", "geometry": mapping(geom), "properties": {"kind": kind, "name": name, **extra}}


def _lines(outline, kind, name, line):
    clipped = line.intersection(outline)
    return [] if clipped.is_empty else [_feature(clipped, kind, name)]


@lru_cache(maxsize=1)
def basemap() -> dict:
    outline, at = _frame()
    features = []
    for i, name in enumerate(MAJOR_EW):
        v = (i + 1) / (len(MAJOR_EW) + 1)
        features += _lines(outline, "road_major", name, _wavy(at, (-0.05, v), (1.05, v + 0.02), amplitude=0.01))
    for i, name in enumerate(MAJOR_NS):
        u = (i + 1) / (len(MAJOR_NS) + 1)
        features += _lines(outline, "road_major", name, _wavy(at, (u, -0.05), (u + 0.03, 1.05), amplitude=0.012))
    for i, name in enumerate(MINOR_EW):
        v = (2 * i + 1) / (2 * len(MINOR_EW) + 2) + 0.06
        features += _lines(outline, "road_minor", name, _wavy(at, (-0.05, v), (1.05, v - 0.01), amplitude=0.006, waves=2))
    for i, name in enumerate(MINOR_NS):
        u = (2 * i + 1) / (2 * len(MINOR_NS) + 1) + 0.03
        features += _lines(outline, "road_minor", name, _wavy(at, (u, -0.05), (u - 0.02, 1.05), amplitude=0.008, waves=2))
    canal = _wavy(at, (0.08, -0.05), (0.62, 1.05), amplitude=0.05, waves=3, steps=60)
    features += _lines(outline, "river", RIVERS[0], canal)
    features += _lines(outline, "river", RIVERS[1], _wavy(at, (0.25, 0.18), (1.05, 0.32), amplitude=0.03, waves=2, steps=40))
    for name, u, v, w, h in PARKS:
        park = Polygon([at(u - w, v - h), at(u + w, v - h), at(u + w, v + h), at(u - w, v + h)]).intersection(outline)
        if not park.is_empty:
            features.append(_feature(park, "park", name))
    # Landmarks: along the canal (the bridge, the museum, the square), the rest about the district.
    spots = (canal.interpolate(0.62, normalized=True), None, canal.interpolate(0.45, normalized=True), None,
             canal.interpolate(0.52, normalized=True), None)
    elsewhere = iter((at(0.42, 0.58), at(0.55, 0.30), at(0.88, 0.55)))
    for (name, what), spot in zip(LANDMARKS, spots):
        point = spot if spot is not None else Point(next(elsewhere))
        features.append(_feature(Point(round(point.x, 6), round(point.y, 6)), "landmark", name, what=what))
    return {"type": "FeatureCollection", "features": features}
