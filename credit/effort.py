"""Effort rules: how a subject's colour decides how often it is inspected (DOMAIN.md, "Who is trusted").

- red: re-inspection every N days, counted from the day it turned red, plus a visit to its neighbours
  (subjects within R metres, and optionally every subject of the same grid);
- yellow: routine patrols each month, plus a look-back (回头看) N days after a rectification is done;
- green: random spot checks of a set share each month, otherwise no inspection (一次不查).

`due_in()` answers "who is due this month in this area, and why" for the inspect-once planner and the
API; it is a selector (scoped by the asking user's areas). `update_rule()` is the one write: bureau staff
bound to the whole district, one transaction, audited. A subject without a score counts as green (it
starts green, issue 6).

The green sample is drawn per street and month, by ranking the street's green subjects on a keyed hash
of (month, subject id): the same month always gives the same list, asking about a community gives the
community's part of its street's list, and a shop cannot work out in advance whether it will be drawn
(the key is the SECRET_KEY).
"""
import calendar
import hashlib
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import shapely

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.exceptions import Forbidden, NotFound, ValidationFailed
from core.roles import API_CLIENT, BUREAU_STAFF, DISPATCHER, TEAM_LEADER, has_role
from credit import display
from credit.choices import Color, FactKind
from credit.models import CreditFact, CreditHistory, CreditScore, EffortRule
from grids import geometry
from grids import selectors as grid_selectors
from grids.choices import AreaKind, SubjectStatus
from grids.models import Area, Subject

# Who may read the due list: the people who plan and run inspections, and other platforms. Officers
# get their tasks from the planner, not this list.
READ_ROLES = (DISPATCHER, TEAM_LEADER, BUREAU_STAFF, API_CLIENT)
RULE_FIELDS = ("reinspect_every_days", "neighbour_radius_m", "neighbour_same_grid", "patrols_per_month",
               "lookback_days", "spot_check_percent", "note")
# The fields each colour's rule uses; the others stay empty.
FIELDS_BY_COLOR = {
    Color.RED: ("reinspect_every_days", "neighbour_radius_m", "neighbour_same_grid"),
    Color.YELLOW: ("patrols_per_month", "lookback_days"),
    Color.GREEN: ("spot_check_percent",),
}
LIMITS = {  # field → (min, max)
    "reinspect_every_days": (1, 366),
    "neighbour_radius_m": (0, 5000),
    "patrols_per_month": (0, 31),
    "lookback_days": (1, 366),
    "spot_check_percent": (0, 100),
}
DEFAULTS = {
    Color.RED: {"reinspect_every_days": 15, "neighbour_radius_m": 50, "neighbour_same_grid": False},
    Color.YELLOW: {"patrols_per_month": 1, "lookback_days": 15},
    Color.GREEN: {"spot_check_percent": 10.0},
}
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
METRES_PER_DEGREE = geometry.EARTH_RADIUS_M * math.pi / 180  # of latitude, on grids.geometry's sphere


class Due(models.TextChoices):
    RED_REINSPECT = "red_reinspect", gettext_lazy("红色·定期复查")
    RED_NEIGHBOUR = "red_neighbour", gettext_lazy("红色·走访周边")
    YELLOW_PATROL = "yellow_patrol", gettext_lazy("黄色·例行巡查")
    YELLOW_LOOKBACK = "yellow_lookback", gettext_lazy("黄色·整改回头看")
    GREEN_SPOT_CHECK = "green_spot_check", gettext_lazy("绿色·随机抽查")


DUE_ORDER = {k: i for i, k in enumerate(Due.values)}


@dataclass
class DueItem:
    subject: int
    subject_name: str
    grid: str
    color: str
    rule: str
    rule_label: str
    reason: str
    due_date: date
    related_subject: int | None = None

    def as_dict(self):
        return asdict(self)


# --- the rules themselves -----------------------------------------------------------------------

def rules() -> dict[str, EffortRule]:
    """The three rules by colour; a missing row (never in a migrated database) falls back to the defaults."""
    found = {r.color: r for r in EffortRule.objects.all()}
    for color, values in DEFAULTS.items():
        found.setdefault(color, EffortRule(color=color, **values))
    return found


