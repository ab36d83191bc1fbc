"""grids.geometry: coordinates from user input, containment, distances."""
import random

import numpy as np
import pytest

from grids.testing import square
from core.exceptions import ValidationFailed
from grids import geometry


@pytest.mark.parametrize("lat,lng,expected", [("30.5", "120", (30.5, 120.0)), (0, 0, (0.0, 0.0)),
                                              (-90, 180, (-90.0, 180.0))])
def test_parse_lat_lng(lat, lng, expected):
    assert geometry.parse_lat_lng(lat, lng) == expected


@pytest.mark.parametrize("lat,lng,fields", [(None, None, {"lat", "lng"}), ("", 1, {"lat"}), ("x", 1, {"lat"}),
                                            (1, [1], {"lng"}), (90.1, 1, {"lat"}), (1, "-inf", {"lng"}),
                                            ("nan", 1, {"lat"})])
def test_parse_lat_lng_errors(lat, lng, fields):
    with pytest.raises(ValidationFailed) as e:
        geometry.parse_lat_lng(lat, lng)
    assert set(e.value.fields) == fields


def test_check_inside_tolerance():
    parent = geometry.parse_boundary(square(0, 0, 10, 10))
    geometry.check_inside(geometry.parse_boundary(square(0, 0, 5, 5)), parent, 0.0)
    geometry.check_inside(geometry.parse_boundary(square(-0.05, 0, 4.95, 1)), parent, 0.01)  # 1 % out
    with pytest.raises(ValidationFailed):
        geometry.check_inside(geometry.parse_boundary(square(-0.2, 0, 4.8, 1)), parent, 0.01)  # 4 % out


def test_bbox_and_haversine():
    assert geometry.bbox(geometry.parse_boundary(square(1, 2, 3, 4))) == {"min_lat": 2, "min_lng": 1, "max_lat": 4, "max_lng": 3}
    # One degree of latitude is ~111 km.
    assert 111_000 < geometry.haversine_m(30, 120, 31, 120) < 111_400
    assert geometry.haversine_m(30, 120, 30, 120) == 0


def test_polygon_with_hole_and_invalid_parent_repaired():
    ring = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    geom = geometry.parse_boundary({"type": "Polygon", "coordinates": [ring, hole]})
    assert geom.area == 96
    # A child inside the hole lies outside its parent.
    with pytest.raises(ValidationFailed):
        geometry.check_inside(geometry.parse_boundary(square(4.5, 4.5, 5.5, 5.5)), geom, 0.01)


def test_distances_over_arrays_are_haversine_m():
    """credit.effort's neighbour search measures over arrays what haversine_m measures one pair at a time."""
    rng = random.Random(5)
    pairs = [(rng.uniform(-60, 60), rng.uniform(-180, 180), rng.uniform(-1e-3, 1e-3), rng.uniform(-1e-3, 1e-3))
             for _ in range(200)]
    lat1, lng1, lat2, lng2 = (np.array(v) for v in zip(*[(a, b, a + da, b + db) for a, b, da, db in pairs]))
    measured = geometry.haversine_m_arrays(lat1, lng1, lat2, lng2)
    assert measured.tolist() == pytest.approx([geometry.haversine_m(*p) for p in zip(lat1, lng1, lat2, lng2)],
                                              rel=1e-9, abs=1e-6)
