import io
import logging

from pypdf import PdfReader

from cases.models import CaseRecord
from cases.testing import outcome
from core.testing import needs_cjk_font, pdf_fonts
from grids.testing import *  # noqa: F403

URL = "/api/v1/cases/"


def _text(body: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_decision_and_case_file_render_chinese(api, users, file_case, walk):
    case = walk(file_case(), "closed", outcomes=[outcome(fine="300")])
    client = api(users["leader_s1"])
    r = client.get(f"{URL}{case.pk}/documents/decision/")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = _text(r.content)
    assert "行政处罚决定书" in text and case.number in text and "老王面馆" in text
    text = _text(client.get(f"{URL}{case.pk}/documents/file/").content)
    assert "行政处罚案卷" in text and "全过程记录" in text
    assert CaseRecord.objects.filter(case=case, step="export").count() == 2


def test_notice_not_before_its_step_and_scoped(api, users, file_case):
    case = file_case()
    assert api(users["leader_s1"]).get(f"{URL}{case.pk}/documents/notice/").status_code == 409
    assert api(users["leader_s2"]).get(f"{URL}{case.pk}/documents/file/").status_code == 404


def test_notice_masks_a_person_for_non_handlers(api, users, file_case, walk, district):
    case = walk(file_case(party_kind="person", person_name="王小明", street=district["S1"]), "notified")
    text = _text(api(users["leader_s1"]).get(f"{URL}{case.pk}/documents/notice/").content)
    assert "事先告知书" in text and "王小明" not in text
    text = _text(api(users["officer_s1"]).get(f"{URL}{case.pk}/documents/notice/").content)
    assert "王小明" in text


@needs_cjk_font
def test_case_file_embeds_its_chinese_font(api, users, file_case, walk):
    case = walk(file_case(), "closed", outcomes=[outcome(fine="300")])
    body = api(users["leader_s1"]).get(f"{URL}{case.pk}/documents/file/").content
    fonts = pdf_fonts(body)
    fonts.pop("/Helvetica", None)  # reportlab's canvas names it at each page's start; it draws nothing here
    assert fonts and all(fonts.values()), fonts  # the Chinese font: a TrueType subset carried in the file
    text = _text(body)
    assert "行政处罚案卷" in text and "全过程记录" in text and "老王面馆" in text and case.number in text


def test_case_file_without_the_font_falls_back_to_the_cid_font(api, users, file_case, walk, tmp_path, settings,
                                                               caplog):
    settings.PDF_CJK_FONT_PATH = [str(tmp_path / "missing.ttc")]
    case = walk(file_case(), "closed", outcomes=[outcome(fine="300")])
    with caplog.at_level(logging.WARNING, logger="core.pdf_fonts"):
        body = api(users["leader_s1"]).get(f"{URL}{case.pk}/documents/file/").content
    assert pdf_fonts(body)["/STSong-Light"] is False  # named, not embedded: the viewer supplies the glyphs
    assert "行政处罚案卷" in _text(body)
    assert any("missing.ttc" in r.getMessage() and "STSong-Light" in r.getMessage() for r in caplog.records)
