"""Test support that knows no app: running one function in several threads at once; the modules a
file imports (for the layering tests); the fonts a PDF uses and embeds; what a piece of work wrote to the
database, to write it again in another test (the demo district, loaded once a session: command_center.testing.capture_demo)."""
import ast
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection
from pypdf import PdfReader

from core import bulk


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
# ---- What a piece of work wrote to the database, replayable in another test -----------------------------


@dataclass
class TableChanges:
    """One table's difference between two moments: rows added, rows changed (whole rows), pks removed."""
    model: type
    fields: list
    added: list
    changed: list
    removed: list


def _tables():
    return [m for m in apps.get_models(include_auto_created=True)
            if m._meta.managed and not m._meta.proxy and not m._meta.swapped]


def _stored_fields(model):
    return [f for f in model._meta.local_concrete_fields if not getattr(f, "generated", False)]


def _rows(model):
    fields = _stored_fields(model)
    pk_at = fields.index(model._meta.pk)
    return {row[pk_at]: row for row in model._base_manager.values_list(*(f.attname for f in fields))}


def table_rows():
    """Every managed table's rows by pk (as the ORM reads them): the `before` of changes_since()."""
    return {model: _rows(model) for model in _tables()}


def changes_since(before):
    """The difference between `before` (table_rows()) and the database now, table by table."""
    changes = []
    for model, old in before.items():
        new = _rows(model)
        added = [row for pk, row in new.items() if pk not in old]
        changed = [row for pk, row in new.items() if pk in old and old[pk] != row]
        removed = [pk for pk in old if pk not in new]
        if added or changed or removed:
            changes.append(TableChanges(model, _stored_fields(model), added, changed, removed))
    return changes


def replay(changes, batch=500):
    """Write `changes` (changes_since()) into the database as raw rows, many per INSERT (core.bulk): no
    save(), no signals, no auto_now, values prepared by their fields as the ORM would. Foreign keys are
    checked at commit (Django's constraints are deferred), so the order of the tables does not matter.
    Sequences are moved past the added pks."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for change in changes:
            table, pk = quote(change.model._meta.db_table), change.model._meta.pk
            columns = [quote(f.column) for f in change.fields]
            for start in range(0, len(change.removed), batch):
                pks = change.removed[start:start + batch]
                cursor.execute(f"DELETE FROM {table} WHERE {quote(pk.column)} IN ({', '.join(['%s'] * len(pks))})",
                               [pk.get_db_prep_value(v, connection) for v in pks])
            assignments = ", ".join(f"{c} = %s" for c in columns)
            for row in change.changed:
                cursor.execute(f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s",
                               [*_prepared(change.fields, row), pk.get_db_prep_value(row[change.fields.index(pk)], connection)])
            bulk.insert_rows(change.model, [f.attname for f in change.fields], change.added)
        added = [change.model for change in changes if change.added]
        for sql in connection.ops.sequence_reset_sql(no_style(), added):
            cursor.execute(sql)


def _prepared(fields, row):
    return [field.get_db_prep_save(value, connection) for field, value in zip(fields, row)]