def require_rule_staff(actor):
    """Bureau staff bound to the whole district (the rules are the district's), or the system (None)."""
    if actor is None:
        return
    if not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以修改检查频次规则。"))
    if grid_selectors.user_area_paths(actor) is not None:
        raise Forbidden(_("检查频次规则由区级统一维护：您的账号未绑定全区。"))


def clean_rule(color: str, data: dict) -> dict:
    """The fields of `data` this colour's rule uses, checked; others given with a value are an error."""
    if color not in Color.values:
        raise NotFound(_("没有该颜色的规则。"))
    allowed = FIELDS_BY_COLOR[color]
    errors, out = {}, {}
    for name, value in data.items():
        if name == "note":
            value = "" if value is None else str(value).strip()
            if len(value) > 255:
                errors[name] = [_("不能超过 255 个字符。")]
            out[name] = value
            continue
        if name not in RULE_FIELDS:
            continue
        if name not in allowed:
            if value not in (None, False):
                errors[name] = [_("该颜色的规则不使用此项。")]
            continue
        if name == "neighbour_same_grid":
            if not isinstance(value, bool):
                errors[name] = [_("必须是 true 或 false。")]
            out[name] = value
            continue
        if value is None or isinstance(value, bool):
            errors[name] = [_("此字段为必填项。")]
            continue
        try:
            number = float(value) if name == "spot_check_percent" else int(value)
        except (TypeError, ValueError):
            errors[name] = [_("必须是数字。")]
            continue
        if name != "spot_check_percent" and number != float(value):
            errors[name] = [_("必须是整数。")]
            continue
        low, high = LIMITS[name]
        if not (low <= number <= high) or math.isnan(number):
            errors[name] = [_("必须在 %(low)s 到 %(high)s 之间。") % {"low": low, "high": high}]
            continue
        out[name] = number
    if errors:
        raise ValidationFailed(fields=errors)
    return out


@transaction.atomic
def update_rule(actor, color: str, **data) -> EffortRule:
    """Change one colour's rule (only the fields given). Audited with old → new values."""
    require_rule_staff(actor)
    clean = clean_rule(color, data)
    rule = EffortRule.objects.select_for_update().filter(color=color).first()
    if rule is None:
        rule = EffortRule(color=color, **DEFAULTS[color])
    fields = list(clean)
    before = audit.snapshot(rule, fields) if rule.pk else {}
    for name, value in clean.items():
        setattr(rule, name, value)
    rule.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    rule.save()
    changes = audit.diff(before, audit.snapshot(rule, fields))
    if changes or not before:
        audit.record(actor, "credit.effort_rule_updated", rule, changes=changes)
    return rule


# --- who is due ---------------------------------------------------------------------------------

