"""Credit figures (信用分布): how the subjects of an area are coloured now, by area and category, and the
colour changes of a period (who turned red, who recovered), over time. From credit's own records (the
current score and the history of changes); a subject never scored counts as green, as everywhere else."""
from collections import defaultdict

from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from analytics.caching import cached
from analytics.choices import TIME_GROUPS, GroupBy
from analytics.params import Period
from analytics.selectors.figures import TRUNC, key_text
from credit.choices import Color
from credit.models import CreditHistory
from grids import selectors as grid_selectors
from grids.models import Area

GROUPS = (GroupBy.STREET, GroupBy.GRID, *TIME_GROUPS)
COLORS = tuple(Color.values)  # green, yellow, red

DEFINITIONS = {
    "colors": _("当前颜色分布：区域内在册对象按当前信用颜色计数（未评分的计为绿色）。"),
    "by_category": _("按对象大类的当前颜色分布。"),
    "changes": _("区间内的颜色变化次数，按变化后的颜色计（如 to_red：变为红色的次数）。"),
    "subjects_changed": _("区间内颜色发生过变化的对象数。"),
}


def _subjects(user, period: Period):
    qs = grid_selectors.subjects_for(user).filter(status="active")
    if period.area is not None:
        qs = qs.filter(grid__path__startswith=period.area.path)
    return qs


def _street_of_grid(grid_ids) -> dict[int, Area | None]:
    grids = Area.objects.filter(pk__in=grid_ids).only("pk", "path")
    return {gid: street for gid, (street, _community) in grid_selectors.street_and_community_of(grids).items()}


@cached("credit")
def credit_figures(user, period: Period) -> list[dict]:
    """Rows per street or grid (or one row): colours now, by major category, and the changes of the period.
    With day/week/month, one row per interval of the period's changes (and the colours now in none)."""
    subjects = _subjects(user, period)
    group_by = period.group_by
    rows: dict = {}

    def row(key, label=None):
        r = rows.setdefault(key, {"key": key, "label": label, "colors": {c: 0 for c in COLORS}, "by_category": {},
                                  "changes": {f"to_{c}": 0 for c in COLORS}, "subjects_changed": 0})
        if label is not None:
            r["label"] = label
        return r

    if group_by not in TIME_GROUPS:
        colored = (subjects.annotate(_color=Coalesce(F("credit_score__color"), Value(Color.GREEN.value)),
                                     _major=Coalesce(F("category__parent__name"), F("category__name")))
                   .values("grid_id", "_color", "_major").annotate(n=Count("pk")))
        counts = list(colored)
        streets = _street_of_grid({c["grid_id"] for c in counts}) if group_by == GroupBy.STREET else {}
        grid_names = dict(Area.objects.filter(pk__in={c["grid_id"] for c in counts}).values_list("pk", "name")) \
            if group_by == GroupBy.GRID else {}
        for c in counts:
            if group_by == GroupBy.STREET:
                street = streets.get(c["grid_id"])
                r = row(str(street.pk) if street else None, street.name if street else None)
            elif group_by == GroupBy.GRID:
                r = row(str(c["grid_id"]), grid_names.get(c["grid_id"]))
            else:
                r = row(None)
            r["colors"][c["_color"]] += c["n"]
            cat = r["by_category"].setdefault(c["_major"], {k: 0 for k in COLORS})
            cat[c["_color"]] += c["n"]
    changes = CreditHistory.objects.filter(subject__in=subjects.values("pk"), changed_at__gte=period.start,
                                           changed_at__lt=period.end)
    if group_by in TIME_GROUPS:
        by = TRUNC[group_by]("changed_at")
        for c in changes.annotate(_b=by).values("_b", "to_color").annotate(n=Count("pk")):
            row(key_text(c["_b"]))["changes"][f"to_{c['to_color']}"] += c["n"]
        for c in changes.annotate(_b=by).values("_b").annotate(n=Count("subject_id", distinct=True)):
            row(key_text(c["_b"]))["subjects_changed"] = c["n"]
    else:
        per_grid = changes.values("subject__grid_id", "to_color").annotate(n=Count("pk"), s=Count("subject_id", distinct=True))
        streets = _street_of_grid({c["subject__grid_id"] for c in per_grid}) if group_by == GroupBy.STREET else {}
        changed_subjects = defaultdict(set)
        for c in changes.values_list("subject__grid_id", "subject_id").distinct():
            changed_subjects[c[0]].add(c[1])
        for c in per_grid:
            key = _key_for(group_by, c["subject__grid_id"], streets)
            row(key)["changes"][f"to_{c['to_color']}"] += c["n"]
        for grid_id, ids in changed_subjects.items():
            row(_key_for(group_by, grid_id, streets))["subjects_changed"] += len(ids)
    if group_by is None and not rows:
        row(None)
    out = list(rows.values())
    for r in out:
        r["total"] = sum(r["colors"].values())
        if r["label"] is None and r["key"] is not None:
            r["label"] = r["key"]
    out.sort(key=lambda r: (r["key"] is None, str(r["key"])))
    return out


def _key_for(group_by, grid_id, streets):
    if group_by == GroupBy.STREET:
        street = streets.get(grid_id)
        return str(street.pk) if street else None
    if group_by == GroupBy.GRID:
        return str(grid_id)
    return None
