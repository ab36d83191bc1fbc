"""Reading and writing the tables bureau staff work in: CSV (UTF-8, with or without BOM) and XLSX.

Imports report every bad row with its line, column and reason; the caller writes nothing unless all
rows are valid (or it was asked to skip the invalid ones).
"""
import csv
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from core.exceptions import ValidationFailed


@dataclass
class RowError:
    line: int
    column: str
    reason: str

    def as_dict(self):
        return {"line": self.line, "column": self.column, "reason": self.reason}

    def __str__(self):
        return _("第%(line)s行 [%(column)s]：%(reason)s") % {"line": self.line, "column": self.column, "reason": self.reason}


def row_errors(exc, line: int, columns: dict | None = None) -> list[RowError]:
    """A service's DomainError as row errors of an import: one per field (named by `columns`, the file's
    column for a service field, where they differ), or one for the row."""
    columns = columns or {}
    if exc.fields:
        return [RowError(line, columns.get(k, k), " ".join(map(str, v))) for k, v in exc.fields.items()]
    return [RowError(line, "", exc.message)]


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    dry_run: bool = False
    written: bool = False

    @property
    def ok(self):
        return not self.errors

    def as_dict(self):
        return {
            "ok": self.ok, "dry_run": self.dry_run, "written": self.written, "created": self.created,
            "updated": self.updated, "unchanged": self.unchanged, "skipped": self.skipped,
            "errors": [e.as_dict() for e in self.errors],
        }


def _format_of(filename: str) -> str:
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".csv"):
        return "csv"
    raise ValidationFailed(fields={"file": [_("只支持 .csv 或 .xlsx 文件。")]})


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 13800001111 as 13800001111.0
    return str(value).strip()


def read_rows(data: bytes, filename: str) -> list[tuple[int, dict]]:
    """[(line number as the user sees it, {header: cell text})], skipping blank rows."""
    return read_table(data, filename)[1]


def read_table(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """(the header row, [(line number as the user sees it, {header: cell text})]), skipping blank rows."""
    fmt = _format_of(filename)
    rows = []
    if fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
            except UnicodeDecodeError as exc:
                raise ValidationFailed(fields={"file": [_("无法识别文件编码（请使用 UTF-8）。")]}) from exc
        reader = csv.reader(io.StringIO(text))
        header = None
        try:
            line_end = 0
            for cells in reader:
                # The physical line the record starts on, also when an earlier quoted cell spanned lines.
                line_no, line_end = line_end + 1, reader.line_num
                if header is None:
                    header = [c.strip() for c in cells]
                    continue
                if not any(c.strip() for c in cells):
                    continue
                rows.append((line_no, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header) if h}))
        except csv.Error as exc:
            raise ValidationFailed(fields={"file": [_("第%(line)s行无法解析：%(error)s") % {"line": reader.line_num, "error": exc}]}) from exc
        if header is None:
            raise ValidationFailed(fields={"file": [_("文件为空。")]})
    else:
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/etc. on damaged files
            raise ValidationFailed(fields={"file": [_("无法读取 Excel 文件：%(error)s") % {"error": exc}]}) from exc
        ws = wb.worksheets[0]
        header = None
        for line_no, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if header is None:
                header = cells
                continue
            if not any(cells):
                continue
            rows.append((line_no, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}))
        wb.close()
        if header is None:
            raise ValidationFailed(fields={"file": [_("文件为空。")]})
    return header, rows


def require_columns(rows_header: list[str] | set, required: list[str]):
    missing = [c for c in required if c not in rows_header]
    if missing:
        raise ValidationFailed(fields={"file": [_("缺少列：%(columns)s。") % {"columns": ", ".join(missing)}]})


def header_of(data: bytes, filename: str) -> list[str]:
    fmt = _format_of(filename)
    if fmt == "csv":
        text = data.decode("utf-8-sig", errors="replace")
        first = next(csv.reader(io.StringIO(text)), [])
        return [c.strip() for c in first]
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    first = next(wb.worksheets[0].iter_rows(values_only=True), ())
    wb.close()
    return ["" if v is None else str(v).strip() for v in first]


def write_table(fmt: str, headers: list[str], rows) -> bytes:
    """CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX bytes."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(headers)
        for row in rows:
            ws.append(["" if v is None else v for v in row])
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    raise ValidationFailed(fields={"format": [_("只支持 csv 或 xlsx。")]})
