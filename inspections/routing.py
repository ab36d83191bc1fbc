"""A short route through a day's visits: nearest neighbour from the first stop (great-circle metres,
grids.geometry), the order a team walks them in. Not optimal, but short and stable."""
import numpy as np

from grids import geometry


def nearest_neighbour_order(points: list[tuple[float, float]]) -> list[int]:
    """Indexes of `points` ((lat, lng) pairs) in route order, starting from the westernmost point."""
    n = len(points)
    if n <= 2:
        return list(range(n))
    lat = np.array([p[0] for p in points], dtype=float)
    lng = np.array([p[1] for p in points], dtype=float)
    left = np.ones(n, dtype=bool)
    current = int(np.lexsort((lat, lng))[0])
    order = [current]
    left[current] = False
    for _ in range(n - 1):
        candidates = np.flatnonzero(left)
        d = geometry.haversine_m_arrays(lat[current], lng[current], lat[candidates], lng[candidates])
        current = int(candidates[int(np.argmin(d))])
        order.append(current)
        left[current] = False
    return order


def route_length_m(points: list[tuple[float, float]]) -> float:
    return float(sum(geometry.haversine_m(a[0], a[1], b[0], b[1]) for a, b in zip(points, points[1:])))
