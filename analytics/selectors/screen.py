"""The big screen's figures (/command/screen/): today's events by source, severity and problem type, and
each SLA stage's on-time rate, taken from the same event_figures() that /reports/ and GET
/api/v1/stats/events/ answer with (the same figure is never computed twice, so the screen and the reports
cannot disagree). Live state (open and overdue events, officers on duty) stays with the command center."""
from dataclasses import replace

from django.utils.translation import gettext_lazy as _

from analytics.choices import GroupBy
from analytics.params import Period
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


def screen_figures(user, period: Period) -> dict:
    """{received, by_source, by_severity, top_problem_types, on_time: {rate, stages}, on_time_closure_rate,
    satisfaction_good_rate} for the period (the screen asks for today), in the user's areas."""
    [total], severities, types = (event_figures(user, replace(period, group_by=g)) for g in GROUPINGS)
    by_severity = {r["key"]: r["received"] for r in severities}
    types.sort(key=lambda r: (-r["received"], str(r["key"])))
    stage_labels = dict(Stage.choices)
    stages = [{"stage": s, "label": str(stage_labels[s]), **total["stages"][s]}
              for s in Stage.values if s in total["stages"]]
    return {
        "received": total["received"],
        "by_source": [{"source": s, "label": str(label), "count": total["by_source"].get(s, 0)}
                      for s, label in Source.choices],
        "by_severity": [{"severity": s, "label": str(label), "count": by_severity.get(s, 0)}
                        for s, label in Severity.choices],
        "top_problem_types": [{"code": r["key"], "name": r["label"], "count": r["received"]}
                              for r in types[:TOP_PROBLEM_TYPES]],
        "on_time": {"rate": rate(sum(s["on_time"] for s in stages), sum(s["decided"] for s in stages)),
                    "stages": stages},
        "on_time_closure_rate": total["on_time_closure_rate"],
        "satisfaction_good_rate": total["satisfaction_good_rate"],
    }
