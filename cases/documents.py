"""The case's documents as PDF: the notice (行政处罚事先告知书), the decision (行政处罚决定书) and the case
file (案卷: the whole record). Chinese text in the embedded TrueType CJK font of core.pdf_fonts."""
import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cases import selectors
from cases.choices import PartyKind
from core.pdf_fonts import cjk_font

KINDS = ("notice", "decision", "file")


def _styles():
    font = cjk_font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=6),
        "sub": ParagraphStyle("sub", fontName=font, fontSize=11, leading=16, alignment=1, spaceAfter=10),
        "body": ParagraphStyle("body", fontName=font, fontSize=11, leading=18, wordWrap="CJK"),
        "head": ParagraphStyle("head", fontName=font, fontSize=12, leading=20, spaceBefore=8),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=9, leading=13, wordWrap="CJK"),
    }


def _p(text, style):
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _when(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def _party(case, full: bool) -> str:
    if case.party_kind == PartyKind.BUSINESS:
        return case.subject.name
    return selectors.party_label(case, full=full)


def _matters_table(case, st):
    rows = [[_p(h, st["cell"]) for h in (_("事项"), _("法律依据"), _("职权部门"), _("处理结果"), _("罚款(元)"), _("其他措施"))]]
    for m in case.matters.all():
        result = m.get_outcome_display() if m.outcome else _("待定")
        if m.lenient_ground:
            result += f"（{m.get_lenient_ground_display()}）"
        rows.append([_p(x, st["cell"]) for x in (f"{m.matter.code} {m.matter.name}", m.matter.legal_basis,
                                                    m.department.name, result, m.fine, m.measures)])
    table = Table(rows, colWidths=[38 * mm, 38 * mm, 28 * mm, 26 * mm, 20 * mm, 26 * mm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#333333"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _header(case, title, st, full):
    return [_p(title, st["title"]), _p(_("案号：%(n)s") % {"n": case.number}, st["sub"]),
            _p(_("当事人：%(p)s") % {"p": _party(case, full)}, st["body"]),
            _p(_("镇街：%(s)s") % {"s": case.street.name}, st["body"]), Spacer(1, 4 * mm)]


def _notice(case, st, full):
    story = _header(case, _("行政处罚事先告知书"), st, full)
    story += [_p(_("经查，你（单位）存在以下违法事实："), st["body"]), _p(case.facts, st["body"]), Spacer(1, 3 * mm),
              _p(_("拟作出的处理："), st["head"]), _matters_table(case, st), Spacer(1, 3 * mm),
              _p(_("根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你（单位）有权进行陈述和申辩。"), st["body"])]
    if case.hearing_eligible:
        story.append(_p(_("根据第六十三条、第六十四条的规定，你（单位）有权在收到本告知书之日起五日内要求听证。"), st["body"]))
    story.append(_p(_("告知时间：%(t)s") % {"t": _when(case.notified_at)}, st["body"]))
    return story


def _decision(case, st, full):
    story = _header(case, _("行政处罚决定书"), st, full)
    story += [_p(_("违法事实："), st["head"]), _p(case.facts, st["body"]), _p(_("处理决定："), st["head"]),
              _matters_table(case, st), Spacer(1, 3 * mm),
              _p(_("罚款合计：%(f)s 元") % {"f": case.total_fine}, st["body"]),
              _p(case.decision_text, st["body"]),
              _p(_("如不服本决定，可在收到本决定书之日起六十日内申请行政复议，或者在六个月内依法提起行政诉讼。"), st["body"]),
              _p(_("决定时间：%(t)s") % {"t": _when(case.decided_at)}, st["body"])]
    return story


def _file(case, st, full):
    story = _header(case, _("行政处罚案卷"), st, full)
    story += [_p(_("状态：%(s)s；立案：%(f)s；事项清单版本：V%(v)d") % {
        "s": case.get_status_display(), "f": _when(case.filed_at), "v": case.catalog_version.number}, st["body"]),
        _p(_("承办人：%(h)s") % {"h": "、".join(f"{o.name}（{o.badge_no}）" for o in case.handlers.all())}, st["body"]),
        _p(_("违法事实："), st["head"]), _p(case.facts, st["body"]), _p(_("事项与处理："), st["head"]),
        _matters_table(case, st), _p(_("证据："), st["head"])]
    for e in case.evidence.all():
        story.append(_p(f"{e.get_kind_display()} {e.name} SHA-256 {e.sha256} — {e.added_by.username} {_when(e.added_at)}",
                        st["cell"]))
    story.append(_p(_("全过程记录："), st["head"]))
    for r in case.records.all():
        story.append(_p(f"{_when(r.at)} {r.get_step_display()} {r.actor_label} {r.from_status}→{r.to_status} {r.note}",
                        st["cell"]))
    return story


BUILDERS = {"notice": _notice, "decision": _decision, "file": _file}
TITLES = {"notice": "告知书", "decision": "决定书", "file": "案卷"}


def render(case, kind: str, *, full_party: bool) -> bytes:
    """The PDF of `kind` (notice, decision, file) for a case read with selectors.with_detail."""
    st = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=f"{case.number} {TITLES[kind]}", leftMargin=18 * mm,
                            rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm)
    doc.build(BUILDERS[kind](case, st, full_party))
    return buffer.getvalue()
