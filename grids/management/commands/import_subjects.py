from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from grids import importers
from grids.management.commands._report import print_report


class Command(BaseCommand):
    help = ("Import subjects from CSV (UTF-8 or GBK) or XLSX; columns: " + ", ".join(importers.SUBJECT_COLUMNS)
            + " (or their Chinese headers). Nothing is written unless every row is valid, or --skip-invalid.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--skip-invalid", action="store_true", help="write the valid rows, report the rest")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}")
        try:
            report = importers.import_subjects(None, data, path.name, dry_run=opts["dry_run"],
                                               skip_invalid=opts["skip_invalid"])
        except DomainError as exc:
            raise CommandError(str(exc))
        print_report(self, report, "subjects", skip_invalid=opts["skip_invalid"])
