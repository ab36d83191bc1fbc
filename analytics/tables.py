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
               _("一线解决率%")]
    out = []
    for r in rows:
        out.append([r["label"] if r["label"] is not None else _("全部"), r["received"], r["resolved"],
                    r["on_time_closure_rate"], _seconds(r["response_median_s"]), _seconds(r["response_p90_s"]),
                    _seconds(r["arrival_median_s"]), _seconds(r["handling_median_s"]), _seconds(r["handling_p90_s"]),
                    r["escalations"], r["satisfaction_avg"], r["satisfaction_good_rate"], r["front_line_rate"]])
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
