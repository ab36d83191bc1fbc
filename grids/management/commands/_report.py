"""Shared by the import commands: read the file, run the importer, print its ImportReport the same way for
areas and subjects."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError


class ImportCommand(BaseCommand):
    """A subclass names what it imports (`what`, `rows`: "features"/"rows"), the file it takes (`file_help`)
    and how the importer is called (`run`)."""

    what = "rows"
    rows = "rows"
    file_help = "the file"

    def run(self, data: bytes, name: str, *, dry_run: bool, skip_invalid: bool):
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("file", help=self.file_help)
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--skip-invalid", action="store_true", help=f"write the valid {self.rows}, report the rest")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}")
        try:
            report = self.run(data, path.name, dry_run=opts["dry_run"], skip_invalid=opts["skip_invalid"])
        except DomainError as exc:
            raise CommandError(str(exc))
        print_report(self, report, self.what, skip_invalid=opts["skip_invalid"])


def print_report(command, report, what: str, *, skip_invalid=False):
    for error in report.errors:
        command.stderr.write(f"line {error.line} [{error.column}]: {error.reason}")
    counts = (f"created={report.created} updated={report.updated} unchanged={report.unchanged} "
              f"invalid={report.skipped}")
    if report.written:
        command.stdout.write(f"{what}: written. {counts}")
    elif report.dry_run and report.ok:
        command.stdout.write(f"{what}: dry run, nothing written. {counts}")
    else:
        command.stdout.write(f"{what}: nothing written. {counts}")
    if report.errors and not report.written and not (report.dry_run and skip_invalid):
        # Invalid rows and nothing written (also on a dry run that a real run would refuse): a script must notice.
        raise CommandError(f"{len(report.errors)} error(s) in {report.skipped} row(s); nothing written"
                           + ("" if report.dry_run else " (use --skip-invalid to write the valid rows)"))
