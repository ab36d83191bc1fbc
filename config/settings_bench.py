"""Settings for `bench/intake.py` only: the real settings plus the bench-only baseline endpoint
(`POST /api/v1/bench/bare/`, app bench.bare). Never deploy with these: production uses config.settings,
where neither the app nor the URL exists (command_center/tests/test_intake_perf.py checks)."""
import os

from config.settings import *  # noqa: F401,F403
from config.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.bare"]
ROOT_URLCONF = "bench.bare.urls"

# Experiment (issue 18, bench/_tiers.py's `uvicornpool`): ASGI with psycopg 3's connection pool (Django ≥ 5.1).
# psycopg 3 is not a project requirement: the bench puts a copy on that server's path only (BENCH_PSYCOPG3_PATH).
if os.environ.get("BENCH_DB_POOL") and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 4, "max_size": 16, "timeout": 10}
