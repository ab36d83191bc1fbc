"""Event figures (事件效能): what the command center received and how fast it was handled, against the
SLA stages, per any grouping. Scoped by the asker's areas like every read; computed in the database."""
from datetime import timedelta

from django.db.models import Avg, Count, Exists, F, IntegerField, OuterRef, Q, Value
from django.utils.translation import gettext_lazy as _

from analytics.caching import cached
from analytics.choices import TIME_GROUPS
from analytics.params import Period, make_period
from analytics.selectors.figures import durations_percentiles, group_expression, key_text, rate
from command_center import selectors as event_selectors
from command_center.choices import Source, Status
from command_center.models import Deadline, Escalation
from grids import selectors as grid_selectors

# What each figure means: shown on hover on /reports/ and in the API schema (one text, two places).
DEFINITIONS = {
    "received": _("受理事件数：受理时间在统计区间内的事件（含不予受理、重复合并）。"),
    "by_source": _("按来源的受理事件数。"),
    "response_median_s": _("签收用时中位数（秒）：从受理到签收。"),
    "response_p90_s": _("签收用时90分位（秒）：九成事件在此时间内签收。"),
    "arrival_median_s": _("到场用时中位数（秒）：从受理到到场。"),
    "arrival_p90_s": _("到场用时90分位（秒）。"),
    "handling_median_s": _("处置用时中位数（秒）：从受理到处置完成。"),
    "handling_p90_s": _("处置用时90分位（秒）。"),
    "stages": _("各时限环节按时率：已完成或已超时的时限中，在时限内（含恰好到点）完成的比例。"),
    "resolved": _("已处置事件数：区间内受理且已处置或办结的事件。"),
    "on_time_closure_rate": _("按期办结率：已处置事件中，没有任何环节超时的比例。"),
    "escalations": _("升级次数：区间内受理的事件发生的升级总次数。"),
    "satisfaction_avg": _("满意度平均分（1–5分），只计已评价的事件。"),
    "satisfaction_good_rate": _("满意率：已评价事件中评4分或5分的比例。"),
    "front_line_rate": _("一线解决率：已处置事件中，未升级、未转办即解决的比例。"),
    "complaints": _("涉企投诉数：群众上报和12345热线受理的、指向某一管理对象的事件。"),
    "complaints_before": _("前期涉企投诉数：紧接统计区间之前、同样长度的区间内的涉企投诉数（按日/周/月分组时为空）。"),
    "complaints_change_percent": _("涉企投诉变化（%）：(本期 − 前期) ÷ 前期；负数为下降；前期为0或为空时为空。"),
}
# Complaints about subjects (涉企投诉): what the public reports about one business, by hotline or in person.
COMPLAINT_SOURCES = (Source.CITIZEN, Source.HOTLINE_12345)


def scoped_events(user, period: Period):
    qs = event_selectors.events_for(user).filter(created_at__gte=period.start, created_at__lt=period.end)
    if period.area is not None:
        qs = qs.filter(area__path__startswith=period.area.path)
    return qs


def _of_scoped_events(qs, user, period: Period):
    """Rows of the events scoped_events() gives (deadlines, escalations), filtered through one join on the
    event rather than `event IN (subquery)`: PostgreSQL then reads the period's events by their created_at
    index instead of scanning every event to find the group's street (bench/reports.py)."""
    qs = grid_selectors.scope(qs, user, "event__area__path").filter(event__created_at__gte=period.start,
                                                                     event__created_at__lt=period.end)
    if period.area is not None:
        qs = qs.filter(event__area__path__startswith=period.area.path)
    return qs


