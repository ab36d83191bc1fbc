"""The big screen's figures (/command/screen/): today's events by source, severity and problem type, and
each SLA stage's on-time rate, taken from the same event_figures() that /reports/ and GET
/api/v1/stats/events/ answer with (the same figure is never computed twice, so the screen and the reports
cannot disagree). Live state (open and overdue events, officers on duty) stays with the command center."""
from dataclasses import replace

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.choices import GroupBy
from analytics.params import Period, make_period
from analytics.selectors.events import DEFINITIONS as EVENT_DEFINITIONS
from analytics.selectors.events import event_figures
from analytics.selectors.figures import rate
from command_center.choices import Severity, Source, Stage

TOP_PROBLEM_TYPES = 5
GROUPINGS = (None, GroupBy.SEVERITY, GroupBy.PROBLEM_TYPE)  # the event_figures() the screen reads

DEFINITIONS = {
    "received": EVENT_DEFINITIONS["received"],
    "by_source": EVENT_DEFINITIONS["by_source"],
    "by_severity": _("按等级的受理事件数。"),
    "top_problem_types": _("高发问题：区间内受理事件数最多的问题类型（前5）。"),
    "on_time": EVENT_DEFINITIONS["stages"],
    "on_time_rate": _("总按时率（%）：各环节已完成或已超时的时限合计中，按时完成的比例。"),
    "on_time_closure_rate": EVENT_DEFINITIONS["on_time_closure_rate"],
    "satisfaction_good_rate": EVENT_DEFINITIONS["satisfaction_good_rate"],
}


def on_time_of(row: dict) -> dict:
    """{rate (%), decided, on_time, stages: [{stage, label, decided, on_time, on_time_rate}]} of one
    event_figures() row: each SLA stage's on-time rate and the overall one over all decided deadlines."""
    stage_labels = dict(Stage.choices)
    stages = [{"stage": s, "label": str(stage_labels[s]), **row["stages"][s]} for s in Stage.values if s in row["stages"]]
    decided, on_time = sum(s["decided"] for s in stages), sum(s["on_time"] for s in stages)
    return {"rate": rate(on_time, decided), "decided": decided, "on_time": on_time, "stages": stages}


def today_on_time(user, now=None) -> dict:
    """Today's (local day's) on-time figures in all the user's areas: the desk header's on-time rate, the
    same definition as the screen, /reports/ and GET /api/v1/stats/events/."""
    day = timezone.localdate(now) if now else timezone.localdate()
    [total] = event_figures(user, make_period(None, day, day))
    return on_time_of(total)


def screen_figures(user, period: Period) -> dict:
    """{received, by_source, by_severity, top_problem_types, on_time: {rate, stages}, on_time_closure_rate,
    satisfaction_good_rate} for the period (the screen asks for today), in the user's areas."""
    [total], severities, types = (event_figures(user, replace(period, group_by=g)) for g in GROUPINGS)
    by_severity = {r["key"]: r["received"] for r in severities}
    types.sort(key=lambda r: (-r["received"], str(r["key"])))
    return {
        "received": total["received"],
        "by_source": [{"source": s, "label": str(label), "count": total["by_source"].get(s, 0)}
                      for s, label in Source.choices],
        "by_severity": [{"severity": s, "label": str(label), "count": by_severity.get(s, 0)}
                        for s, label in Severity.choices],
        "top_problem_types": [{"code": r["key"], "name": r["label"], "count": r["received"]}
                              for r in types[:TOP_PROBLEM_TYPES]],
        "on_time": on_time_of(total),
        "on_time_closure_rate": total["on_time_closure_rate"],
        "satisfaction_good_rate": total["satisfaction_good_rate"],
    }
