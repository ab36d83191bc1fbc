"""GeoJSON boundaries checked and measured with shapely (its wheels carry GEOS: no GDAL needed)."""
import math

import numpy as np

from django.utils.translation import gettext as _
from shapely import make_valid
from shapely.geometry import Point, shape
from shapely.validation import explain_validity

from core.exceptions import ValidationFailed

EARTH_RADIUS_M = 6_371_008.8


def parse_boundary(geojson, field="boundary"):
    """A shapely (Multi)Polygon from GeoJSON, or ValidationFailed saying what is wrong with it."""
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationFailed(fields={field: [_("边界必须是 GeoJSON Polygon 或 MultiPolygon。")]})
    coords = geojson.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise ValidationFailed(fields={field: [_("边界缺少坐标。")]})
    polygons = [coords] if geojson["type"] == "Polygon" else coords
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValidationFailed(fields={field: [_("多边形缺少坐标环。")]})
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise ValidationFailed(fields={field: [_("每个坐标环至少需要4个点。")]})
            for pt in ring:
                if (
                    not isinstance(pt, (list, tuple)) or len(pt) < 2
                    or not all(isinstance(c, (int, float)) and math.isfinite(c) for c in pt[:2])
                ):
                    raise ValidationFailed(fields={field: [_("坐标必须是 [经度, 纬度] 数值对。")]})
                if not (-180 <= pt[0] <= 180 and -90 <= pt[1] <= 90):
                    raise ValidationFailed(fields={field: [_("坐标超出经纬度范围。")]})
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise ValidationFailed(fields={field: [_("坐标环未闭合（首尾点必须相同）。")]})
    try:
        geom = shape(geojson)
    except Exception as exc:  # shapely raises several types for malformed input
        raise ValidationFailed(fields={field: [_("无法解析边界：%(error)s") % {"error": exc}]}) from exc
    # A bow-tie's signed areas cancel out, so ask for validity before area; a ring whose points all lie
    # on one line is invalid too, but its repaired form has no area at all.
    if geom.is_empty or (not geom.is_valid and make_valid(geom).area == 0) or geom.area == 0 and geom.is_valid:
        raise ValidationFailed(fields={field: [_("边界面积为零。")]})
    if not geom.is_valid:
        raise ValidationFailed(fields={field: [_("边界无效（自相交等）：%(reason)s") % {"reason": explain_validity(geom)}]})
    return geom


def check_inside(child, parent, tolerance: float, field="boundary"):
    """The child may stick out of its parent by `tolerance` of its own area, no more."""
    outside = child.difference(make_valid(parent)).area
    if outside > tolerance * child.area:
        share = outside / child.area
        raise ValidationFailed(fields={field: [_("边界超出上级区域 %(share)s（允许 %(tolerance)s）。") % {"share": f"{share:.1%}", "tolerance": f"{tolerance:.1%}"}]})


def bbox(geom):
    min_lng, min_lat, max_lng, max_lat = geom.bounds
    return {"min_lat": min_lat, "min_lng": min_lng, "max_lat": max_lat, "max_lng": max_lng}


def point(lat: float, lng: float) -> Point:
    return Point(lng, lat)


def haversine_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def haversine_m_arrays(lat1, lng1, lat2, lng2):
    """haversine_m over numpy arrays, element by element (a district's red neighbours are a million pairs)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def within_box(lat: float, lng: float, box: dict, margin_m: float) -> bool:
    """Is the point inside the bounding box (min_lat … max_lng) grown by margin_m metres on every side?"""
    dlat = margin_m / 111_320.0
    dlng = margin_m / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6))
    return (box["min_lat"] - dlat <= lat <= box["max_lat"] + dlat
            and box["min_lng"] - dlng <= lng <= box["max_lng"] + dlng)


def parse_lat_lng(lat, lng):
    """Floats from user input, or ValidationFailed with a message per field."""
    errors = {}
    values = {}
    for name, raw, limit in (("lat", lat, 90), ("lng", lng, 180)):
        if raw is None or raw == "":
            errors[name] = [_("此字段为必填项。")]
            continue
        if isinstance(raw, bool):  # float(True) is 1.0: a boolean is no coordinate
            errors[name] = [_("请填写合法的数字。")]
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            errors[name] = [_("请填写合法的数字。")]
            continue
        if not math.isfinite(value) or not -limit <= value <= limit:
            errors[name] = [_("必须在 -%(limit)s 到 %(limit)s 之间。") % {"limit": limit}]
            continue
        values[name] = value
    if errors:
        raise ValidationFailed(fields=errors)
    return values["lat"], values["lng"]