def parse_month(raw) -> tuple[date, date]:
    """'YYYY-MM' → (first day, last day); empty → this month (local time)."""
    if raw in (None, ""):
        today = timezone.localdate()
        year, month = today.year, today.month
    else:
        m = MONTH_RE.match(str(raw))
        if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
            raise ValidationFailed(fields={"month": [_("格式应为 YYYY-MM（2000–2100 年）。")]})
        year, month = int(m.group(1)), int(m.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def area_for(user, code) -> Area:
    """The area the user asks about, by code: 404 when it doesn't exist or lies outside their areas."""
    if not code:
        raise ValidationFailed(fields={"area": [_("此字段为必填项（区域编码）。")]})
    area = Area.objects.defer("boundary").filter(code=str(code)[:32]).first()
    if area is None or not grid_selectors.user_covers_area(user, area):
        raise NotFound(_("区域不存在。"))
    return area


def require_reader(user):
    if not has_role(user, *READ_ROLES):
        raise Forbidden(_("您的角色无权查看检查计划。"))


def _key(month: date, subject_id: int, secret: bytes | None = None) -> bytes:
    """A keyed hash of (month, subject): keyed BLAKE2b, fast enough for a district's every subject."""
    secret = secret or hashlib.sha256(settings.SECRET_KEY.encode()).digest()
    return hashlib.blake2b(f"credit-effort:{month:%Y-%m}:{subject_id}".encode(), key=secret, digest_size=16).digest()


def _day_in(first: date, span_days: int, key: bytes) -> date:
    """A day in [first, first + span) picked by the key: spreads the month's visits evenly."""
    return first + timedelta(days=int.from_bytes(key[:4], "big") % max(1, span_days))


def _street_of_grid() -> dict[int, int | None]:
    return {grid_id: street.pk if street else None for grid_id, street in display.streets_by_grid().items()}


def green_sample(street_ids, first: date, percent: float, grid_street: dict | None = None, rows=None) -> set[int]:
    """The green (or unscored) active subjects of these streets drawn for this month's spot checks.
    `rows` (id, grid id, colour): the streets' active subjects when the caller has them already."""
    if percent <= 0 or not street_ids:
        return set()
    grid_street = grid_street if grid_street is not None else _street_of_grid()
    population: dict[int, list[tuple[bytes, int]]] = {}
    secret = hashlib.sha256(settings.SECRET_KEY.encode()).digest()
    if rows is None:
        rows = Subject.objects.filter(
            status=SubjectStatus.ACTIVE, grid_id__in=[g for g, s in grid_street.items() if s in street_ids],
        ).values_list("id", "grid_id", "credit_score__color")
    for subject_id, grid_id, color in rows:
        if color in (None, Color.GREEN):
            population.setdefault(grid_street[grid_id], []).append((_key(first, subject_id, secret), subject_id))
    drawn = set()
    for members in population.values():
        members.sort()
        # ceil: a street with any green subject and a share above zero gets at least one check.
        take = math.ceil(len(members) * percent / 100 - 1e-9)
        drawn.update(subject_id for _k, subject_id in members[:take])
    return drawn


def _red_since(red_ids_qs) -> dict[int, date]:
    """The day each red subject last turned red (its history), or else the day it was last scored."""
    since = {sid: timezone.localdate(at) for sid, at in CreditHistory.objects.filter(
        subject__in=red_ids_qs, to_color=Color.RED).values_list("subject_id").annotate(at=Max("changed_at")).order_by()}
    missing = CreditScore.objects.filter(subject__in=red_ids_qs).exclude(subject__credit_history__to_color=Color.RED)
    for sid, computed_at in missing.values_list("subject_id", "computed_at"):
        since.setdefault(sid, timezone.localdate(computed_at))
    return since


def _completed_rectifications(yellow_qs) -> dict[int, list[tuple[date, str]]]:
    """Rectifications done, per subject: (day done, what). The poster withdraws a rectification's
    `rectification_open` fact when it is done (credit.services.facts), so its withdrawal time is that day."""
    out: dict[int, list[tuple[date, str]]] = {}
    rows = CreditFact.objects.filter(subject__in=yellow_qs, kind=FactKind.RECTIFICATION_OPEN,
                                     withdrawn_at__isnull=False).values_list("subject_id", "withdrawn_at", "source_text")
    for sid, done, text in rows:
        out.setdefault(sid, []).append((timezone.localdate(done), text))
    return out


class _Subject(NamedTuple):
    """An active subject of the asked area, as due_in reads it (unscored counts as green)."""

    id: int
    name: str
    lat: float
    lng: float
    grid_id: int
    grid_code: str
    color: str


@dataclass(frozen=True)
class _Month:
    first: date
    last: date
    secret: bytes  # the key of the month's draws (see _key)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


class _DueList:
    """The month's items, added rule by rule."""

    def __init__(self):
        self.items: list[DueItem] = []
        self.labels = {code: str(label) for code, label in Due.choices}  # translated once, not per row

    def add(self, s: _Subject, rule_code: str, reason: str, due: date, related: int | None = None):
        self.items.append(DueItem(s.id, s.name, s.grid_code, s.color, rule_code, self.labels[rule_code], reason, due,
                                  related))


def due_in(user, area: Area, first: date, last: date) -> tuple[list[DueItem], dict]:
    """Who in `area` (and in the user's areas) is due in the month [first, last], and why.
    Returns the items (by due date) and a summary: subjects, per-rule counts, green exempt."""
    require_reader(user)
    rule = rules()
    base = grid_selectors.subjects_for(user).filter(grid_selectors.subjects_in_area_q(area), status=SubjectStatus.ACTIVE)
    subjects = list(map(_Subject._make, base.order_by("id").values_list(
        "id", "name", "lat", "lng", "grid_id", "grid__code", Coalesce("credit_score__color", Value(Color.GREEN)))))
    by_color = {color: [s for s in subjects if s.color == color] for color in Color.values}
    month = _Month(first, last, hashlib.sha256(settings.SECRET_KEY.encode()).digest())
    due = _DueList()

    first_visit = _red_reinspections(due, by_color[Color.RED], rule[Color.RED], base, month)
    _red_neighbours(due, subjects, by_color[Color.RED], rule[Color.RED], first_visit, month)
    _yellow_patrols(due, by_color[Color.YELLOW], rule[Color.YELLOW], month)
    _yellow_lookbacks(due, by_color[Color.YELLOW], rule[Color.YELLOW], base, month)
    drawn = _green_spot_checks(due, subjects, by_color[Color.GREEN], rule[Color.GREEN], area, month)

    items = sorted(due.items, key=lambda x: (x.due_date, DUE_ORDER[x.rule], x.subject))
    per_rule = Counter(x.rule for x in items)
    summary = {
        "subjects": len(subjects),
        "by_color": {c: len(by_color[c]) for c in Color.values},
        "by_rule": {k: per_rule[k] for k in Due.values},
        "green_not_inspected": sum(1 for s in by_color[Color.GREEN] if s.id not in drawn),
    }
    return items, summary


def _red_reinspections(due: _DueList, red: list[_Subject], red_rule, base, month: _Month) -> dict[int, date]:
    """Red: a re-inspection every N days, counted from the day it turned red. The first visit of the
    month per red subject (its neighbours are visited along)."""
    every = red_rule.reinspect_every_days or DEFAULTS[Color.RED]["reinspect_every_days"]
    since = _red_since(base.filter(credit_score__color=Color.RED).values("id"))
    first_visit: dict[int, date] = {}
    text = _("红色（%(since)s 起）：每 %(n)d 天复查一次，第 %(k)d 次复查。")
    for s in red:
        anchor = since.get(s.id) or month.first
        k = max(1, math.ceil((month.first - anchor).days / every))
        day = anchor + timedelta(days=k * every)
        while day <= month.last:
            first_visit.setdefault(s.id, day)
            due.add(s, Due.RED_REINSPECT, text % {"since": anchor.isoformat(), "n": every, "k": k}, day)
            k += 1
            day = anchor + timedelta(days=k * every)
    return first_visit


def _red_neighbours(due: _DueList, subjects: list[_Subject], red: list[_Subject], red_rule,
                    first_visit: dict[int, date], month: _Month):
    """Red: visits to the neighbours (not red themselves: they have their own re-inspections), along
    with the nearest red subject's first re-inspection of the month."""
    radius = red_rule.neighbour_radius_m or 0
    if not red or not (radius > 0 or red_rule.neighbour_same_grid):
        return
    others = [s for s in subjects if s.color != Color.RED]
    near = _within_radius(red, others, radius) if radius > 0 else {}  # neighbour → (metres, red subject)
    if red_rule.neighbour_same_grid:
        by_grid: dict[int, list[_Subject]] = {}
        for s in others:
            by_grid.setdefault(s.grid_id, []).append(s)
        for r in red:  # in id order: the first red subject of the grid leads the visit
            for s in by_grid.get(r.grid_id, ()):
                near.setdefault(s.id, (math.inf, r.id))
    info = {s.id: s for s in subjects}
    same_grid_text = _("与红色对象“%(name)s”同网格：随其复查走访。")
    near_text = _("距红色对象“%(name)s”约 %(m)d 米：随其复查走访。")
    for sid, (metres, red_id) in near.items():
        red_name = info[red_id].name
        if metres == math.inf:
            reason = same_grid_text % {"name": red_name}
        else:
            reason = near_text % {"name": red_name, "m": round(metres)}
        due.add(info[sid], Due.RED_NEIGHBOUR, reason, first_visit.get(red_id, month.last), related=red_id)


def _within_radius(centres: list[_Subject], others: list[_Subject], radius_m: float) -> dict[int, tuple[float, int]]:
    """{other's id: (metres, id of the nearest centre)} for the others within radius_m of a centre (the
    lower id among equally near ones). An STRtree of the others answers a box around each centre at once;
    the great-circle distance (grids.geometry's) decides."""
    if not others:
        return {}
    c_lat, c_lng = np.array([c.lat for c in centres]), np.array([c.lng for c in centres])
    o_lat, o_lng = np.array([o.lat for o in others]), np.array([o.lng for o in others])
    # Boxes a little wider than the circle: the distance below is the judge.
    half_lat = radius_m * 1.01 / METRES_PER_DEGREE
    half_lng = half_lat / np.maximum(np.cos(np.radians(np.abs(c_lat) + half_lat)), 1e-6)
    boxes = shapely.box(c_lng - half_lng, c_lat - half_lat, c_lng + half_lng, c_lat + half_lat)
    centre_at, other_at = shapely.STRtree(shapely.points(o_lng, o_lat)).query(boxes)
    metres = geometry.haversine_m_arrays(c_lat[centre_at], c_lng[centre_at], o_lat[other_at], o_lng[other_at])
    inside = metres <= radius_m
    centre_at, other_at, metres = centre_at[inside], other_at[inside], metres[inside]
    centre_ids = np.array([c.id for c in centres])[centre_at]
    other_ids = np.array([o.id for o in others])[other_at]
    order = np.lexsort((centre_ids, metres, other_ids))  # per other: nearest first, then lower id
    _ids, first = np.unique(other_ids[order], return_index=True)
    best = order[first]
    return {o: (m, c) for o, m, c in zip(other_ids[best].tolist(), metres[best].tolist(), centre_ids[best].tolist())}



def _yellow_patrols(due: _DueList, yellow: list[_Subject], yellow_rule, month: _Month):
    """Yellow: routine patrols spread over the month, each on a keyed day of its share of the month."""
    patrols = yellow_rule.patrols_per_month if yellow_rule.patrols_per_month is not None else 1
    text = _("黄色：每月例行巡查 %(n)d 次，第 %(i)d 次。")
    for s in yellow:
        key = _key(month.first, s.id, month.secret)
        for i in range(patrols):
            start = month.first + timedelta(days=(i * month.days) // patrols)
            span = ((i + 1) * month.days) // patrols - (i * month.days) // patrols
            due.add(s, Due.YELLOW_PATROL, text % {"n": patrols, "i": i + 1}, _day_in(start, span, key))


def _yellow_lookbacks(due: _DueList, yellow: list[_Subject], yellow_rule, base, month: _Month):
    """Yellow: a look-back (回头看) N days after each rectification done, if that falls in the month."""
    if not yellow:
        return
    lookback = yellow_rule.lookback_days or DEFAULTS[Color.YELLOW]["lookback_days"]
    done = _completed_rectifications(base.filter(credit_score__color=Color.YELLOW).values("id"))
    text = _("黄色：%(done)s 完成整改，%(n)d 天后回头看。%(text)s")
    for s in yellow:
        for done_on, what in sorted(done.get(s.id, [])):
            day = done_on + timedelta(days=lookback)
            if month.first <= day <= month.last:
                due.add(s, Due.YELLOW_LOOKBACK, text % {"done": done_on.isoformat(), "n": lookback, "text": what}, day)


def _green_spot_checks(due: _DueList, subjects: list[_Subject], greens: list[_Subject], green_rule, area: Area,
                       month: _Month) -> set[int]:
    """Green (and unscored): a keyed random share per street, the rest not inspected at all. The drawn ids."""
    if not greens:
        return set()
    percent = green_rule.spot_check_percent or 0
    grid_street = _street_of_grid()
    # Asked about whole streets (which the user covers), the subjects are the streets' population already.
    whole = ([(s.id, s.grid_id, s.color) for s in subjects] if area.kind in (AreaKind.STREET, AreaKind.DISTRICT)
             else None)
    drawn = green_sample({grid_street.get(s.grid_id) for s in greens} - {None}, month.first, percent, grid_street,
                         whole)
    text = _("绿色：本月随机抽查（抽查比例 %(p)s%%），其余一次不查。") % {"p": f"{percent:g}"}
    for s in greens:
        if s.id in drawn:
            day = _day_in(month.first, month.days, _key(month.first, s.id, month.secret))
            due.add(s, Due.GREEN_SPOT_CHECK, text, day)
    return drawn
