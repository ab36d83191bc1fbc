"""The score, as a pure function of (facts, policy, now): no database here, so the incremental rescore
of one subject and the nightly bulk rescore of all of them run the very same code and must agree.

score = Σ points × factor weight × (lenient multiplier | complaint weight) × decay(age)
over the facts of the look-back window that were not withdrawn; sensor exceedances count once per day
and metric. Thresholds map the score to a colour; sensor rules (data in the policy) can only make it
worse ("at least yellow"); a subject with no facts is green.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings

from credit.choices import Color, FactKind, worse

# A fact as both rescoring paths load it (credit.services.rescoring._live_facts), in this order; `ts` is
# occurred_at in epoch seconds (a float: cheaper than datetimes at 500,000 rows).
FACT_COLUMNS = ("id", "subject_id", "kind", "points", "confirmed", "leniency", "metric", "value", "ts")
DAY_S = 86400.0
MAX_FACTS_PER_REASON = 50  # a reason lists the largest contributions; the count says how many in all
# Plain strings, looked up once: the bulk rescore calls compute() 100,000 times a night.
KIND_ORDER = tuple(str(k) for k in FactKind.values)
GREEN, YELLOW, RED = str(Color.GREEN), str(Color.YELLOW), str(Color.RED)
SENSOR, COMPLAINT, VIOLATION = str(FactKind.SENSOR_EXCEEDANCE), str(FactKind.COMPLAINT), str(FactKind.VIOLATION)


@dataclass(frozen=True)
class PolicyParams:
    """The parts of a CreditPolicy row the computation needs, plain and hashable-free of the ORM."""

    id: int | None
    version: int
    category_id: int | None
    window_days: int
    half_life_days: float | None
    yellow_from: float
    red_from: float
    base_points: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    lenient_multiplier: float = 0.3
    complaint_confirmed_weight: float = 1.0
    complaint_unconfirmed_weight: float = 0.3
    sensor_rules: tuple = ()

    @classmethod
    def from_policy(cls, p) -> "PolicyParams":
        return cls(
            id=p.pk, version=p.version, category_id=p.category_id, window_days=p.window_days,
            half_life_days=p.half_life_days, yellow_from=p.yellow_from, red_from=p.red_from,
            base_points=dict(p.base_points or {}), weights=dict(p.weights or {}),
            lenient_multiplier=p.lenient_multiplier, complaint_confirmed_weight=p.complaint_confirmed_weight,
            complaint_unconfirmed_weight=p.complaint_unconfirmed_weight, sensor_rules=tuple(p.sensor_rules or ()),
        )

    @property
    def lookback_days(self) -> int:
        """How far back facts must be loaded: the window, or a sensor rule's own span if longer."""
        spans = [int(r.get("within_days") or self.window_days) for r in self.sensor_rules]
        return max([self.window_days, *spans])

    def color_for(self, score: float) -> str:
        if score >= self.red_from:
            return RED
        if score >= self.yellow_from:
            return YELLOW
        return GREEN


_TZ = None


def _tz():
    global _TZ
    if _TZ is None:
        _TZ = ZoneInfo(settings.TIME_ZONE)
    return _TZ


def _local_date(dt: datetime):
    return dt.astimezone(_tz()).date()


def compute(facts, policy: PolicyParams, now: datetime):
    """(score, computed colour, reasons) from the subject's live facts (rows in FACT_COLUMNS order).

    Facts outside the window or in the future are ignored here too, so callers may over-fetch.
    `reasons` names facts by id with their contribution; readers add the rest (selectors.enrich_reasons).
    """
    window_start = now - timedelta(days=policy.window_days)
    by_factor, sensor_days = _weigh_facts(facts, policy, now.timestamp(), window_start.timestamp())
    _weigh_sensor_days(by_factor, sensor_days, policy, _local_date(window_start))
    factors, score = _factors(by_factor)
    points_color = policy.color_for(score)
    met = _sensor_rules_met(sensor_days, policy, _local_date(now)) if sensor_days and policy.sensor_rules else []
    color = points_color
    for rule in met:  # sensor rules can only make it worse
        color = worse(color, rule["color"])
    reasons = {
        "policy": {"id": policy.id, "version": policy.version, "category": policy.category_id},
        "window_days": policy.window_days,
        "half_life_days": policy.half_life_days,
        "thresholds": {"yellow_from": policy.yellow_from, "red_from": policy.red_from},
        "points_color": points_color,
        "factors": factors,
        "sensor_rules": met,
    }
    return score, color, reasons


class _Reading(NamedTuple):
    """A sensor exceedance fact, kept aside by (metric, local day): they count once per day."""

    value: float | None
    age_days: float
    fact_id: int
    points: float | None


