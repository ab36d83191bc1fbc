"""Inspection figures (综合查一次效能): visits made, subjects inspected, problems found and how they were
rectified, and the separate visits the joint ones replaced, per street, team or officer (a visit counts for
each of its inspectors and each of their teams), grid or local day / week / month of the visit. From inspections' own records, scoped by the asker's areas; computed in the database."""
from datetime import date

from django.db.models import CharField, Count, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext_lazy as _

from analytics.caching import cached
from analytics.choices import TIME_GROUPS, GroupBy
from analytics.params import Period, make_period
from analytics.selectors.figures import grouped_counts, street_or_time
from grids import selectors as grid_selectors
from inspections.choices import RectificationKind, RectificationStatus, Result, VisitKind, VisitStatus
from inspections.models import Finding, Visit

GROUPS = (GroupBy.STREET, GroupBy.TEAM, GroupBy.OFFICER, GroupBy.GRID, *TIME_GROUPS)

DEFINITIONS = {
    "visits": _("检查次数：检查日期在区间内、已完成的检查（集中检查与专项检查）。"),
    "joint_visits": _("综合检查次数：其中的集中检查（综合查一次，一次上门查各部门事项）。"),
    "subjects_inspected": _("检查对象数：区间内被检查过的不同对象，同一对象多次检查计一次。"),
    "findings": _("发现问题数：这些检查中结果为不合格的检查条目（被更正的以更正后的记录为准）。"),
    "rectified_on_the_spot": _("当场整改数：发现的问题中当场整改的。"),
    "rectified_by_deadline": _("按期整改数：限期整改、已整改且从未逾期的。"),
    "rectification_overdue": _("逾期整改数：限期整改、超过期限仍未整改的（含逾期后才整改的）。"),
    "rectification_open": _("整改中：限期整改、尚未整改且未到期的。"),
    "separate_visits_replaced": _("被替代的分散检查次数：这些集中检查若由各部门分别上门，应有的次数（每个涉及部门一次；不涉及部门的计一次）。"),
    "reduction_percent": _("检查减少比例（%）：(分散检查次数 − 集中检查次数) ÷ 分散检查次数；没有集中检查时为空。"),
    "reduction_percent_previous_month": _("上月检查减少比例（%）：按月分组时，上一个月的检查减少比例（环比）；无数据或不按月分组时为空。"),
    "reduction_percent_year_before": _("上年同月检查减少比例（%）：按月分组时，上一年同月的检查减少比例（同比）；无数据或不按月分组时为空。"),
}

FIGURES = ("visits", "joint_visits", "subjects_inspected", "findings", "rectified_on_the_spot", "rectified_by_deadline",
           "rectification_overdue", "rectification_open", "separate_visits_replaced")


def scoped_visits(user, period: Period):
    """Completed visits of the period in the user's areas (and the chosen area: its streets' visits, or, for
    a community or grid, the visits of its subjects)."""
    qs = grid_selectors.scope(Visit.objects.all(), user, "street__path").filter(
        status=VisitStatus.COMPLETED, date__gte=period.date_from, date__lte=period.date_to)
    if period.area is not None:
        qs = qs.filter(Q(street__path__startswith=period.area.path) | Q(subject__grid__path__startswith=period.area.path))
    return qs


def _reduction(joint: int, separate: int) -> float | None:
    return round(100.0 * (separate - joint) / separate, 1) if separate else None


JOINT = Q(kind=VisitKind.CONCENTRATED)
# Joint visits, and the separate visits they replaced: a row per department of each, or one without any.
# Distinct (visit, department) pairs: grouped by team, a visit of two inspectors of one team joins twice.
JOINT_AGGREGATES = {"joint_visits": Count("pk", filter=JOINT, distinct=True),
                    "department_visits": Count(Concat(Cast("pk", CharField()), Value(":"), Cast("departments", CharField())),
                                               filter=JOINT & Q(departments__isnull=False), distinct=True),
                    "no_department": Count("pk", filter=JOINT & Q(departments__isnull=True), distinct=True)}


def _monthly_reductions(user, period: Period) -> dict[str, float | None]:
    """{first day of a month (ISO): its reduction} from a year before the period's first month to its end."""
    first = period.date_from.replace(day=1)
    wider = make_period(period.area, first.replace(year=first.year - 1), period.date_to)
    group, label = street_or_time(GroupBy.MONTH, when="date")
    return {key: _reduction(m["joint_visits"], m["department_visits"] + m["no_department"])
            for key, m in grouped_counts(scoped_visits(user, wider), group, label, **JOINT_AGGREGATES).items()}


def _month_before(key: str, *, months: int) -> str:
    day = date.fromisoformat(key)
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1).isoformat()


@cached("inspections")
def inspection_figures(user, period: Period) -> list[dict]:
    """One row per street, team, officer, grid or time bucket (one row in all without `group_by`; zeros for an empty period)."""
    visits = scoped_visits(user, period)
    group, label = street_or_time(period.group_by, when="date", people="officers")
    made = grouped_counts(visits, group, label, visits=Count("pk", distinct=True),
                          subjects_inspected=Count("subject", distinct=True), **JOINT_AGGREGATES)
    fgroup, flabel = street_or_time(period.group_by, when="visit__date", street="visit__street", people="officers")
    deadline = Q(rectification=RectificationKind.DEADLINE)
    found = grouped_counts(
        Finding.objects.filter(visit__in=visits.values("pk"), result=Result.FAIL, corrected_by__isnull=True),
        fgroup, flabel, findings=Count("pk", distinct=True),
        rectified_on_the_spot=Count("pk", filter=Q(rectification=RectificationKind.ON_THE_SPOT), distinct=True),
        rectified_by_deadline=Count("pk", filter=deadline & Q(rectification_status=RectificationStatus.DONE,
                                                              overdue_raised_at__isnull=True), distinct=True),
        rectification_overdue=Count("pk", filter=deadline & (Q(overdue_raised_at__isnull=False)
                                                             | Q(rectification_status=RectificationStatus.OVERDUE)), distinct=True),
        rectification_open=Count("pk", filter=deadline & Q(rectification_status=RectificationStatus.OPEN,
                                                           overdue_raised_at__isnull=True), distinct=True))
    keys = set(made) | set(found) | ({None} if group is None else set())
    out, reductions = [], None
    for key in keys:
        m, f = made.get(key, {}), found.get(key, {})
        row = {"key": key, "label": m.get("label") or f.get("label") or key}
        for name in FIGURES[:3]:
            row[name] = m.get(name, 0)
        for name in FIGURES[3:8]:
            row[name] = f.get(name, 0)
        separate = m.get("department_visits", 0) + m.get("no_department", 0)
        row["separate_visits_replaced"] = separate
        row["reduction_percent"] = _reduction(row["joint_visits"], separate)
        row["reduction_percent_previous_month"] = row["reduction_percent_year_before"] = None
        if period.group_by == GroupBy.MONTH:
            reductions = reductions if reductions is not None else _monthly_reductions(user, period)
            row["reduction_percent_previous_month"] = reductions.get(_month_before(key, months=1))
            row["reduction_percent_year_before"] = reductions.get(_month_before(key, months=12))
        out.append(row)
    out.sort(key=lambda r: (r["key"] is None, str(r["key"])))
    return out
