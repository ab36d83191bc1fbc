"""Ranking officers for an event: who can take it, and in what order.

An officer is a candidate when all of these hold (each failure is named in the reasons):
  - on duty (not off duty, not on a break);
  - a fresh position (a ping within COMMAND_CENTER_POSITION_FRESH_SECONDS);
  - capable: the home department, a skill department or a skill matter covers the event's matter, and
    - for a matter delegated to the street (the event went to the street's team): the officer is in a
      team of that street;
    - for a matter the street does not hold (it went to the owning department): any officer, since an
      officer keeps the powers of the home department;
  - rank at least the severity's minimum (COMMAND_CENTER_SEVERITY_MIN_RANK);
  - never had this event before (an officer never gets one event twice).
Candidates are ordered: available before busy (busy ones by their load), then by distance (haversine)
and current load (live assignments). Non-candidates follow, with the reasons they are not.

Reads only: one query for the pool, one for skill departments, one for loads, one for this event's
past assignments; the matter's owning department comes from the routing snapshot (in memory).
"""
import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from command_center.choices import AssignmentStatus
from command_center.models import Assignment, Event
from command_center.services import min_rank_for
from grids import geometry
from grids.choices import DutyStatus, Rank
from grids.models import Officer

OFF = (DutyStatus.OFF_DUTY, DutyStatus.ON_BREAK)


@dataclass
class Candidate:
    officer_id: int
    name: str
    badge_no: str
    team_code: str
    rank: int
    duty_status: str
    distance_m: float | None
    load: int
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    place: int | None = None

    def as_dict(self) -> dict:
        return {
            "place": self.place, "officer": self.officer_id, "name": self.name, "badge_no": self.badge_no,
            "team_code": self.team_code, "rank": self.rank, "duty_status": self.duty_status,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1), "load": self.load,
            "eligible": self.eligible, "reasons": self.reasons,
        }


def owner_department_id(matter_code: str) -> int | None:
    """The department owning the matter in the published catalog (from routing's in-memory snapshot)."""
    if not matter_code:
        return None
    from enforcement import routing

    try:
        matter = routing.get_snapshot().matters.get(matter_code)
    except Exception:  # noqa: BLE001 — no catalog yet: capability falls back to the street's team
        return None
    return matter[1] if matter else None


def _pool(event: Event):
    q = Q()
    if event.street_id:
        q |= Q(team__street_id=event.street_id)
    if not event.delegated and event.department_id:
        q |= Q(home_department_id=event.department_id)
    return Officer.objects.filter(q) if q else Officer.objects.none()


def rank(event: Event, *, now=None) -> list[Candidate]:
    now = now or timezone.now()
    fresh_seconds = getattr(settings, "COMMAND_CENTER_POSITION_FRESH_SECONDS", 300)
    fresh_after = now - timedelta(seconds=fresh_seconds)
    min_rank = min_rank_for(event.severity)
    owner = owner_department_id(event.matter_code)
    pool = _pool(event)
    rows = list(pool.values_list(
        "id", "name", "badge_no", "team__code", "team__street_id", "home_department_id", "rank", "duty_status",
        "last_lat", "last_lng", "last_position_at", "skill_matter_codes",
    ))
    if not rows:
        return []
    skills: dict[int, set[int]] = {}
    for officer_id, dept_id in Officer.skill_departments.through.objects.filter(officer__in=pool).values_list(
        "officer_id", "department_id"
    ):
        skills.setdefault(officer_id, set()).add(dept_id)
    loads = dict(
        Assignment.objects.filter(status=AssignmentStatus.LIVE, officer__in=pool)
        .values("officer_id").annotate(n=Count("id")).values_list("officer_id", "n")
    )
    had = set(Assignment.objects.filter(event=event).values_list("officer_id", flat=True))
    rank_label = dict(Rank.choices)

    out = []
    for (officer_id, name, badge, team_code, street_id, home_dept, o_rank, duty, lat, lng, pos_at, skill_codes) in rows:
        why_not, why = [], []
        # on duty
        if duty in OFF:
            why_not.append(str(DutyStatus(duty).label))
        else:
            why.append(str(DutyStatus(duty).label))
        # position
        distance = None
        if lat is None or lng is None or pos_at is None:
            why_not.append("无定位")
        elif pos_at < fresh_after:
            minutes = int((now - pos_at).total_seconds() // 60)
            why_not.append(f"定位已 {minutes} 分钟未更新")
        else:
            distance = geometry.haversine_m(event.lat, event.lng, lat, lng)
            why.append(f"距离 {distance:.0f} 米")
        # capability
        if owner is None:
            capable = street_id == event.street_id
            (why if capable else why_not).append("本街道执法队员（事项主管部门未知）" if capable else "非本街道队员")
        else:
            covers = home_dept == owner or owner in skills.get(officer_id, ()) or event.matter_code in (skill_codes or ())
            if not covers:
                why_not.append("不具备该事项的办理资格")
            elif event.delegated and street_id != event.street_id:
                why_not.append("非承接该事项赋权的街道队员")
            else:
                why.append("派出部门可办理该事项" if home_dept == owner else "具备该事项办理资格")
        # rank
        if o_rank < min_rank:
            why_not.append(f"职级“{rank_label.get(o_rank, o_rank)}”低于要求的“{rank_label.get(min_rank, min_rank)}”")
        # never twice
        if officer_id in had:
            why_not.append("已处理过此事件")
        load = loads.get(officer_id, 0)
        why.append(f"在办任务 {load} 件")
        eligible = not why_not
        out.append(Candidate(
            officer_id=officer_id, name=name, badge_no=badge, team_code=team_code, rank=o_rank, duty_status=duty,
            distance_m=distance, load=load, eligible=eligible, reasons=why if eligible else why_not,
        ))

    def key(c: Candidate):
        available = c.duty_status == DutyStatus.AVAILABLE
        distance = c.distance_m if c.distance_m is not None else math.inf
        if c.eligible:
            return (0, 0 if available else 1, 0 if available else c.load, distance, c.load, c.officer_id)
        return (1, len(c.reasons), 0, distance, c.load, c.officer_id)

    out.sort(key=key)
    for place, c in enumerate((c for c in out if c.eligible), start=1):
        c.place = place
    return out


def ranking_for(user, event: Event, *, now=None) -> dict:
    """The ranking as shown to a dispatcher or the event street's team leader (others: Forbidden)."""
    from core.exceptions import Forbidden
    from core.roles import DISPATCHER, TEAM_LEADER, has_role

    if not has_role(user, DISPATCHER, TEAM_LEADER):
        raise Forbidden("只有指挥中心值班员或执法队长可以查看派遣候选人。")
    ranked = rank(event, now=now)
    return {
        "event": event.pk, "severity": event.severity, "min_rank": min_rank_for(event.severity),
        "candidates": [c.as_dict() for c in ranked],
    }


def best(event: Event, *, now=None) -> Candidate | None:
    """The first candidate, or None when nobody qualifies."""
    ranked = rank(event, now=now)
    return ranked[0] if ranked and ranked[0].eligible else None