def _decay(age_days: float, half_life_days: float | None) -> float:
    return 0.5 ** (age_days / half_life_days) if half_life_days else 1.0


def _weigh_facts(facts, policy: PolicyParams, now_ts: float, window_ts: float):
    """Each fact's contribution, {kind: [(contribution, points, fact id)]}, and the sensor readings
    aside, {(metric, local day): [_Reading]} (they have a window and a count of their own)."""
    weights, base, half_life = policy.weights, policy.base_points, policy.half_life_days
    by_factor: dict[str, list] = {}
    sensor_days: dict[tuple, list[_Reading]] = {}
    for fact_id, _subject_id, kind, points, confirmed, leniency, metric, value, ts in facts:
        if ts > now_ts:
            continue
        age = (now_ts - ts) / DAY_S
        if kind == SENSOR:
            day = datetime.fromtimestamp(ts, _tz()).date()
            sensor_days.setdefault((metric, day), []).append(_Reading(value, age, fact_id, points))
            continue
        if ts < window_ts:
            continue
        if points is None:
            points = float(base.get(kind, 0))
        mult = float(weights.get(kind, 1.0))
        if kind == COMPLAINT:
            mult *= policy.complaint_confirmed_weight if confirmed else policy.complaint_unconfirmed_weight
        elif kind == VIOLATION and leniency:
            mult *= policy.lenient_multiplier
        by_factor.setdefault(kind, []).append((round(points * mult * _decay(age, half_life), 2), points, fact_id))
    return by_factor, sensor_days


def _weigh_sensor_days(by_factor: dict, sensor_days: dict, policy: PolicyParams, window_start_day):
    """Sensor exceedances: points once per metric and day (the day's highest reading, the latest of
    equals), within the window."""
    mult = float(policy.weights.get(SENSOR, 1.0))
    for (_metric, day), readings in sensor_days.items():
        if day < window_start_day:
            continue
        top = max(readings, key=lambda r: (r.value if r.value is not None else float("-inf"), -r.age_days))
        points = top.points if top.points is not None else float(policy.base_points.get(SENSOR, 0))
        contribution = round(points * mult * _decay(top.age_days, policy.half_life_days), 2)
        by_factor.setdefault(SENSOR, []).append((contribution, points, top.fact_id))


def _factors(by_factor: dict) -> tuple[list, float]:
    """The reasons' factors in a fixed order (equal inputs give equal reasons), each with its largest
    contributions; and the score, their sum."""
    factors, total = [], 0.0
    for kind in KIND_ORDER:
        items = by_factor.get(kind)
        if not items:
            continue
        subtotal = round(sum(c for c, _p, _id in items), 2)
        total += subtotal
        items.sort(key=lambda t: (-t[0], -t[2]))
        factors.append({"factor": kind, "points": subtotal, "count": len(items),
                        "facts": [{"id": i, "points": p, "contribution": c}
                                  for c, p, i in items[:MAX_FACTS_PER_REASON]]})
    return factors, round(total, 2)


def _sensor_rules_met(sensor_days: dict, policy: PolicyParams, today) -> list[dict]:
    """The sensor rules whose run of consecutive days over the limit is long enough, with those days
    and their facts."""
    met = []
    for rule in policy.sensor_rules:
        metric, limit = rule.get("metric"), float(rule.get("limit", 0))
        need = int(rule.get("days", 1))
        since = today - timedelta(days=int(rule.get("within_days") or policy.window_days) - 1)
        over = sorted(d for (m, d), readings in sensor_days.items()
                      if m == metric and since <= d <= today and any(_over(r, limit) for r in readings))
        longest, last_day = _longest_run(over)
        if longest >= need:
            days = [last_day - timedelta(days=i) for i in range(longest - 1, -1, -1)]
            fact_ids = sorted(r.fact_id for d in days for r in sensor_days[(metric, d)] if _over(r, limit))
            met.append({"metric": metric, "limit": limit, "days": need, "color": rule["color"],
                        "consecutive_days": longest, "dates": [d.isoformat() for d in days], "fact_ids": fact_ids})
    return met


def _over(reading: _Reading, limit: float) -> bool:
    return reading.value is not None and reading.value > limit


def _longest_run(days: list) -> tuple[int, object]:
    """(length, last day) of the longest run of consecutive days in a sorted list (the first of equals)."""
    run = longest = 0
    prev = last_day = None
    for d in days:
        run = run + 1 if prev is not None and (d - prev).days == 1 else 1
        prev = d
        if run > longest:
            longest, last_day = run, d
    return longest, last_day
