"""Reads behind what people see of credit: the colours on maps and dashboards, and the ranking
(榜单, "大综点评") with its trend arrows, for staff (scoped by their areas) and for the public (no
personal data). Writes live in credit.services; the effort rules in credit.effort.
"""
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed
from credit.choices import COLOR_RANK, Color, FactKind
from credit.models import CreditHistory
from grids import selectors as grid_selectors
from grids.choices import AreaKind, SubjectStatus
from grids.models import Area, Subject

MAX_IDS = 1000
TREND_DAYS = (7, 30, 90)


class Trend:
    BETTER, WORSE, SAME = "better", "worse", "same"


# --- colours for maps and dashboards ------------------------------------------------------------

def parse_ids(raw) -> list[int] | None:
    """'1,2,3' → [1, 2, 3] (at most MAX_IDS); None when absent."""
    if raw in (None, ""):
        return None
    try:
        ids = [int(p) for p in str(raw).split(",") if p.strip()]
    except ValueError:
        ids = None
    if not ids or any(not 0 < i < 2**63 for i in ids):
        raise ValidationFailed(fields={"ids": [_("应为以逗号分隔的对象ID。")]})
    if len(ids) > MAX_IDS:
        raise ValidationFailed(fields={"ids": [_("一次最多 %(n)d 个ID。") % {"n": MAX_IDS}]})
    return ids


def colors_for(user, *, bbox=None, ids=None, limit: int = 20000) -> tuple[dict[int, str], bool, dict]:
    """{subject id: colour} of the scored subjects the user may see: the active ones in the map box,
    or the ids asked for. Unscored subjects are left out (the map draws them plain). Also returns
    whether the box held more than `limit`, and the count per colour."""
    qs = grid_selectors.subjects_for(user).filter(credit_score__isnull=False)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    else:
        qs = qs.filter(status=SubjectStatus.ACTIVE)
    if bbox:
        min_lng, min_lat, max_lng, max_lat = bbox
        qs = qs.filter(lng__gte=min_lng, lng__lte=max_lng, lat__gte=min_lat, lat__lte=max_lat)
    rows = list(qs.order_by("id").values_list("id", "credit_score__color")[: limit + 1])
    colors = dict(rows[:limit])
    counts = {c: 0 for c in Color.values}
    for color in colors.values():
        counts[color] += 1
    return colors, len(rows) > limit, counts


# --- the ranking ----------------------------------------------------------------------------------

def _in_category(code: str) -> Q:
    return Q(category__code=code) | Q(category__parent__code=code)


def ranking(user, *, area: Area | None = None, category: str | None = None, worst_first=False) -> QuerySet:
    """Scored active subjects in the user's areas (and `area`, `category` when given), best first:
    lowest score (fewest points) first; `worst_first` turns it round. Ties by id, so pages are stable."""
    qs = grid_selectors.subjects_for(user).filter(status=SubjectStatus.ACTIVE, credit_score__isnull=False)
    return _ranked(qs, area, category, worst_first).select_related("credit_score")


def public_ranking(*, street: Area | None = None, category: str | None = None, worst_first=False) -> QuerySet:
    """The public ranking: the whole district, and only what may be published (see `public_rows`)."""
    qs = Subject.objects.filter(status=SubjectStatus.ACTIVE, credit_score__isnull=False)
    return _ranked(qs, street, category, worst_first).select_related("credit_score", "category").only(
        "id", "name", "grid_id", "category__name", "credit_score__color", "credit_score__score")


def _ranked(qs, area, category, worst_first) -> QuerySet:
    if area is not None:
        qs = qs.filter(grid_selectors.subjects_in_area_q(area))
    if category:
        qs = qs.filter(_in_category(category))
    order = ("-credit_score__score", "-id") if worst_first else ("credit_score__score", "id")
    return qs.order_by(*order)


def color_on(subject_ids, when) -> dict[int, str | None]:
    """Each subject's colour at `when`, from its colour history: the colour the last change before
    then led to, else the colour the first change after then started from; None when its colour never
    changed (it has been what it is now)."""
    ids = list(subject_ids)
    before, after = {}, {}
    rows = (CreditHistory.objects.filter(subject_id__in=ids).order_by("changed_at", "id")
            .values_list("subject_id", "changed_at", "from_color", "to_color"))
    for sid, at, from_color, to_color in rows:
        if at <= when:
            before[sid] = to_color
        elif sid not in after:
            after[sid] = from_color
    return {i: before.get(i, after.get(i)) for i in ids}


def reason_lines(reasons: dict) -> list[str]:
    """A score's reasons in a line each ("投诉 2.7 (3)"), for pages: each factor's points and how many
    records, then the sensor rules that set the colour."""
    labels = dict(FactKind.choices)
    lines = [f"{labels.get(f['factor'], f['factor'])} {f['points']:g} ({f['count']})" for f in (reasons or {}).get("factors", [])]
    lines += [_("%(metric)s 连续超标 %(days)d 天 → %(color)s") % {
        "metric": r["metric"], "days": r["consecutive_days"], "color": Color(r["color"]).label}
        for r in (reasons or {}).get("sensor_rules", [])]
    return lines


def trend(now_color: str, then_color: str | None) -> str:
    if then_color is None or then_color == now_color:
        return Trend.SAME
    return Trend.BETTER if COLOR_RANK[now_color] < COLOR_RANK[then_color] else Trend.WORSE


def with_trends(subjects, days: int, *, now=None):
    """Attach `.then_color`, `.trend` (vs `days` ago) and `.reason_lines` to a page of subjects carrying
    credit_score, in one query."""
    subjects = list(subjects)
    when = (now or timezone.now()) - timedelta(days=days)
    then = color_on([s.pk for s in subjects], when)
    for s in subjects:
        s.then_color = then[s.pk]
        s.trend = trend(s.credit_score.color, then[s.pk])
        s.reason_lines = reason_lines(s.credit_score.reasons)
    return subjects


def streets_by_grid() -> dict[int, Area]:
    """grid id → its street (names for the public list, which shows the street, not the grid)."""
    streets = {a.pk: a for a in Area.objects.filter(kind=AreaKind.STREET).defer("boundary")}
    out = {}
    for grid_id, path in Area.objects.filter(kind=AreaKind.GRID).values_list("id", "path"):
        out[grid_id] = next((streets[int(p)] for p in path.strip("/").split("/") if p and int(p) in streets), None)
    return out


def public_rows(page, days: int, start_rank: int) -> list[dict]:
    """What the public sees of a page: rank, business name, category, street, colour, trend. No owner,
    phone, licence, address or score: only the published colour and where it stands."""
    page = list(page)
    streets = streets_by_grid()
    when = timezone.now() - timedelta(days=days)
    then = color_on([s.pk for s in page], when)
    rows = []
    for i, s in enumerate(page):
        street = streets.get(s.grid_id)
        rows.append({
            "rank": start_rank + i, "name": s.name, "category": s.category.name,
            "street": street.name if street else "", "color": s.credit_score.color,
            "trend": trend(s.credit_score.color, then[s.pk]),
        })
    return rows
