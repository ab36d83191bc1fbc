"""Ranking: who may take an event and in what order; the desk's override (see command_center.dispatch)."""
import json
import math
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center.choices import AssignmentStatus
from command_center.dispatch.modes import mode_for
from command_center.models import Assignment, Event
from core.exceptions import Forbidden, ValidationFailed
from core.roles import DISPATCHER, TEAM_LEADER, has_role
from grids import geometry
from grids.choices import DutyStatus, Rank
from grids.models import Officer

OFF = (DutyStatus.OFF_DUTY, DutyStatus.ON_BREAK)
DEFAULT_PAGE = 20
MAX_PAGE = 200


def min_rank_for(severity: str) -> int:
    """The lowest rank that handles an event of this severity (COMMAND_CENTER_SEVERITY_MIN_RANK)."""
    ranks = getattr(settings, "COMMAND_CENTER_SEVERITY_MIN_RANK", {"blue": 1, "yellow": 1, "orange": 2, "red": 3})
    return ranks.get(severity, 1)


# --- ranking ------------------------------------------------------------------------------------

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
    reasons: list[str] = field(default_factory=list)
    place: int | None = None

    def as_dict(self) -> dict:
        return {
            "place": self.place, "officer": self.officer_id, "name": self.name, "badge_no": self.badge_no,
            "team_code": self.team_code, "rank": self.rank, "duty_status": self.duty_status,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1), "load": self.load,
            "eligible": True, "reasons": self.reasons,  # only those who qualify are listed (the rest are counted)
        }


@dataclass
class Ranking:
    candidates: list[Candidate]   # the first page, in order, with reasons
    pool: int                     # officers considered (the street's teams, plus the owning department's)
    eligible: int                 # of whom qualify
    excluded: dict[str, int]      # reason → how many it leaves out (one officer may count under several)
    labels: dict[str, str] = field(default_factory=dict)  # reason → what the dispatcher reads


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


def _sql_names() -> dict:
    q = connection.ops.quote_name
    return {
        "officer": q(Officer._meta.db_table), "team": q(Officer._meta.get_field("team").related_model._meta.db_table),
        "skills": q(Officer.skill_departments.through._meta.db_table), "assignment": q(Assignment._meta.db_table),
    }


