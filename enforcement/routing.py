"""Routing by the power list: (problem type, point) → matter, street, responsible team or department.

Fast because nothing in a decision touches the database: each process keeps one snapshot of what routing
needs (problem types, the published version's matters, teams, departments) plus, per day asked about, the
set of (street, matter) delegations in force. The snapshot is dropped when this process changes the catalog
(services call `invalidate()`), and at most every CATALOG_CACHE_CHECK_SECONDS it compares a cheap database
stamp (a revision counter every routing-relevant catalog write bumps, plus teams and departments) so other processes converge,
the same way grids.spatial does for the area index.
"""
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import NotFound, Unprocessable, ValidationFailed
from grids import geometry, spatial
from grids.choices import AreaKind

MAX_CACHED_DAYS = 8


@dataclass(frozen=True)
class Ref:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class RouteDecision:
    problem_type: str
    problem_type_name: str
    about_subject: bool            # the problem is about one subject (intake attaches the nearest)
    matter_code: str
    matter_name: str
    street_code: str | None
    street_name: str | None
    grid_code: str | None
    team: Ref | None               # the street's team, when the street holds the matter
    department: Ref | None         # the owning district department, when it does not
    owner_department: Ref          # the matter's department, always
    delegated: bool
    severity: str
    reason: str
    catalog_version: int
    on: date

    def as_dict(self) -> dict:
        out = asdict(self)
        out["on"] = self.on.isoformat()
        return out


class _Snapshot:
    def __init__(self, stamp):
        from enforcement.choices import MatterStatus, VersionStatus
        from enforcement.models import CatalogVersion, Matter, ProblemType
        from grids.models import Department, Team

        self.stamp = stamp
        version = CatalogVersion.objects.filter(status=VersionStatus.PUBLISHED).first()
        self.version_id = version.pk if version else None
        self.version_number = version.number if version else None
        self.problem_types = {
            code: (name, matter_code, severity, about_subject)
            for code, name, matter_code, severity, about_subject in ProblemType.objects.filter(active=True)
            .values_list("code", "name", "matter_code", "default_severity", "about_subject")
        }
        self.matters = {
            code: (name, dept_id, status == MatterStatus.ACTIVE)
            for code, name, dept_id, status in Matter.objects.filter(version_id=self.version_id)
            .values_list("code", "name", "department_id", "status")
        }
        self.departments = {pk: Ref(pk, code, name) for pk, code, name in Department.objects.values_list("id", "code", "name")}
        self.teams = {}
        for pk, code, name, street_id in Team.objects.order_by("code").values_list("id", "code", "name", "street_id"):
            self.teams.setdefault(street_id, Ref(pk, code, name))  # the first team (by code) of each street
        self._held = {}
        self._held_lock = threading.Lock()

    def held_on(self, day: date) -> dict:
        """{(street id, matter code): effective_from} of the delegations in force on `day`."""
        held = self._held.get(day)
        if held is not None:
            return held
        from enforcement.models import Delegation

        next_midnight = timezone.make_aware(datetime.combine(day + timedelta(days=1), dtime.min))
        rows = Delegation.objects.filter(
            Q(effective_to__isnull=True) | Q(effective_to__gte=day),
            Q(revoked_at__isnull=True) | Q(revoked_at__gte=next_midnight),
            matter__version_id=self.version_id, effective_from__lte=day,
        ).values_list("street_id", "matter__code", "effective_from")
        held = {}
        for street_id, code, start in rows:
            key = (street_id, code)
            if key not in held or start > held[key]:
                held[key] = start
        with self._held_lock:
            if len(self._held) >= MAX_CACHED_DAYS:
                self._held.clear()
            self._held[day] = held
        return held


_lock = threading.Lock()
_state = {"snapshot": None, "checked": 0.0}


def _check_seconds() -> float:
    return float(settings.CATALOG_CACHE_CHECK_SECONDS)


