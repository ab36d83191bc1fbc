"""The Chinese font of the generated PDFs (cases.documents, analytics.monthly): a TrueType CJK font embedded
as a subset (the glyphs travel with the file, so any viewer or printer shows them), found at the first of
settings.PDF_CJK_FONT_PATH that loads. reportlab's TTFont reads TrueType outlines only (.ttf, .ttc with a
subfont index), not the CFF-based OpenType of Noto CJK. Without one, reportlab's built-in CID font
STSong-Light, which embeds nothing (the viewer must supply the glyphs), with a logged warning."""
import logging
import threading
from pathlib import Path

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

FALLBACK = "STSong-Light"
# Characters our texts use that a font may lack (WenQuanYi Zen Hei has no U+2212 MINUS SIGN, used in the
# figures' definitions) → the look-alike whose glyph stands in; the text keeps the original character.
STAND_INS = {"\u2212": "\u2013"}  # − → –
_lock = threading.Lock()
_chosen: dict[tuple[str, ...], str] = {}  # candidate paths → the registered font's name


def _candidates() -> tuple[str, ...]:
    paths = settings.PDF_CJK_FONT_PATH
    return (paths,) if isinstance(paths, str) else tuple(paths)


def _register(path: str) -> str | None:
    """The name of the TrueType font at path once registered, or None when it is missing or unusable."""
    if not Path(path).is_file():
        return None
    name = f"CJK-{Path(path).stem}"
    try:
        font = TTFont(name, path, subfontIndex=0)
    except (TTFError, OSError) as exc:  # not TrueType (e.g. CFF outlines), or unreadable
        logger.warning("PDF CJK font %s not usable: %s", path, exc)
        return None
    _stand_in(font.face)
    pdfmetrics.registerFont(font)
    return name


def _stand_in(face):
    """Draw a character the font lacks with a look-alike's glyph (else an empty gap), as reportlab itself
    does for the no-break space; the PDF's ToUnicode map still gives the original character back."""
    for missing, look_alike in ((ord(a), ord(b)) for a, b in STAND_INS.items()):
        if missing not in face.charToGlyph and look_alike in face.charToGlyph:
            face.charToGlyph[missing] = face.charToGlyph[look_alike]
            face.charWidths[missing] = face.charWidths[look_alike]


def cjk_font() -> str:
    """The registered font name for Chinese text; loads the font once per configured candidate list (a
    16 MB .ttc takes a moment to parse)."""
    candidates = _candidates()
    with _lock:
        if candidates not in _chosen:
            name = next((n for n in map(_register, candidates) if n), None)
            if name is None:
                pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
                logger.warning("No TrueType CJK font at %s: PDFs use %s, which embeds no glyphs "
                               "(install Debian's fonts-wqy-zenhei or set PDF_CJK_FONT_PATH)",
                               ", ".join(candidates) or "(none configured)", FALLBACK)
                name = FALLBACK
            _chosen[candidates] = name
        return _chosen[candidates]
