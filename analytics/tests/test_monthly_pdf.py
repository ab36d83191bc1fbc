"""The street's monthly report as PDF: its Chinese text extracted with pypdf carries the hand-computed
figures; refusals (role 403, another street 404, not a street or a bad month 400)."""
import io
import re

import pytest
from pypdf import PdfReader

from core.testing import needs_cjk_font, pdf_fonts

pytestmark = pytest.mark.django_db

URL = "/reports/monthly.pdf"


def _text(response) -> str:
    """The PDF's text without white space (the table's cells come out on lines of their own)."""
    return re.sub(r"\s", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages))


def test_the_month_of_s1(logged_in, district, visits, cases):
    answer = logged_in("leader_s1").get(URL, {"area": "S1", "month": "2026-11"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF") and "monthly-S1-2026-11.pdf" in answer["Content-Disposition"]
    text = _text(answer)
    assert f"{district['S1'].name}2026年11月综合行政执法月报" in text
    assert "综合查一次" in text and "执法办案" in text and "2026-11-01至2026-11-30" in text
    # S1 by hand: 3 visits, 2 joint, 3 separate visits replaced (33.3 %); cases: 1 filed, 2 closed (50 %)
    assert "检查次数3" in text and "综合检查次数2" in text and "33.3%" in text
    assert "立案1" in text and "结案2" in text and "50.0%" in text
    assert "处罚1，公益减罚1，不予处罚1" in text and "评查平均分77.5" in text


def test_an_empty_month(logged_in, district):
    text = _text(logged_in("dispatcher").get(URL, {"area": "S2", "month": "2025-01"}))
    assert "检查次数0" in text and "立案0" in text and "按期结案率%—" in text


def test_refusals(logged_in, district):
    assert logged_in("officer_s1").get(URL, {"area": "S1", "month": "2026-11"}).status_code == 403
    assert logged_in("leader_s1").get(URL, {"area": "S2", "month": "2026-11"}).status_code == 404
    bad = logged_in("leader_s1").get(URL, {"area": "S1G1", "month": "2026-11"})
    assert bad.status_code == 400 and "请选择镇街" in bad.content.decode()
    for month in ("2026-13", "November", ""):
        assert logged_in("leader_s1").get(URL, {"area": "S1", "month": month}).status_code == 400
    assert logged_in("leader_s1").get(URL, {"month": "2026-11"}).status_code == 400


def test_linked_from_the_reports_of_a_street(logged_in, district):
    page = logged_in("leader_s1").get("/reports/", {"area": "S1", "date_from": "2026-11-01", "date_to": "2026-11-30"})
    assert f"{URL}?area=S1&amp;month=2026-11" in page.content.decode()
    assert URL not in logged_in("dispatcher").get("/reports/").content.decode()  # no street chosen


@needs_cjk_font
def test_the_report_embeds_its_chinese_font(logged_in, district):
    answer = logged_in("leader_s1").get(URL, {"area": "S1", "month": "2026-11"})
    fonts = pdf_fonts(answer.content)
    fonts.pop("/Helvetica", None)  # reportlab's canvas names it at each page's start; it draws nothing here
    assert fonts and all(fonts.values()), fonts  # the Chinese font: a TrueType subset carried in the file
    text = _text(answer)
    assert f"{district['S1'].name}2026年11月综合行政执法月报" in text
    assert "(本期−前期)÷前期" in text  # U+2212, drawn with a stand-in glyph, extracted as itself
