"""Shared by the import commands: print an ImportReport the same way for areas and subjects."""
from django.core.management.base import CommandError


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
