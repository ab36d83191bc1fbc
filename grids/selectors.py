"""Reads of the registry, scoped by the asking user's areas.

A user bound to an area sees that area and everything below it; superusers and users bound to the
district see everything. A user bound to no area sees nothing.
"""
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.exceptions import NotFound
from grids import spatial
from grids.choices import AreaKind, SubjectStatus
from grids.models import Area, Notice, NoticeDelivery, Officer, Subject


_UNSET = object()


def user_area_paths(user) -> list[str] | None:
    """The path prefixes the user may see; None means everything."""
    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return None
    cached = getattr(user, "_area_paths_cache", _UNSET)
    if cached is _UNSET:  # (None is a cached answer: "everything")
        from core import refcache

        paths, micro_grids = refcache.get_keyed(refcache.USERS, "areas", user.pk, _areas_of)
        # Copies: callers may keep and change them, the process's cache must not follow.
        cached = None if paths is None else list(paths)
        user._area_paths_cache = cached
        user._micro_grid_ids_cache = list(micro_grids)
    return cached


def _areas_of(user_id) -> tuple:
    """(the user's area paths or None for the whole district, the ids of their micro-grids)."""
    paths, micro_grids = [], []
    rows = Area.objects.filter(memberships__user=user_id).values_list("id", "path", "parent_id", "kind")
    for area_id, path, parent_id, kind in rows:
        if parent_id is None:
            return None, ()  # bound to the district itself
        paths.append(path)
        if kind == AreaKind.MICRO_GRID:
            micro_grids.append(area_id)
    return tuple(paths), tuple(micro_grids)


def scope_q(user, path_field: str) -> Q | None:
    """The condition of `scope` as a Q (to combine with others); None means everything."""
    paths = user_area_paths(user)
    if paths is None:
        return None
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{path_field}__startswith": p}) for p in paths))


def scope(qs: QuerySet, user, path_field: str) -> QuerySet:
    """Filter `qs` to rows whose area path (reached through `path_field`) lies in the user's areas."""
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    return qs.filter(scope_q(user, path_field))


def paths_cover(paths, path: str | None) -> bool:
    """Do these area path prefixes (a user's, a subscription's) hold the area at `path`? The one copy of
    the rule. None is the whole district: it holds everything, even what has no area at all. Without a
    path (an officer of no street, say) nothing narrower holds it: "" or None is never under a prefix."""
    if paths is None:
        return True
    return bool(path) and any(path.startswith(p) for p in paths)


def user_covers_area(user, area: Area) -> bool:
    return paths_cover(user_area_paths(user), area.path)


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


def area_list_for(user) -> QuerySet:
    """The user's areas for lists and details: parent and zone joined, their boundaries not loaded
    (a street's boundary can be megabytes; a list of its grids must not carry it once per row)."""
    return areas_for(user).select_related("zone").defer("parent__boundary", "zone__boundary")


def get_area_for(user, area_id) -> Area:
    try:
        return areas_for(user).get(pk=area_id)
    except (Area.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("区域不存在。"))


def descendants(area: Area, include_self=True) -> QuerySet:
    qs = Area.objects.filter(path__startswith=area.path)
    return qs if include_self else qs.exclude(pk=area.pk)


def subjects_for(user) -> QuerySet:
    """Subjects in the user's areas. Subjects hang on grids, so a user bound to a micro-grid sees those
    of its grid whose point lies inside the micro-grid."""
    # The grid's boundary stays behind: a page of subjects needs its code and name, not 50 polygons.
    qs = Subject.objects.select_related("category", "category__parent", "grid").defer("grid__boundary").prefetch_related("tags")
    condition = scope_q(user, "grid__path")
    if condition is None:
        return qs
    micro_grid_ids = getattr(user, "_micro_grid_ids_cache", [])
    if micro_grid_ids:
        ids = [i for area in Area.objects.filter(pk__in=micro_grid_ids) for i in subject_ids_in_micro_grid(area)]
        condition |= Q(pk__in=ids)
    return qs.filter(condition)


def get_subject_for(user, subject_id) -> Subject:
    try:
        return subjects_for(user).get(pk=subject_id)
    except (Subject.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("管理对象不存在。"))


def officers_for(user) -> QuerySet:
    """Officers of teams in the user's areas, and always the user's own officer record."""
    qs = Officer.objects.select_related("team", "team__street", "home_department", "user").defer(
        "team__street__boundary").prefetch_related("skill_departments")
    condition = scope_q(user, "team__street__path")
    if condition is None:
        return qs
    if getattr(user, "is_authenticated", False):
        condition |= Q(user=user)
    return qs.filter(condition)


def get_officer_for(user, officer_id) -> Officer:
    try:
        return officers_for(user).get(pk=officer_id)
    except (Officer.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("执法队员不存在。"))


def district_extent() -> dict | None:
    """The bounding box of the root areas (the district), or None while there is none."""
    from django.db.models import Max, Min

    box = Area.objects.filter(parent__isnull=True, min_lat__isnull=False).aggregate(
        min_lat=Min("min_lat"), min_lng=Min("min_lng"), max_lat=Max("max_lat"), max_lng=Max("max_lng"))
    return None if box["min_lat"] is None else box