class _Criteria:
    """The candidate conditions for one event, as SQL over `o` (officer) and `t` (its team).

    Hand-written SQL, standard enough for SQLite and PostgreSQL alike: building the equivalent ORM
    expressions (Exists, Case, annotations) cost several times the query itself, as profiling
    bench/dispatch.py showed. The sets (skill departments, this event's past assignees) are
    non-correlated subqueries, built once per query by the database, not looked up per officer."""

    def __init__(self, event: Event, now):
        self.fresh_seconds = getattr(settings, "COMMAND_CENTER_POSITION_FRESH_SECONDS", 300)
        self.min_rank = min_rank_for(event.severity)
        self.owner = owner_department_id(event.matter_code)
        n = _sql_names()
        pool, pool_params = [], []
        if event.street_id:
            pool.append("t.street_id = %s")
            pool_params.append(event.street_id)
        if not event.delegated and event.department_id:
            pool.append("o.home_department_id = %s")
            pool_params.append(event.department_id)
        self.pool = ("(" + " OR ".join(pool) + ")", pool_params) if pool else None
        fresh_after = connection.ops.adapt_datetimefield_value(now - timedelta(seconds=self.fresh_seconds))
        same_street = ("t.street_id = %s", [event.street_id]) if event.street_id else ("1 = 0", [])
        if self.owner is None:
            capable = same_street
        else:
            sql = f"(o.home_department_id = %s OR o.id IN (SELECT sd.officer_id FROM {n['skills']} sd WHERE sd.department_id = %s)"
            params = [self.owner, self.owner]
            if event.matter_code:
                if connection.vendor == "postgresql":
                    sql += " OR o.skill_matter_codes @> %s::jsonb"
                    params.append(json.dumps([event.matter_code]))
                else:  # the stored JSON text holds the quoted code (a whole element: codes hold no quotes)
                    sql += " OR instr(o.skill_matter_codes, %s) > 0"
                    params.append(json.dumps(event.matter_code))
            capable = (sql + ")", params)
        # reason code → (SQL an officer must meet, its params), in the order reasons are listed
        self.conditions = {
            "off_duty": ("o.duty_status NOT IN (%s, %s)", list(OFF)),
            "no_position": ("(o.last_lat IS NOT NULL AND o.last_lng IS NOT NULL AND o.last_position_at IS NOT NULL)", []),
            "stale_position": ("o.last_position_at >= %s", [fresh_after]),
            "not_capable": capable,
            "rank_too_low": ("o.rank >= %s", [self.min_rank]),
            "had_event": (f"o.id NOT IN (SELECT pa.officer_id FROM {n['assignment']} pa WHERE pa.event_id = %s)", [event.pk]),
        }
        if self.owner is not None and event.delegated:
            self.conditions["other_street"] = same_street
        self.from_sql = f"FROM {n['officer']} o INNER JOIN {n['team']} t ON t.id = o.team_id"
        self.names = n

    # Cheap, selective tests first: SQLite evaluates the WHERE terms in order and stops at the first false.
    CHEAP_FIRST = ("rank_too_low", "off_duty", "stale_position", "no_position", "other_street", "had_event", "not_capable")

    def eligible(self) -> tuple[str, list]:
        terms = [self.conditions[r] for r in self.CHEAP_FIRST if r in self.conditions]
        return " AND ".join(c for c, _p in terms), [p for _c, params in terms for p in params]

    def label(self, reason: str) -> str:
        rank_label = dict(Rank.choices)
        return {
            "off_duty": _("不在岗（下班或休息）"),
            "no_position": _("无定位"),
            "stale_position": _("定位超过 %(n)s 分钟未更新") % {"n": max(1, self.fresh_seconds // 60)},
            "not_capable": _("不具备该事项的办理资格"),
            "other_street": _("非承接该事项赋权的街道队员"),
            "rank_too_low": _("职级低于要求的“%(rank)s”") % {"rank": rank_label.get(self.min_rank, self.min_rank)},
            "had_event": _("已处理过此事件"),
        }[reason]


def rank(event: Event, *, now=None, limit: int | None = DEFAULT_PAGE, criteria: _Criteria | None = None) -> list[Candidate]:
    """The candidates in order, the first `limit` of them (None: all), each with its place and reasons."""
    now = now or timezone.now()
    crit = criteria or _Criteria(event, now)
    if crit.pool is None:
        return []
    k = math.cos(math.radians(event.lat)) ** 2  # a degree of longitude is shorter than one of latitude
    lat, lng = event.lat, event.lng
    pool_sql, pool_params = crit.pool
    eligible_sql, eligible_params = crit.eligible()
    load = f"(SELECT COUNT(*) FROM {crit.names['assignment']} la WHERE la.officer_id = o.id AND la.status = %s)"
    sql = (
        f"SELECT o.id, o.name, o.badge_no, t.code, o.home_department_id, o.rank, o.duty_status, o.last_lat, o.last_lng, "
        f"{load} AS live_load {crit.from_sql} WHERE {pool_sql} AND {eligible_sql} "
        # available first; the others by their load; then distance, load, id
        f"ORDER BY CASE WHEN o.duty_status = %s THEN 0 ELSE 1 END, CASE WHEN o.duty_status = %s THEN 0 ELSE {load} END, "
        f"(o.last_lat - %s) * (o.last_lat - %s) + (o.last_lng - %s) * (o.last_lng - %s) * %s, live_load, o.id"
    )
    live, available = AssignmentStatus.LIVE.value, DutyStatus.AVAILABLE.value
    params = [live, *pool_params, *eligible_params, available, available, live, lat, lat, lng, lng, k]
    if limit is not None:
        sql += " LIMIT %s"
        params.append(int(limit))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if crit.owner is None:
        own = other = _("本街道执法队员（事项主管部门未知）")
    else:
        own, other = _("派出部门可办理该事项"), _("具备该事项办理资格")
    duty_labels = dict(DutyStatus.choices)
    distance_label, load_label = _("距离 %(m)s 米"), _("在办任务 %(n)s 件")
    out = []
    for place, (pk, name, badge, team_code, home_dept, o_rank, duty, o_lat, o_lng, live_load) in enumerate(rows, start=1):
        distance = geometry.haversine_m(lat, lng, o_lat, o_lng)
        out.append(Candidate(
            officer_id=pk, name=name, badge_no=badge, team_code=team_code, rank=o_rank, duty_status=duty,
            distance_m=distance, load=live_load, place=place,
            reasons=[str(duty_labels.get(duty, duty)), distance_label % {"m": f"{distance:.0f}"},
                     own if home_dept == crit.owner else other, load_label % {"n": live_load}],
        ))
    return out


def _mask(crit: _Criteria) -> tuple[list[str], str, list]:
    """(reasons, SQL, params): an officer's failed conditions as a bit mask, bit i for reasons[i] (each
    condition evaluated once per officer)."""
    reasons = list(crit.conditions)
    terms, params = [], []
    for bit, reason in enumerate(reasons):
        condition, cond_params = crit.conditions[reason]
        if reason == "stale_position":  # only officers with a position at all can have a stale one
            condition = f"NOT {crit.conditions['no_position'][0]} OR {condition}"
        terms.append(f"CASE WHEN {condition} THEN 0 ELSE {1 << bit} END")
        params.extend(cond_params)
    return reasons, " + ".join(terms), params


def _failed(reasons: list[str], mask: int) -> list[str]:
    return [r for bit, r in enumerate(reasons) if mask & (1 << bit)]


def _exclusions(crit: _Criteria) -> tuple[int, int, dict[str, int]]:
    """(pool, eligible, {reason: count}) in one query over the pool: each officer's failed conditions
    as a bit mask, counted per mask."""
    if crit.pool is None:
        return 0, 0, {}
    pool_sql, pool_params = crit.pool
    reasons, mask, params = _mask(crit)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {mask} AS failed, COUNT(*) {crit.from_sql} WHERE {pool_sql} GROUP BY 1",
                       params + pool_params)
        rows = cursor.fetchall()
    pool = eligible = 0
    excluded = dict.fromkeys(reasons, 0)
    for failed, count in rows:
        pool += count
        if not failed:
            eligible += count
        for reason in _failed(reasons, failed):
            excluded[reason] += count
    return pool, eligible, {r: c for r, c in excluded.items() if c}


# --- the desk's override: an officer of the street the ranking left out ----------------------------
#
# "Any officer of the street" (what the desk may pick against the ranking, with `override` and a reason):
# an officer of a team of the event's street who is on duty (not off duty, not on a break) and never had
# this event. What the override passes over: no position or a stale one (a phone out of signal), the
# matter's capability, the rank. What it never passes over: another street's officer (a department's
# officer of another street may still be picked when the ranking lists them), one off duty or on a
# break, one who had the event before. The timeline line and the audit record carry the reason and
# the exclusions overridden.
OVERRIDABLE = ("no_position", "stale_position", "not_capable", "rank_too_low")
MAX_OVERRIDABLE = 50  # the nearest; a street's squad is a few dozen (bench/dispatch.py times 2,000)


@dataclass(frozen=True)
class Eligibility:
    failed: list[str]              # reason codes that leave the officer out of the ranking
    labels: list[str]              # what the dispatcher reads, one per code
    same_street: bool              # the officer's team is of the event's street

    @property
    def eligible(self) -> bool:
        return not self.failed

    @property
    def overridable(self) -> bool:
        return self.same_street and all(r in OVERRIDABLE for r in self.failed)


def eligibility(event: Event, officer: Officer, *, now=None) -> Eligibility:
    """Why the ranking leaves this officer out, if it does (one query)."""
    crit = _Criteria(event, now or timezone.now())
    reasons, mask, params = _mask(crit)
    pool_sql, pool_params = crit.pool or ("1 = 0", [])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {mask}, CASE WHEN {pool_sql} THEN 1 ELSE 0 END, t.street_id {crit.from_sql} "
                       f"WHERE o.id = %s", params + pool_params + [officer.pk])
        row = cursor.fetchone()
    if row is None:  # an officer with no team: nobody's street
        return Eligibility(failed=["other_street"], labels=[str(crit.label("other_street"))], same_street=False)
    failed_mask, in_pool, street_id = row
    failed = _failed(reasons, failed_mask)
    same_street = event.street_id is not None and street_id == event.street_id
    if not in_pool and "other_street" not in failed:
        failed.append("other_street")
    return Eligibility(failed=failed, labels=[str(crit.label(r)) for r in failed], same_street=same_street)


