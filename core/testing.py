"""Test support that knows no app: running one function in several threads at once; the modules a
file imports (for the layering tests); the fonts a PDF uses and embeds."""
import ast
import io
import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from pypdf import PdfReader


def in_threads(n, fn):
    """Run fn(0) … fn(n-1) in n threads released together by a barrier (each on its own database
    connection, closed after); returns (results by index, exceptions raised)."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 — reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def pdf_fonts(body: bytes) -> dict[str, bool]:
    """Each font a PDF's pages use (its BaseFont, subset prefix and all) → whether its glyphs are embedded
    as TrueType (a FontFile2 in its font descriptor, or its descendant's for a composite font)."""
    fonts = {}
    for page in PdfReader(io.BytesIO(body)).pages:
        for ref in (page["/Resources"].get("/Font") or {}).values():
            font = ref.get_object()
            parts = [font] + [d.get_object() for d in font.get("/DescendantFonts", [])]
            fonts[str(font["/BaseFont"])] = any(
                "/FontFile2" in p["/FontDescriptor"].get_object() for p in parts if "/FontDescriptor" in p)
    return fonts


def _cjk_font_installed() -> bool:
    paths = settings.PDF_CJK_FONT_PATH
    return any(Path(p).is_file() for p in ([paths] if isinstance(paths, str) else paths))


# Tests of the embedded CJK font (Debian's fonts-wqy-zenhei, installed by .ci/run): skipped without it,
# except on CI (CI=true), where they must run and fail.
needs_cjk_font = pytest.mark.skipif(
    not _cjk_font_installed() and os.environ.get("CI", "").lower() != "true",
    reason="no TrueType CJK font at PDF_CJK_FONT_PATH (apt-get install fonts-wqy-zenhei)")
