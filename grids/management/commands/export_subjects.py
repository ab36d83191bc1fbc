from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grids import importers
from grids.api.filters import SubjectFilter
from grids.models import Subject


class Command(BaseCommand):
    help = "Export subjects to CSV or XLSX in the import's columns (the file re-imports unchanged)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("csv", "xlsx"), default=None,
                            help="default: from the output file's extension, else csv")
        parser.add_argument("-o", "--output", help="file to write; '-' or omitted: standard output (csv only)")
        parser.add_argument("--area", help="only subjects in this area code (any level, descendants included)")
        parser.add_argument("--status", choices=("active", "closed"))

    def handle(self, *args, **opts):
        out = opts["output"]
        fmt = opts["format"] or ("xlsx" if out and out.lower().endswith(".xlsx") else "csv")
        filters = {k: v for k, v in (("area_code", opts["area"]), ("status", opts["status"])) if v}
        qs = SubjectFilter(filters, queryset=Subject.objects.all()).qs if filters else Subject.objects.all()
        content = importers.export_subjects(qs, fmt)
        if not out or out == "-":
            if fmt != "csv":
                raise CommandError("XLSX needs an output file (-o FILE.xlsx)")
            self.stdout.write(content.decode("utf-8"), ending="")
            return
        try:
            Path(out).write_bytes(content)
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}")
        self.stderr.write(f"exported {qs.count()} subjects to {out} ({fmt})")
