"""Point → area lookup with an in-memory shapely STRtree.

Each process keeps one index. It is dropped when an area changes in this process (on commit), and at
most every AREA_INDEX_CHECK_SECONDS it asks the database whether another process changed areas, so
several web processes and workers converge without a message bus. The database stamp is the number of
areas, their newest `updated_at` and a counter (AreaIndexVersion) that database triggers bump on every
insert, delete and update of an area's indexed columns, inside the writer's transaction: a write that
commits late with an old timestamp, a QuerySet.update() or another program's SQL still changes it.
"""
import threading
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Count, Max
from shapely import STRtree, points
from shapely.geometry import shape

from grids.choices import KIND_DEPTH, AreaKind


@dataclass(frozen=True)
class AreaRef:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str = ""  # "/<district id>/…/<id>/", as Area.path (grids.services._set_path) spells it

    def as_dict(self):
        return {"id": self.id, "code": self.code, "name": self.name, "kind": self.kind}


def _path(area_id, parents) -> str:
    ids = []
    while area_id is not None and len(ids) <= len(parents):  # (the bound: a cycle cannot loop forever)
        ids.append(area_id)
        area_id = parents.get(area_id)
    return "/" + "".join(f"{i}/" for i in reversed(ids))


class AreaIndex:
    def __init__(self, rows):
        # rows: (id, code, name, kind, parent_id, boundary)
        rows = list(rows)
        parents = {row[0]: row[4] for row in rows}
        self.refs = {}
        geoms, ids, depths = [], [], []
        for area_id, code, name, kind, parent_id, boundary in rows:
            self.refs[area_id] = AreaRef(area_id, code, name, kind, parent_id, _path(area_id, parents))
            if boundary and kind in KIND_DEPTH:
                geoms.append(shape(boundary))
                ids.append(area_id)
                depths.append(KIND_DEPTH[kind])
        self.ids = np.array(ids, dtype=np.int64)
        self.depths = np.array(depths, dtype=np.int8)
        self.tree = STRtree(geoms)
        self._last = None

    def smallest_containing(self, lat: float, lng: float) -> AreaRef | None:
        # Intake asks twice for the same point (locating it, then routing it): the last answer is kept
        # (one tuple, replaced whole, so threads never see half of one; the index never changes).
        last = self._last
        if last is not None and last[0] == lat and last[1] == lng:
            return last[2]
        hits = self.tree.query(points(lng, lat), predicate="intersects")
        ref = self.refs[int(self.ids[hits[np.argmax(self.depths[hits])]])] if len(hits) else None
        self._last = (lat, lng, ref)
        return ref

    def chain(self, lat: float, lng: float) -> list[AreaRef]:
        """The areas containing the point, smallest first, up to the district."""
        ref = self.smallest_containing(lat, lng)
        out = []
        while ref is not None:
            out.append(ref)
            ref = self.refs.get(ref.parent_id) if ref.parent_id else None
        return out

    def street_of(self, ref: AreaRef) -> AreaRef | None:
        while ref is not None and ref.kind != AreaKind.STREET:
            ref = self.refs.get(ref.parent_id) if ref.parent_id else None
        return ref


_lock = threading.Lock()
_state = {"index": None, "stamp": None, "checked": 0.0}


def _db_stamp():
    from grids.models import Area, AreaIndexVersion

    agg = Area.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    version = AreaIndexVersion.objects.filter(pk=1).values_list("n", flat=True).first()
    return (agg["n"], agg["last"], version)


# Databases whose migration installs the triggers that bump the counter (grids/migrations/0003).
TRIGGER_VENDORS = ("sqlite", "postgresql")


def note_change():
    """Bump the shared counter (inside the caller's transaction) and drop this process's index once
    the transaction commits. On SQLite and PostgreSQL the database's triggers bump the counter."""
    from django.db import connection, transaction
    from django.db.models import F

    from grids.models import AreaIndexVersion

    if connection.vendor not in TRIGGER_VENDORS:
        if not AreaIndexVersion.objects.filter(pk=1).update(n=F("n") + 1):
            AreaIndexVersion.objects.get_or_create(pk=1, defaults={"n": 1})
    transaction.on_commit(invalidate)


def on_area_changed(sender, instance=None, raw=False, **kwargs):
    """post_save / post_delete receiver for Area (loaddata's raw saves included: fixtures are writes too)."""
    note_change()


def build_index() -> AreaIndex:
    from grids.models import Area

    rows = Area.objects.exclude(kind=AreaKind.ZONE).values_list("id", "code", "name", "kind", "parent_id", "boundary")
    return AreaIndex(rows.iterator(chunk_size=2000))


def get_index() -> AreaIndex:
    now = time.monotonic()
    state = _state
    if state["index"] is not None and now - state["checked"] < settings.AREA_INDEX_CHECK_SECONDS:
        return state["index"]
    with _lock:
        stamp = _db_stamp()
        if state["index"] is None or stamp != state["stamp"]:
            state["index"] = build_index()
            state["stamp"] = stamp
        state["checked"] = time.monotonic()
        return state["index"]


def invalidate():
    """Drop this process's index; the next lookup rebuilds it."""
    with _lock:
        _state["index"] = None
        _state["stamp"] = None
