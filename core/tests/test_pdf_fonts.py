"""core.pdf_fonts: the first usable TrueType font of PDF_CJK_FONT_PATH, else STSong-Light with a warning."""
import logging

from reportlab.pdfbase import pdfmetrics

from core.pdf_fonts import FALLBACK, cjk_font
from core.testing import needs_cjk_font


@needs_cjk_font
def test_the_first_usable_path_wins(settings, tmp_path):
    settings.PDF_CJK_FONT_PATH = [str(tmp_path / "missing.ttf"), *settings.PDF_CJK_FONT_PATH]
    assert cjk_font() not in ("", FALLBACK)


def test_a_file_that_is_no_truetype_font_falls_back_with_a_warning(settings, tmp_path, caplog):
    junk = tmp_path / "not-a-font.ttf"
    junk.write_bytes(b"OTTO" + b"\0" * 64)  # a CFF OpenType signature reportlab cannot read
    settings.PDF_CJK_FONT_PATH = str(junk)
    with caplog.at_level(logging.WARNING, logger="core.pdf_fonts"):
        assert cjk_font() == FALLBACK
    assert "not usable" in caplog.text and "STSong-Light" in caplog.text


@needs_cjk_font
def test_a_character_the_font_lacks_is_drawn_with_its_look_alike():
    face = pdfmetrics.getFont(cjk_font()).face  # WenQuanYi Zen Hei has no U+2212 MINUS SIGN of its own
    assert face.charToGlyph[ord("−")] not in (None, 0)
    assert pdfmetrics.stringWidth("−", cjk_font(), 10) == pdfmetrics.stringWidth("–", cjk_font(), 10) > 0
