"""The figures as tables: the same rows on the page (under each chart), in CSV and in XLSX."""
from django.utils.translation import gettext as _

from command_center.choices import Source

def _stage_label(code) -> str:
    from command_center.choices import Stage

    return str(dict(Stage.choices).get(code, code))  # the label is lazy: a spreadsheet cell needs text


def _seconds(value):
    return "" if value is None else round(value)


def event_table(rows) -> tuple[list[str], list[list]]:
    headers = [_("分组"), _("受理"), _("已处置"), _("按期办结率%"), _("签收中位数(秒)"), _("签收90分位(秒)"),
               _("到场中位数(秒)"), _("处置中位数(秒)"), _("处置90分位(秒)"), _("升级次数"), _("满意度"), _("满意率%"),
               _("一线解决率%"), _("涉企投诉"), _("前期涉企投诉"), _("涉企投诉变化%")]
    out = []
    for r in rows:
        out.append([r["label"] if r["label"] is not None else _("全部"), r["received"], r["resolved"],
                    r["on_time_closure_rate"], _seconds(r["response_median_s"]), _seconds(r["response_p90_s"]),
                    _seconds(r["arrival_median_s"]), _seconds(r["handling_median_s"]), _seconds(r["handling_p90_s"]),
                    r["escalations"], r["satisfaction_avg"], r["satisfaction_good_rate"], r["front_line_rate"],
                    r["complaints"], r["complaints_before"], r["complaints_change_percent"]])
    return headers, out


def stage_table(rows) -> tuple[list[str], list[list]]:
    headers = [_("分组"), _("时限环节"), _("已完成或超时"), _("按时"), _("按时率%")]
    out = []
    for r in rows:
        for stage, s in sorted(r["stages"].items()):
            out.append([r["label"] if r["label"] is not None else _("全部"), _stage_label(stage), s["decided"],
                        s["on_time"], s["on_time_rate"]])
    return headers, out


def source_table(rows) -> tuple[list[str], list[list]]:
    labels = dict(Source.choices)
    totals: dict[str, int] = {}
    for r in rows:
        for source, n in r["by_source"].items():
            totals[source] = totals.get(source, 0) + n
    return [_("来源"), _("受理")], [[str(labels.get(s, s)), n] for s, n in sorted(totals.items(), key=lambda x: -x[1])]


def trend_table(trend) -> tuple[list[str], list[list]]:
    headers = [_("问题类型"), *trend["buckets"], _("合计")]
    return headers, [[s["name"], *s["counts"], s["total"]] for s in trend["series"]]


TABLES = {"events": event_table, "stages": stage_table, "sources": source_table}


def _group(r):
    return r["label"] if r["label"] is not None else _("全部")


def inspection_table(rows) -> tuple[list[str], list[list]]:
    headers = [_("分组"), _("检查次数"), _("综合检查次数"), _("检查对象数"), _("发现问题数"), _("当场整改"), _("按期整改"),
               _("逾期整改"), _("整改中"), _("被替代的分散检查次数"), _("检查减少比例%"), _("上月减少比例%"), _("上年同月减少比例%")]
    return headers, [[_group(r), r["visits"], r["joint_visits"], r["subjects_inspected"], r["findings"],
                      r["rectified_on_the_spot"], r["rectified_by_deadline"], r["rectification_overdue"],
                      r["rectification_open"], r["separate_visits_replaced"], r["reduction_percent"],
                      r["reduction_percent_previous_month"], r["reduction_percent_year_before"]] for r in rows]


def case_table(rows) -> tuple[list[str], list[list]]:
    from cases.choices import AppealResult, LenientGround, Outcome

    outcomes, grounds = dict(Outcome.choices), dict(LenientGround.choices)
    results = {"upheld": AppealResult.UPHELD.label, "revoked": AppealResult.REVOKED.label,
               "changed": AppealResult.CHANGED.label, "pending": AppealResult.PENDING.label}
    headers = [_("分组"), _("立案"), _("结案"), _("按期结案"), _("按期结案率%"),
               *[str(outcomes[o]) for o in ("penalty", "reduced", "no_penalty")],
               *[str(grounds[g]) for g in ("minor", "first", "mediated")],
               _("法制审核"), _("法制审核退回"), _("复议/申诉"),
               *[_("复议/申诉%(result)s") % {"result": results[k]} for k in results],
               _("案卷评查数"), _("评查平均分")]
    out = []
    for r in rows:
        out.append([_group(r), r["filed"], r["closed"], r["closed_on_time"], r["on_time_rate"],
                    *[r["outcomes"][o] for o in ("penalty", "reduced", "no_penalty")],
                    *[r["lenient_grounds"][g] for g in ("minor", "first", "mediated")],
                    r["legal_reviews"], r["legal_reviews_returned"], r["appeals"],
                    *[r["appeal_results"][k] for k in results], r["quality_reviews"], r["quality_score_avg"]])
    return headers, out


# Which figure each column shows (its definition is the column heading's hover text), table by table.
_CASE_HINTS = [None, "filed", "closed", "closed_on_time", "on_time_rate", *["outcomes"] * 3, *["lenient_grounds"] * 3,
               "legal_reviews", "legal_reviews_returned", "appeals", *["appeal_results"] * 4, "quality_reviews",
               "quality_score_avg"]
HINTS = {
    "events": [None, "received", "resolved", "on_time_closure_rate", "response_median_s", "response_p90_s",
               "arrival_median_s", "handling_median_s", "handling_p90_s", "escalations", "satisfaction_avg",
               "satisfaction_good_rate", "front_line_rate", "complaints", "complaints_before", "complaints_change_percent"],
    "stages": [None, None, "stages", "stages", "stages"],
    "sources": [None, "by_source"],
    "inspections": [None, "visits", "joint_visits", "subjects_inspected", "findings", "rectified_on_the_spot",
                    "rectified_by_deadline", "rectification_overdue", "rectification_open", "separate_visits_replaced",
                    "reduction_percent", "reduction_percent_previous_month", "reduction_percent_year_before"],
    "cases": _CASE_HINTS,
}


def columns(key: str, headers: list) -> list[tuple[str, str]]:
    """[(heading, its figure's definition or "")] for a table of /reports/ (the hover text of each heading)."""
    from analytics.selectors import cases, events, inspections, trends

    definitions = {"events": events.DEFINITIONS, "stages": events.DEFINITIONS, "sources": events.DEFINITIONS,
                   "inspections": inspections.DEFINITIONS, "cases": cases.DEFINITIONS}.get(key, {})
    if key == "trends":
        hints = [None] + ["count"] * (len(headers) - 1)
        definitions = trends.DEFINITIONS
    else:
        hints = HINTS.get(key, [])
    hints = list(hints) + [None] * (len(headers) - len(hints))
    return [(h, str(definitions[k]) if k else "") for h, k in zip(headers, hints)]
