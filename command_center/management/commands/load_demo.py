"""`python manage.py load_demo [--if-empty] [--seed N] [--large]`: the demo district and its data.

Each app contributes its own part: a loader callable listed in DEMO_LOADERS, called in order inside one
transaction as loader(seed=..., stdout=..., results=..., large=...) and returning a dict of counts.
`results` maps each earlier loader's dotted path to what it returned, so a later part can build on it.
"""
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.module_loading import import_string

from core.exceptions import DomainError
from grids.demo import DEFAULT_SEED
from grids.models import Area

# ---- Demo parts of the apps, in dependency order. Later apps append theirs here, e.g.
#      "enforcement.demo.load", "credit.demo.load", "command_center.demo.load".
DEMO_LOADERS = [
    "grids.demo.load",
    "enforcement.demo.load",
    "credit.demo.load",
    "inspections.demo.load",
    "command_center.demo.load",
    "cases.demo.load",
    "command_center.demo_cases.load",
    "command_center.dashboard.demo_large.load",  # --large only: 20,000 subjects, 500 officers, 2,000 open events
]


class Command(BaseCommand):
    help = "Load the demo district (拱墅区): areas, subjects, departments, teams, officers, demo users."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when the database already holds areas")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
        parser.add_argument("--large", action="store_true",
                            help="a district-sized load for benchmarks (10× the grids; 20,000 subjects, 500 officers, "
                                 "2,000 open events)")

    def handle(self, *args, **opts):
        if opts["if_empty"] and Area.objects.exists():
            self.stdout.write("数据库已有区域数据，跳过演示数据加载。(Database not empty: demo data not loaded.)")
            return
        results = {}
        try:
            with transaction.atomic():
                for path in DEMO_LOADERS:
                    loader = import_string(path)
                    results[path] = loader(seed=opts["seed"], stdout=self.stdout, results=results,
                                           large=opts["large"]) or {}
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        # Fresh planner statistics for the bulk-loaded tables now, not when autovacuum gets round to it:
        # on empty-table estimates PostgreSQL picks plans ~30× slower (bench/dispatch.py). SQLite has no
        # auto-analyze and is left as Django leaves it.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(self.style.SUCCESS("演示数据已加载。(Demo data loaded.)"))
        for path, counts in results.items():
            self.stdout.write(f"[{path}]")
            for key, value in counts.items():
                if isinstance(value, dict):
                    value = "，".join(f"{k} {v}" for k, v in value.items())
                self.stdout.write(f"  {key}: {value}")