@cached("events")
def event_figures(user, period: Period) -> list[dict]:
    """One row per group (one row in all without `group_by`), each with every figure of DEFINITIONS.
    A group with no events is absent; without grouping, an empty period answers zeros and nulls."""
    events = scoped_events(user, period)
    group, label_field = group_expression(period.group_by)
    rows: dict = {}

    def row(key):
        return rows.setdefault(key, {"key": key, "label": None, "received": 0, "by_source": {}, "resolved": 0,
                                     "on_time_resolved": 0, "escalations": 0, "front_line": 0,
                                     "satisfaction_avg": None, "rated": 0, "rated_good": 0, "stages": {},
                                     "complaints": 0})

    # Without grouping, one constant key: Django leaves a constant out of GROUP BY, so one row over all.
    by = group if group is not None else Value(0, output_field=IntegerField())

    def grouped(qs, *fields):
        return qs.annotate(_g=by).values("_g", *fields).order_by()  # no ORDER BY outside the GROUP BY (PostgreSQL)

    def key_of(r):
        return key_text(r["_g"]) if group is not None else None

    # Received, by source (one query)
    for r in grouped(events, "source").annotate(n=Count("pk")):
        row_ = row(key_of(r))
        row_["received"] += r["n"]
        row_["by_source"][r["source"]] = r["n"]
    if label_field:
        for r in grouped(events, label_field).annotate(n=Count("pk")):
            row(key_of(r))["label"] = r[label_field]
    # Resolved, on time, front line, satisfaction (one query)
    breached = Deadline.objects.filter(event=OuterRef("pk"), breached_at__isnull=False)
    resolved = events.filter(resolved_at__isnull=False).annotate(_late=Exists(breached))
    for r in grouped(resolved).annotate(
        n=Count("pk"),
        on_time=Count("pk", filter=Q(_late=False)),
        front=Count("pk", filter=Q(escalation_level=0) & ~Q(status=Status.TRANSFERRED)),
        avg=Avg("satisfaction"),
        rated=Count("satisfaction"),
        good=Count("pk", filter=Q(satisfaction__gte=4)),
    ):
        row_ = row(key_of(r))
        row_.update(resolved=r["n"], on_time_resolved=r["on_time"], front_line=r["front"],
                    satisfaction_avg=None if r["avg"] is None else round(r["avg"], 2), rated=r["rated"],
                    rated_good=r["good"])
    # Escalations of these events, and their SLA stages: decided deadlines (met or breached), on time when
    # met at or before the due time (one query each)
    related_by, _label = group_expression(period.group_by, prefix="event__")
    related_by = related_by if related_by is not None else by
    for r in _of_scoped_events(Escalation.objects.all(), user, period).annotate(_g=related_by).values("_g").order_by().annotate(
            n=Count("pk")):
        row(key_of(r))["escalations"] += r["n"]
    # due_at ≥ the period's start holds for every deadline of its events (due after intake): said outright, it
    # lets PostgreSQL read just the period's deadlines by their due_at index instead of all of them.
    decided = _of_scoped_events(Deadline.objects.filter(cancelled_at__isnull=True, due_at__gte=period.start),
                                user, period).filter(
        Q(met_at__isnull=False) | Q(breached_at__isnull=False))
    for r in decided.annotate(_g=related_by).values("_g", "stage").order_by().annotate(
            n=Count("pk"), on_time=Count("pk", filter=Q(met_at__lte=F("due_at")))):
        row(key_of(r))["stages"][r["stage"]] = {"decided": r["n"], "on_time": r["on_time"],
                                                "on_time_rate": rate(r["on_time"], r["n"])}
    # Complaints about subjects, now and in the period of the same length just before (one query each)
    complaint = Q(subject__isnull=False, source__in=COMPLAINT_SOURCES)
    for r in grouped(events.filter(complaint)).annotate(n=Count("pk")):
        row(key_of(r))["complaints"] = r["n"]
    before = None
    if period.group_by not in TIME_GROUPS:
        days = period.date_to - period.date_from
        earlier = make_period(period.area, period.date_from - days - timedelta(days=1),
                              period.date_from - timedelta(days=1), period.group_by)
        before = {key_of(r): r["n"] for r in grouped(scoped_events(user, earlier).filter(complaint)).annotate(
            n=Count("pk"))}
    # Durations from intake: signed for, on site, handled (median and p90, in the database where it can)
    durations = durations_percentiles(events, {"response": "accepted_at", "arrival": "arrived_at",
                                               "handling": "resolved_at"}, "created_at", group)
    if group is None and not rows:
        row(None)
    out = []
    for key, r in rows.items():
        figures = {
            "key": key, "label": r["label"] if r["label"] is not None else key,
            "received": r["received"], "by_source": r["by_source"], "resolved": r["resolved"],
            "on_time_closure_rate": rate(r["on_time_resolved"], r["resolved"]),
            "escalations": r["escalations"],
            "satisfaction_avg": r["satisfaction_avg"], "satisfaction_good_rate": rate(r["rated_good"], r["rated"]),
            "front_line_rate": rate(r["front_line"], r["resolved"]),
            "stages": r["stages"],
            "complaints": r["complaints"],
            "complaints_before": None if before is None else before.get(key, 0),
        }
        figures["complaints_change_percent"] = _change(figures["complaints"], figures["complaints_before"])
        for name, by_key in durations.items():
            median, p90, _n = by_key.get(key, (None, None, 0))
            figures[f"{name}_median_s"] = None if median is None else round(median, 1)
            figures[f"{name}_p90_s"] = None if p90 is None else round(p90, 1)
        out.append(figures)
    out.sort(key=lambda f: (f["key"] is None, str(f["key"])))
    return out


def _change(now: int, before: int | None) -> float | None:
    """(now − before) ÷ before in percent, one decimal; None without a base to compare with."""
    return None if not before else round(100.0 * (now - before) / before, 1)
