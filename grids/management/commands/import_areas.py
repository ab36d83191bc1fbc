from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from grids import importers
from grids.management.commands._report import print_report


class Command(BaseCommand):
    help = ("Import areas from a GeoJSON FeatureCollection (properties: code, name, kind, parent_code, tier, "
            "zone_code). Nothing is written unless every feature is valid, or --skip-invalid.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .geojson / .json file")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--skip-invalid", action="store_true", help="write the valid features, report the rest")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}")
        try:
            report = importers.import_areas(None, data, dry_run=opts["dry_run"], skip_invalid=opts["skip_invalid"])
        except DomainError as exc:
            raise CommandError(str(exc))
        print_report(self, report, "areas", skip_invalid=opts["skip_invalid"])