def overridable(event: Event, *, now=None, limit: int = MAX_OVERRIDABLE) -> list[dict]:
    """The street's officers the ranking leaves out but the desk may still pick (see OVERRIDABLE), the
    nearest first (those without a position last), each with the reasons it leaves them out for."""
    if not event.street_id:
        return []
    now = now or timezone.now()
    crit = _Criteria(event, now)
    reasons, mask, params = _mask(crit)
    blocking = [r for r in reasons if r not in OVERRIDABLE]
    blocking_sql = " AND ".join(crit.conditions[r][0] for r in blocking) or "1 = 1"
    blocking_params = [p for r in blocking for p in crit.conditions[r][1]]
    k = math.cos(math.radians(event.lat)) ** 2
    sql = (f"SELECT * FROM (SELECT o.id, o.name, o.badge_no, t.code, o.rank, o.duty_status, o.last_lat, o.last_lng, "
           f"o.last_position_at, {mask} AS failed, "
           f"(o.last_lat - %s) * (o.last_lat - %s) + (o.last_lng - %s) * (o.last_lng - %s) * %s AS d2 "
           f"{crit.from_sql} WHERE t.street_id = %s AND {blocking_sql}) left_out "
           f"WHERE failed > 0 ORDER BY CASE WHEN d2 IS NULL THEN 1 ELSE 0 END, d2, id LIMIT %s")
    with connection.cursor() as cursor:  # (failed > 0: the eligible are listed among the candidates)
        cursor.execute(sql, params + [event.lat, event.lat, event.lng, event.lng, k, event.street_id]
                       + blocking_params + [int(limit)])
        rows = cursor.fetchall()
    labels = {r: str(crit.label(r)) for r in reasons}
    out = []
    for pk, name, badge, team_code, o_rank, duty, o_lat, o_lng, at, failed_mask, _d2 in rows:
        failed = _failed(reasons, failed_mask)
        distance = None if o_lat is None or o_lng is None else geometry.haversine_m(event.lat, event.lng, o_lat, o_lng)
        out.append({"officer": pk, "name": name, "badge_no": badge, "team_code": team_code, "rank": o_rank,
                    "duty_status": duty, "distance_m": None if distance is None else round(distance, 1),
                    "last_position_at": at.isoformat() if hasattr(at, "isoformat") else at,
                    "eligible": False, "excluded": [{"reason": r, "label": labels[r]} for r in failed]})
    return out