def _db_stamp():
    from enforcement.models import RoutingRevision
    from grids.models import Department, Team

    revision = RoutingRevision.objects.filter(pk=1).values_list("n", flat=True).first()
    # Teams and departments live in grids (which must not know about us): their count and newest id.
    teams = Team.objects.aggregate(n=Count("id"), last=Max("id"))
    depts = Department.objects.aggregate(n=Count("id"), last=Max("id"))
    return (revision, teams["n"], teams["last"], depts["n"], depts["last"])


def get_snapshot() -> _Snapshot:
    now = time.monotonic()
    snap = _state["snapshot"]
    if snap is not None and now - _state["checked"] < _check_seconds():
        return snap
    with _lock:
        stamp = _db_stamp()
        snap = _state["snapshot"]
        if snap is None or snap.stamp != stamp:
            snap = _Snapshot(stamp)
            _state["snapshot"] = snap
        _state["checked"] = time.monotonic()
        return snap


def note_change():
    """Called by catalog services inside their transaction: bump the shared revision, drop this process's
    snapshot now (so this thread never reads a stale one) and once more when the transaction commits."""
    from django.db import transaction
    from django.db.models import F

    from enforcement.models import RoutingRevision

    if not RoutingRevision.objects.filter(pk=1).update(n=F("n") + 1):
        RoutingRevision.objects.get_or_create(pk=1, defaults={"n": 1})
    invalidate()
    transaction.on_commit(invalidate)


def invalidate():
    """Drop this process's snapshot; the next decision rebuilds it."""
    with _lock:
        _state["snapshot"] = None
        _state["checked"] = 0.0


def _parse_day(on) -> date:
    if on is None or on == "":
        return timezone.localdate()
    if isinstance(on, datetime):
        return timezone.localtime(on).date() if timezone.is_aware(on) else on.date()
    if isinstance(on, date):
        return on
    try:
        return date.fromisoformat(str(on))
    except ValueError:
        raise ValidationFailed(fields={"on": [_("日期格式应为 YYYY-MM-DD。")]})


def _problem_type(snap: _Snapshot, code) -> tuple | None:
    return snap.problem_types.get(str(code).strip()) if code not in (None, "") else None


def _decide(snap: _Snapshot, pt_code: str, pt, street: spatial.AreaRef | None, grid_code, day: date) -> RouteDecision:
    pt_name, matter_code, severity, about_subject = pt
    matter = snap.matters.get(matter_code)
    if matter is None:
        raise Unprocessable(fields={"problem_type": [_("问题类型 %(pt_code)s 关联的事项 %(matter_code)s 不在现行事项清单中。")
            % {"pt_code": pt_code, "matter_code": matter_code}]})
    matter_name, dept_id, active = matter
    owner = snap.departments.get(dept_id)
    street_code = street.code if street else None
    street_name = street.name if street else None
    team = None
    if street is None:
        reason = (_("该位置不属于任何镇街，“%(matter_name)s”（%(matter_code)s）由主管部门%(owner_name)s处置。")
            % {"matter_name": matter_name, "matter_code": matter_code, "owner_name": owner.name})
    elif not active:
        reason = (_("事项“%(matter_name)s”（%(matter_code)s）已废止，由主管部门%(owner_name)s处置。")
            % {"matter_name": matter_name, "matter_code": matter_code, "owner_name": owner.name})
    else:
        start = snap.held_on(day).get((street.id, matter_code))
        if start is None:
            reason = (_("%(street_name)s未承接“%(matter_name)s”（%(matter_code)s）赋权，由主管部门%(owner_name)s处置。")
                % {"street_name": street_name, "matter_name": matter_name, "matter_code": matter_code, "owner_name": owner.name})
        else:
            team = snap.teams.get(street.id)
            if team is None:
                reason = (_("%(street_name)s自%(start)s起承接“%(matter_name)s”（%(matter_code)s）赋权，但未设综合行政执法队，由主管部门%(owner_name)s处置。")
                    % {"street_name": street_name, "start": format(start, '%Y-%m-%d'), "matter_name": matter_name, "matter_code": matter_code, "owner_name": owner.name})
            else:
                reason = (_("%(street_name)s自%(start)s起承接“%(matter_name)s”（%(matter_code)s）赋权，由%(team_name)s处置。")
                    % {"street_name": street_name, "start": format(start, '%Y-%m-%d'), "matter_name": matter_name, "matter_code": matter_code, "team_name": team.name})
    delegated = team is not None
    return RouteDecision(
        problem_type=pt_code, problem_type_name=pt_name, about_subject=about_subject, matter_code=matter_code,
        matter_name=matter_name,
        street_code=street_code, street_name=street_name, grid_code=grid_code, team=team,
        department=None if delegated else owner, owner_department=owner, delegated=delegated, severity=severity,
        reason=reason, catalog_version=snap.version_number, on=day,
    )


