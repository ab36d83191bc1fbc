from grids import importers
from grids.management.commands._report import ImportCommand


class Command(ImportCommand):
    help = ("Import subjects from CSV (UTF-8 or GBK) or XLSX; columns: " + ", ".join(importers.SUBJECT_COLUMNS)
            + " (or their Chinese headers). Nothing is written unless every row is valid, or --skip-invalid.")
    what, rows, file_help = "subjects", "rows", "a .csv or .xlsx file"

    def run(self, data, name, *, dry_run, skip_invalid):
        return importers.import_subjects(None, data, name, dry_run=dry_run, skip_invalid=skip_invalid)
