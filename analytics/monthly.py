"""A street's monthly report (镇街月报) as a printable PDF: the month's event, inspection and case figures
from the same selectors as /reports/ and the API, with their definitions. Chinese text in the embedded
TrueType CJK font of core.pdf_fonts, as cases.documents has."""
import calendar
import io
from datetime import date
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from analytics import params
from analytics.selectors import cases as case_figures
from analytics.selectors import events as event_figures
from analytics.selectors import inspections as inspection_figures
from core.exceptions import ValidationFailed
from core.pdf_fonts import cjk_font
from grids.choices import AreaKind


def parse_month(raw) -> date:
    """'YYYY-MM' → the first day of that month; anything else a 400 on `month`."""
    try:
        year, month = (int(x) for x in str(raw or "").split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"month": [_("月份格式应为 YYYY-MM。")]})


def _dash(value, unit=""):
    return "—" if value is None else f"{value}{unit}"


def _sections(user, period):
    [events] = event_figures.event_figures(user, period)
    [visits] = inspection_figures.inspection_figures(user, period)
    [cases] = case_figures.case_figures(user, period)
    e, v, c = event_figures.DEFINITIONS, inspection_figures.DEFINITIONS, case_figures.DEFINITIONS
    outcomes, grounds = cases["outcomes"], cases["lenient_grounds"]
    return [
        (_("事件效能"), [
            (_("受理事件"), events["received"], e["received"]), (_("已处置"), events["resolved"], e["resolved"]),
            (_("按期办结率"), _dash(events["on_time_closure_rate"], "%"), e["on_time_closure_rate"]),
            (_("满意度"), _dash(events["satisfaction_avg"]), e["satisfaction_avg"]),
            (_("一线解决率"), _dash(events["front_line_rate"], "%"), e["front_line_rate"]),
            (_("升级次数"), events["escalations"], e["escalations"]),
            (_("涉企投诉"), events["complaints"], e["complaints"]),
            (_("涉企投诉变化"), _dash(events["complaints_change_percent"], "%"), e["complaints_change_percent"]),
        ]),
        (_("综合查一次"), [
            (_("检查次数"), visits["visits"], v["visits"]), (_("综合检查次数"), visits["joint_visits"], v["joint_visits"]),
            (_("检查对象数"), visits["subjects_inspected"], v["subjects_inspected"]),
            (_("发现问题数"), visits["findings"], v["findings"]),
            (_("当场整改"), visits["rectified_on_the_spot"], v["rectified_on_the_spot"]),
            (_("按期整改"), visits["rectified_by_deadline"], v["rectified_by_deadline"]),
            (_("逾期整改"), visits["rectification_overdue"], v["rectification_overdue"]),
            (_("被替代的分散检查次数"), visits["separate_visits_replaced"], v["separate_visits_replaced"]),
            (_("检查减少比例%"), _dash(visits["reduction_percent"], "%"), v["reduction_percent"]),
        ]),
        (_("执法办案"), [
            (_("立案"), cases["filed"], c["filed"]), (_("结案"), cases["closed"], c["closed"]),
            (_("按期结案率%"), _dash(cases["on_time_rate"], "%"), c["on_time_rate"]),
            (_("处理结果"), _("处罚 %(p)s，公益减罚 %(r)s，不予处罚 %(n)s") % {
                "p": outcomes["penalty"], "r": outcomes["reduced"], "n": outcomes["no_penalty"]}, c["outcomes"]),
            (_("从轻情形"), _("轻微不罚 %(m)s，首违不罚 %(f)s，调解不罚 %(d)s") % {
                "m": grounds["minor"], "f": grounds["first"], "d": grounds["mediated"]}, c["lenient_grounds"]),
            (_("法制审核"), cases["legal_reviews"], c["legal_reviews"]),
            (_("复议/申诉"), cases["appeals"], c["appeals"]),
            (_("评查平均分"), _dash(cases["quality_score_avg"]), c["quality_score_avg"]),
        ]),
    ]


def monthly_report(user, *, area_code, month) -> tuple[bytes, str]:
    """(the PDF, its file name) of a street's month. The area must be a street the user covers (another
    area: NotFound; not a street, a bad month: ValidationFailed)."""
    first = parse_month(month)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    if not area_code:
        raise ValidationFailed(fields={"area": [_("请选择镇街。")]})
    period = params.parse(user, {"area": area_code, "from": first.isoformat(), "to": last.isoformat()})
    if period.area.kind != AreaKind.STREET:
        raise ValidationFailed(fields={"area": [_("月报按镇街出具，请选择镇街。")]})
    font = cjk_font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=4)
    sub = ParagraphStyle("sub", fontName=font, fontSize=10, leading=15, alignment=1, spaceAfter=8)
    head = ParagraphStyle("head", fontName=font, fontSize=13, leading=20, spaceBefore=8, spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=13, wordWrap="CJK")

    def p(text, style):
        return Paragraph(escape(str(text)), style)

    story = [p(_("%(street)s %(year)s年%(month)s月 综合行政执法月报") % {
                 "street": period.area.name, "year": first.year, "month": first.month}, title),
             p(_("统计区间：%(start)s 至 %(end)s（北京时间）　生成时间：%(now)s") % {
                 "start": first, "end": last, "now": timezone.localtime().strftime("%Y-%m-%d %H:%M")}, sub)]
    for heading, lines in _sections(user, period):
        rows = [[p(_("指标"), cell), p(_("数值"), cell), p(_("口径"), cell)]]
        rows += [[p(name, cell), p(value, cell), p(definition, cell)] for name, value, definition in lines]
        table = Table(rows, colWidths=[36 * mm, 44 * mm, 90 * mm], repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#333333"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("BACKGROUND", (0, 0), (-1, 0), "#e8e8e8")]))
        story += [p(heading, head), table, Spacer(1, 3 * mm)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=f"{period.area.name} {first:%Y-%m}", leftMargin=18 * mm,
                      rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm).build(story)
    return buf.getvalue(), f"monthly-{period.area.code}-{first:%Y-%m}.pdf"