def about_subject(problem_type_code) -> bool:
    """Is a report of this problem type about one subject (intake attaches the nearest)? False for a type the
    catalog does not know (routing refuses it)."""
    pt = _problem_type(get_snapshot(), problem_type_code)
    return bool(pt and pt[3])


def _snapshot_with_catalog() -> _Snapshot:
    snap = get_snapshot()
    if snap.version_id is None:
        raise Unprocessable(_("尚未发布事项清单，无法按权责清单分派。"), code="no_catalog")
    return snap


def route(problem_type_code: str, lat, lng, on=None) -> RouteDecision:
    """Route a problem at a point: the street from the grid; its team if the street holds the delegated
    matter on `on` (default today), else the matter's district department.

    ValidationFailed (400) for an unknown problem type or bad coordinates (all field errors at once),
    NotFound (404, code "outside_district") for a point outside the district, Unprocessable (422) when
    no catalog is published or the problem type's matter is missing from it.
    """
    snap = _snapshot_with_catalog()
    errors = {}
    pt = _problem_type(snap, problem_type_code)
    if pt is None:
        errors["problem_type"] = [_("未知或已停用的问题类型：%(problem_type_code)s。")
            % {"problem_type_code": problem_type_code or ''} if problem_type_code
                                  else _("此字段为必填项。")]
    try:
        lat, lng = geometry.parse_lat_lng(lat, lng)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        day = _parse_day(on)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    index = spatial.get_index()
    ref = index.smallest_containing(lat, lng)
    if ref is None:
        raise NotFound(_("该位置不在本区范围内。"), code="outside_district")
    grid_code, street, cur = None, None, ref
    while cur is not None:
        if cur.kind == AreaKind.GRID:
            grid_code = cur.code
        elif cur.kind == AreaKind.STREET:
            street = cur
            break
        cur = index.refs.get(cur.parent_id) if cur.parent_id else None
    return _decide(snap, str(problem_type_code).strip(), pt, street, grid_code, day)


def route_in_street(problem_type_code: str, street, on=None) -> RouteDecision:
    """The same decision when the caller already knows the street (an Area, AreaRef, id or code)."""
    snap = _snapshot_with_catalog()
    pt = _problem_type(snap, problem_type_code)
    if pt is None:
        raise ValidationFailed(fields={"problem_type": [_("未知或已停用的问题类型：%(problem_type_code)s。")
            % {"problem_type_code": problem_type_code or ''}]})
    day = _parse_day(on)
    index = spatial.get_index()
    ref = None
    if isinstance(street, int) or (isinstance(street, str) and street.isdigit() and int(street) in index.refs):
        ref = index.refs.get(int(street))
    elif isinstance(street, str):
        ref = next((r for r in index.refs.values() if r.code == street), None)
    elif street is not None:
        ref = index.refs.get(street.id)
    if ref is None or ref.kind != AreaKind.STREET:
        raise ValidationFailed(fields={"street": [_("未知镇街。")]})
    return _decide(snap, str(problem_type_code).strip(), pt, ref, None, day)
