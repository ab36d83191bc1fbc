"""The monthly assessment (智慧化考核): a score per street team or officer from the event figures, with the
weights bureau staff set, ranked best first. An indicator a team has no data for (no event rated, say) is
left out and the other weights count in full, so a quiet team is neither rewarded nor punished for it."""
from calendar import monthrange
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics import params
from analytics.choices import GroupBy
from analytics.models import AssessmentWeight
from analytics.selectors.events import event_figures
from core.exceptions import ValidationFailed

INDICATORS = {
    "on_time_closure": gettext_lazy("按期办结率"),
    "stage_on_time": gettext_lazy("各环节按时率"),
    "satisfaction": gettext_lazy("满意率"),
    "front_line": gettext_lazy("一线解决率"),
}
DEFAULT_WEIGHTS = {"on_time_closure": 40.0, "stage_on_time": 20.0, "satisfaction": 20.0, "front_line": 20.0}
LEVELS = (GroupBy.TEAM, GroupBy.OFFICER)


def weights() -> dict[str, float]:
    stored = dict(AssessmentWeight.objects.values_list("indicator", "weight"))
    return {k: stored.get(k, DEFAULT_WEIGHTS[k]) for k in INDICATORS}


def parse_month(raw) -> tuple[date, date]:
    try:
        year, month = (int(x) for x in str(raw).split("-"))
        first = date(year, month, 1)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"month": [_("月份格式应为 YYYY-MM。")]})
    return first, first.replace(day=monthrange(year, month)[1])


def _indicators(row) -> dict[str, float | None]:
    decided = sum(s["decided"] for s in row["stages"].values())
    on_time = sum(s["on_time"] for s in row["stages"].values())
    return {"on_time_closure": row["on_time_closure_rate"],
            "stage_on_time": round(100.0 * on_time / decided, 1) if decided else None,
            "satisfaction": row["satisfaction_good_rate"], "front_line": row["front_line_rate"]}


def scorecard(user, *, month, level: str, area=None) -> dict:
    """{"month", "level", "weights", "rows": [{rank, key, label, score, indicators, received}]} best first."""
    if level not in LEVELS:
        raise ValidationFailed(fields={"level": [_("可选值：%(values)s。") % {"values": ", ".join(LEVELS)}]})
    first, last = parse_month(month)
    period = params.make_period(area, first, last, level)
    w = weights()
    rows = []
    for r in event_figures(user, period):
        if r["key"] is None:
            continue  # events nobody was assigned to (no team or officer): not anyone's score
        values = _indicators(r)
        counted = {k: v for k, v in values.items() if v is not None and w[k] > 0}
        total_weight = sum(w[k] for k in counted)
        score = round(sum(w[k] * v for k, v in counted.items()) / total_weight, 1) if total_weight else None
        rows.append({"key": r["key"], "label": r["label"], "score": score, "indicators": values,
                     "received": r["received"]})
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), str(r["label"])))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i if r["score"] is not None else None
    return {"month": first.strftime("%Y-%m"), "level": level, "weights": w, "rows": rows}
