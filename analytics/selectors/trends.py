"""High-frequency problem trends (高发易发问题趋势图): counts by problem type per day, week or month, the
same period a year before, and a trailing moving average."""
from datetime import date, timedelta

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from analytics.caching import cached
from analytics.choices import GroupBy
from analytics.params import Period, make_period
from analytics.selectors.events import scoped_events
from analytics.selectors.figures import TRUNC, key_text

INTERVALS = (GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH)
MOVING_WINDOW = {GroupBy.DAY: 7, GroupBy.WEEK: 4, GroupBy.MONTH: 3}
TOP_TYPES = 10

DEFINITIONS = {
    "count": _("该问题类型在该时段受理的事件数。"),
    "moving_average": _("移动平均：含本时段在内最近N个时段的平均数（日7、周4、月3）。"),
    "year_before": _("上年同期：向前推一年的同一时段的事件数。"),
}


def _buckets(start: date, end: date, interval: str) -> list[date]:
    """Every bucket's first day from start to end (inclusive), so empty buckets show as zero."""
    if interval == GroupBy.DAY:
        first, step = start, lambda d: d + timedelta(days=1)
    elif interval == GroupBy.WEEK:
        first, step = start - timedelta(days=start.weekday()), lambda d: d + timedelta(days=7)
    else:
        first = start.replace(day=1)
        step = lambda d: (d.replace(day=28) + timedelta(days=4)).replace(day=1)  # noqa: E731
    out, d = [], first
    while d <= end:
        out.append(d)
        d = step(d)
    return out


def year_before(period: Period, interval: str) -> Period:
    """The same period a year earlier: by calendar date for days and months (29 February becomes the
    28th), 52 weeks earlier for weeks (so a week still starts on a Monday)."""
    if interval == GroupBy.WEEK:
        return make_period(period.area, period.date_from - timedelta(weeks=52), period.date_to - timedelta(weeks=52),
                           period.group_by)

    def shift(d: date) -> date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:
            return d.replace(year=d.year - 1, day=28)

    return make_period(period.area, shift(period.date_from), shift(period.date_to), period.group_by)


def _counts(events, interval):
    rows = (events.annotate(_b=TRUNC[interval]("created_at")).values("_b", "problem_type_code")
            .annotate(n=Count("pk")))
    return {(key_text(r["_b"]), r["problem_type_code"]): r["n"] for r in rows}


@cached("trends")
def trends(user, period: Period, *, interval: str) -> dict:
    """{"interval", "buckets": [iso days], "series": [{problem_type, name, counts, moving_average,
    year_before}]}: the TOP_TYPES problem types of the period, most frequent first."""
    year_before_period = year_before(period, interval)
    events = scoped_events(user, period)
    buckets = [d.isoformat() for d in _buckets(period.date_from, period.date_to, interval)]
    counts = _counts(events, interval)
    before = _counts(scoped_events(user, year_before_period), interval)
    totals: dict[str, int] = {}
    for (_b, code), n in counts.items():
        totals[code] = totals.get(code, 0) + n
    names = dict(events.filter(problem_type_code__in=list(totals)).values_list("problem_type_code", "problem_type_name")
                 .order_by().distinct())  # no model ordering: DISTINCT over it sorted every event of the period
    window = MOVING_WINDOW[interval]
    # The year before, bucket by bucket (the same position in the period a year earlier).
    before_buckets = [d.isoformat() for d in _buckets(year_before_period.date_from, year_before_period.date_to,
                                                       interval)][:len(buckets)]
    before_buckets += [""] * (len(buckets) - len(before_buckets))
    series = []
    for code in sorted(totals, key=lambda c: (-totals[c], c))[:TOP_TYPES]:
        values = [counts.get((b, code), 0) for b in buckets]
        moving = [round(sum(values[max(0, i - window + 1):i + 1]) / len(values[max(0, i - window + 1):i + 1]), 2)
                  for i in range(len(values))]
        earlier = [before.get((b, code), 0) for b in before_buckets]
        series.append({"problem_type": code, "name": names.get(code) or code, "total": totals[code],
                       "counts": values, "moving_average": moving, "year_before": earlier})
    return {"interval": interval, "buckets": buckets, "series": series}
