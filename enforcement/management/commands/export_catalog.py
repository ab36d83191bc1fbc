from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from enforcement import importers, selectors


class Command(BaseCommand):
    help = "导出事项清单数据（CSV/XLSX），格式与 import_catalog 相同。"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=importers.KINDS)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
        parser.add_argument("-o", "--output", required=True)
        parser.add_argument("--catalog-version", dest="catalog_version", type=int,
                            help="事项清单版本号（默认现行版本；仅对 matters/delegations 有效）")

    def handle(self, kind, format, output, catalog_version=None, **options):
        version = None
        if catalog_version is not None:
            from enforcement.models import CatalogVersion

            version = CatalogVersion.objects.filter(number=catalog_version).first()
            if version is None:
                raise CommandError(f"版本不存在：V{catalog_version}")
        elif kind in ("matters", "delegations") and selectors.current_version() is None:
            version = selectors.draft_version()
        try:
            content = importers.export(kind, format, version)
        except DomainError as exc:
            raise CommandError(exc.message)
        Path(output).write_bytes(content)
        self.stdout.write(f"已导出 {output}（{len(content)} 字节）")