def locate(lat: float, lng: float) -> list[spatial.AreaRef]:
    """The chain of areas containing the point, smallest first; NotFound outside the district."""
    chain = spatial.get_index().chain(lat, lng)
    if not chain:
        raise NotFound(_("该位置不在本区范围内。"), code="outside_district")
    return chain


def areas_of_chain(chain: list[spatial.AreaRef]) -> dict[int, Area]:
    """{id: Area} of a located chain as the index knows the areas (id, code, name, kind, parent, path),
    each linked to its parent, without a query: loaded as `.only()` would load them, so any other field
    (the boundary, say) is read from the database on use."""
    from django.db import router

    db = router.db_for_read(Area)
    names = ["id", "code", "name", "kind", "parent_id", "path"]
    areas = {ref.id: Area.from_db(db, names, [ref.id, ref.code, ref.name, ref.kind, ref.parent_id, ref.path])
             for ref in chain}
    for area in areas.values():
        if area.parent_id in areas:
            area.parent = areas[area.parent_id]
    return areas


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


def street_and_community_of(areas) -> dict:
    """{area id: (its street, its community)} for areas (a page's grids), in one query; None where it has none."""
    wanted = {i for a in areas if a is not None for i in a.ancestor_ids}
    found = {a.id: a for a in Area.objects.filter(id__in=wanted, kind__in=[AreaKind.STREET, AreaKind.COMMUNITY])
             .only("id", "code", "name", "kind")} if wanted else {}
    out = {}
    for a in areas:
        if a is None:
            continue
        chain = [found[i] for i in a.ancestor_ids if i in found]
        out[a.id] = (next((x for x in chain if x.kind == AreaKind.STREET), None),
                     next((x for x in chain if x.kind == AreaKind.COMMUNITY), None))
    return out


def subjects_in_area_q(area: Area, prefix: str = "") -> Q:
    """Subjects in an area at any level; a zone holds the subjects of its grids, a micro-grid the
    subjects of its grid whose point lies inside its boundary (subjects hang on grids)."""
    if area.kind == AreaKind.ZONE:
        return Q(**{f"{prefix}grid__zone": area})
    if area.kind == AreaKind.MICRO_GRID:
        return Q(**{f"{prefix}pk__in": subject_ids_in_micro_grid(area)})
    return Q(**{f"{prefix}grid__path__startswith": area.path})


def subject_ids_in_micro_grid(area: Area) -> list[int]:
    if not area.boundary or area.min_lat is None:
        return []
    import numpy as np
    from shapely import intersects_xy, prepare
    from shapely.geometry import shape

    rows = list(Subject.objects.filter(
        grid_id=area.parent_id, lat__gte=area.min_lat, lat__lte=area.max_lat,
        lng__gte=area.min_lng, lng__lte=area.max_lng,
    ).values_list("id", "lng", "lat"))
    if not rows:
        return []
    geom = shape(area.boundary)
    prepare(geom)
    ids, xs, ys = (np.array(col) for col in zip(*rows))
    return [int(i) for i in ids[intersects_xy(geom, xs, ys)]]


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
        raise ValidationFailed(fields={"bbox": [_("格式应为 min_lng,min_lat,max_lng,max_lat。")]})
    return tuple(parts)


def areas_in_bbox(user, kind: str, bbox) -> QuerySet:
    qs = areas_for(user).filter(kind=kind, boundary__isnull=False)
    if bbox:
        min_lng, min_lat, max_lng, max_lat = bbox
        qs = qs.filter(max_lng__gte=min_lng, min_lng__lte=max_lng, max_lat__gte=min_lat, min_lat__lte=max_lat)
    return qs


def subject_points(user, bbox, *, limit: int, filters: dict | None = None, category: str | None = None):
    """Compact rows for map markers: only what is inside the visible box, at most `limit`.
    `category`: a major or sub-category code."""
    qs = subjects_for(user).filter(status=SubjectStatus.ACTIVE)
    if category:
        qs = qs.filter(Q(category__code=category) | Q(category__parent__code=category))
    if bbox:
        min_lng, min_lat, max_lng, max_lat = bbox
        qs = qs.filter(lng__gte=min_lng, lng__lte=max_lng, lat__gte=min_lat, lat__lte=max_lat)
    if filters:
        qs = qs.filter(**filters)
    rows = list(qs.order_by("id").values_list("id", "name", "lat", "lng", "category__name", "category__parent__name")[: limit + 1])
    return rows[:limit], len(rows) > limit


def notices_of(area: Area) -> QuerySet:
    return Notice.objects.filter(area=area).select_related("area", "sent_by").order_by("-created_at", "-id")


def with_delivery_counts(notices) -> list:
    """Attach `delivery_counts` ({status: n}) to each notice of a page, in one query."""
    notices = list(notices)
    from django.db.models import Count

    counts = {}
    rows = (NoticeDelivery.objects.filter(notice__in=[n.pk for n in notices]).values_list("notice_id", "status")
            .annotate(n=Count("id")).order_by())
    for notice_id, status, n in rows:
        counts.setdefault(notice_id, {})[status] = n
    for notice in notices:
        notice.delivery_counts = counts.get(notice.pk, {})
    return notices
