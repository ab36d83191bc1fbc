"""Reads of the registry, scoped by the asking user's areas.

A user bound to an area sees that area and everything below it; superusers and users bound to the
district see everything. A user bound to no area sees nothing.
"""
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from core.exceptions import NotFound
from grids import spatial
from grids.choices import AreaKind, SubjectStatus
from grids.models import Area, Officer, Subject


def user_area_paths(user) -> list[str] | None:
    """The path prefixes the user may see; None means everything."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return None
    cached = getattr(user, "_area_paths_cache", None)
    if cached is None:
        cached = []
        for area_id, path, parent_id in Area.objects.filter(memberships__user=user).values_list("id", "path", "parent_id"):
            if parent_id is None:
                cached = None  # bound to the district itself
                break
            cached.append(path)
        user._area_paths_cache = cached
    return cached


def scope(qs: QuerySet, user, path_field: str) -> QuerySet:
    """Filter `qs` to rows whose area path (reached through `path_field`) lies in the user's areas."""
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    return qs.filter(reduce(or_, (Q(**{f"{path_field}__startswith": p}) for p in paths)))


def user_covers_area(user, area: Area) -> bool:
    paths = user_area_paths(user)
    return paths is None or any(area.path.startswith(p) for p in paths)


def user_area_ids(user) -> list[int]:
    return list(Area.objects.filter(memberships__user=user).values_list("id", flat=True))


def areas_for(user) -> QuerySet:
    """The user's areas, everything below them, and their ancestors (so maps and chains can be drawn)."""
    qs = Area.objects.select_related("parent")
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    ancestor_ids = {int(p) for path in paths for p in path.strip("/").split("/") if p}
    return qs.filter(reduce(or_, (Q(path__startswith=p) for p in paths)) | Q(id__in=ancestor_ids))


def get_area_for(user, area_id) -> Area:
    try:
        return areas_for(user).get(pk=area_id)
    except (Area.DoesNotExist, ValueError, TypeError):
        raise NotFound("区域不存在。")


def descendants(area: Area, include_self=True) -> QuerySet:
    qs = Area.objects.filter(path__startswith=area.path)
    return qs if include_self else qs.exclude(pk=area.pk)


def subjects_for(user) -> QuerySet:
    return scope(
        Subject.objects.select_related("category", "category__parent", "grid").prefetch_related("tags"),
        user,
        "grid__path",
    )


def get_subject_for(user, subject_id) -> Subject:
    try:
        return subjects_for(user).get(pk=subject_id)
    except (Subject.DoesNotExist, ValueError, TypeError):
        raise NotFound("管理对象不存在。")


def officers_for(user) -> QuerySet:
    return scope(
        Officer.objects.select_related("team", "team__street", "home_department", "user").prefetch_related(
            "skill_departments"
        ),
        user,
        "team__street__path",
    )


def get_officer_for(user, officer_id) -> Officer:
    try:
        return officers_for(user).get(pk=officer_id)
    except (Officer.DoesNotExist, ValueError, TypeError):
        raise NotFound("执法队员不存在。")


def locate(lat: float, lng: float) -> list[spatial.AreaRef]:
    """The chain of areas containing the point, smallest first; NotFound outside the district."""
    chain = spatial.get_index().chain(lat, lng)
    if not chain:
        raise NotFound("该位置不在本区范围内。", code="outside_district")
    return chain


def grid_at(lat: float, lng: float) -> Area | None:
    """The grid (not micro-grid) containing the point, or None."""
    chain = spatial.get_index().chain(lat, lng)
    for ref in chain:
        if ref.kind == AreaKind.GRID:
            return Area.objects.get(pk=ref.id)
    return None


def street_of(area: Area) -> Area | None:
    if area.kind == AreaKind.STREET:
        return area
    ids = area.ancestor_ids
    return Area.objects.filter(id__in=ids, kind=AreaKind.STREET).first()


def subjects_in_area_q(area: Area, prefix: str = "") -> Q:
    """Subjects in an area at any level; a zone holds the subjects of its grids."""
    if area.kind == AreaKind.ZONE:
        return Q(**{f"{prefix}grid__zone": area})
    return Q(**{f"{prefix}grid__path__startswith": area.path})


def active_subjects_in(area: Area) -> QuerySet:
    return Subject.objects.filter(subjects_in_area_q(area), status=SubjectStatus.ACTIVE)


def parse_bbox(raw: str | None):
    """'min_lng,min_lat,max_lng,max_lat' → tuple of floats, or None when absent."""
    from core.exceptions import ValidationFailed

    if not raw:
        return None
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3] or not all(-180 <= p <= 180 for p in parts):
        raise ValidationFailed(fields={"bbox": ["格式应为 min_lng,min_lat,max_lng,max_lat。"]})
    return tuple(parts)


def areas_in_bbox(user, kind: str, bbox) -> QuerySet:
    qs = areas_for(user).filter(kind=kind, boundary__isnull=False)
    if bbox:
        min_lng, min_lat, max_lng, max_lat = bbox
        qs = qs.filter(max_lng__gte=min_lng, min_lng__lte=max_lng, max_lat__gte=min_lat, min_lat__lte=max_lat)
    return qs


def subject_points(user, bbox, *, limit: int, filters: dict | None = None):
    """Compact rows for map markers: only what is inside the visible box, at most `limit`."""
    qs = subjects_for(user).filter(status=SubjectStatus.ACTIVE)
    if bbox:
        min_lng, min_lat, max_lng, max_lat = bbox
        qs = qs.filter(lng__gte=min_lng, lng__lte=max_lng, lat__gte=min_lat, lat__lte=max_lat)
    if filters:
        qs = qs.filter(**filters)
    rows = list(qs.order_by("id").values_list("id", "name", "lat", "lng", "category__name", "category__parent__name")[: limit + 1])
    return rows[:limit], len(rows) > limit
