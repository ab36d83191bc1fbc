from grids import importers
from grids.management.commands._report import ImportCommand


class Command(ImportCommand):
    help = ("Import areas from a GeoJSON FeatureCollection (properties: code, name, kind, parent_code, tier, "
            "zone_code). Nothing is written unless every feature is valid, or --skip-invalid.")
    what, rows, file_help = "areas", "features", "a .geojson / .json file"

    def run(self, data, name, *, dry_run, skip_invalid):
        return importers.import_areas(None, data, dry_run=dry_run, skip_invalid=skip_invalid)
