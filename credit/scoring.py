"""The score, as a pure function of (facts, policy, now): no database here, so the incremental rescore
of one subject and the nightly bulk rescore of all of them run the very same code and must agree.

score = Σ points × factor weight × (lenient multiplier | complaint weight) × decay(age)
over the facts of the look-back window that were not withdrawn; sensor exceedances count once per day
and metric. Thresholds map the score to a colour; sensor rules (data in the policy) can only make it
worse ("at least yellow"); a subject with no facts is green.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from credit.choices import Color, FactKind, worse

# A fact as both rescoring paths load it (credit.services.rescoring._live_facts), in this order; `ts` is
# occurred_at in epoch seconds (a float: cheaper than datetimes at 500,000 rows).
FACT_COLUMNS = ("id", "subject_id", "kind", "points", "confirmed", "leniency", "metric", "value", "ts")
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
    day = 86400.0
    now_ts = now.timestamp()
    window_start = now - timedelta(days=policy.window_days)
    window_ts = window_start.timestamp()
    half_life = policy.half_life_days
    weights, base = policy.weights, policy.base_points
    by_factor: dict[str, list] = {}
    sensor_days: dict[tuple, list] = {}  # (metric, local date) → [(value, row, age_days)]
    for row in facts:
        ts = row[8]
        if ts > now_ts:
            continue
        kind = row[2]
        age = (now_ts - ts) / day
        if kind == SENSOR:
            local = datetime.fromtimestamp(ts, _tz()).date()
            sensor_days.setdefault((row[6], local), []).append((row[7], row, age))
            continue
        if ts < window_ts:
            continue
        points = row[3] if row[3] is not None else float(base.get(kind, 0))
        mult = float(weights.get(kind, 1.0))
        if kind == COMPLAINT:
            mult *= policy.complaint_confirmed_weight if row[4] else policy.complaint_unconfirmed_weight
        elif kind == VIOLATION and row[5]:
            mult *= policy.lenient_multiplier
        decay = 0.5 ** (age / half_life) if half_life else 1.0
        by_factor.setdefault(kind, []).append((round(points * mult * decay, 2), points, row))

    # Sensor exceedances: points once per metric and day (the day's highest reading), within the window.
    window_start_date = _local_date(window_start)
    for (metric, date), readings in sensor_days.items():
        if date < window_start_date:
            continue
        value, row, age = max(readings, key=lambda r: (r[0] if r[0] is not None else float("-inf"), -r[2]))
        points = row[3] if row[3] is not None else float(base.get(SENSOR, 0))
        decay = 0.5 ** (age / half_life) if half_life else 1.0
        mult = float(weights.get(SENSOR, 1.0))
        by_factor.setdefault(SENSOR, []).append((round(points * mult * decay, 2), points, row))

    factors, total = [], 0.0
    for kind in KIND_ORDER:  # a fixed order, so equal inputs give equal reasons
        items = by_factor.get(kind)
        if not items:
            continue
        subtotal = round(sum(c for c, _, _ in items), 2)
        total += subtotal
        items.sort(key=lambda t: (-t[0], -t[2][0]))
        factors.append({"factor": kind, "points": subtotal, "count": len(items),
                        "facts": [{"id": r[0], "points": p, "contribution": c} for c, p, r in items[:MAX_FACTS_PER_REASON]]})
    score = round(total, 2)
    color = policy.color_for(score)
    points_color = color

    sensor = []
    if sensor_days and policy.sensor_rules:
        today = _local_date(now)
        for rule in policy.sensor_rules:
            metric, limit = rule.get("metric"), float(rule.get("limit", 0))
            need = int(rule.get("days", 1))
            since = today - timedelta(days=int(rule.get("within_days") or policy.window_days) - 1)
            over = sorted(d for (m, d), rs in sensor_days.items()
                          if m == metric and since <= d <= today and any(v is not None and v > limit for v, _, _ in rs))
            run = best = best_end = 0
            prev = None
            for d in over:
                run = run + 1 if prev is not None and (d - prev).days == 1 else 1
                prev = d
                if run > best:
                    best, best_end = run, d
            if best >= need:
                days = [best_end - timedelta(days=i) for i in range(best - 1, -1, -1)]
                fact_ids = sorted(r[0] for d in days for v, r, _ in sensor_days[(metric, d)] if v is not None and v > limit)
                color = worse(color, rule["color"])
                sensor.append({"metric": metric, "limit": limit, "days": need, "color": rule["color"],
                               "consecutive_days": best, "dates": [d.isoformat() for d in days], "fact_ids": fact_ids})

    reasons = {
        "policy": {"id": policy.id, "version": policy.version, "category": policy.category_id},
        "window_days": policy.window_days,
        "half_life_days": policy.half_life_days,
        "thresholds": {"yellow_from": policy.yellow_from, "red_from": policy.red_from},
        "points_color": points_color,
        "factors": factors,
        "sensor_rules": sensor,
    }
    return score, color, reasons