def ranking(event: Event, *, now=None, limit: int = DEFAULT_PAGE) -> Ranking:
    now = now or timezone.now()
    crit = _Criteria(event, now)
    pool, eligible, excluded = _exclusions(crit)
    candidates = rank(event, now=now, limit=limit, criteria=crit) if eligible else []
    return Ranking(candidates=candidates, pool=pool, eligible=eligible, excluded=excluded,
                   labels={r: crit.label(r) for r in excluded})


def best(event: Event, *, now=None) -> Candidate | None:
    """The first candidate, or None when nobody qualifies."""
    ranked = rank(event, now=now, limit=1)
    return ranked[0] if ranked else None


def ranking_for(user, event: Event, *, now=None, limit=None) -> dict:
    """The ranking as shown to a dispatcher or the event street's team leader (others: Forbidden): the
    first `limit` candidates with the reasons for each place, and how many each reason leaves out."""
    if not has_role(user, DISPATCHER, TEAM_LEADER):
        raise Forbidden(_("只有指挥中心值班员或执法队长可以查看派遣候选人。"))
    limit = _page_size(limit)
    now = now or timezone.now()
    result = ranking(event, now=now, limit=limit)
    decision = mode_for(event, now=now)
    return {
        "event": event.pk, "severity": event.severity, "min_rank": min_rank_for(event.severity),
        "mode": decision.as_dict(),
        "pool": result.pool, "eligible": result.eligible,
        "excluded": [{"reason": r, "label": result.labels[r], "count": n} for r, n in result.excluded.items()],
        "candidates": [c.as_dict() for c in result.candidates],
        # Officers of the street the ranking leaves out whom the desk may still pick (override + reason).
        "overridable": overridable(event, now=now),
    }


def _page_size(limit) -> int:
    if limit in (None, ""):
        return DEFAULT_PAGE
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"limit": [_("必须是整数。")]})
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(fields={"limit": [_("必须在 1 到 %(max)s 之间。") % {"max": MAX_PAGE}]})
    return limit
