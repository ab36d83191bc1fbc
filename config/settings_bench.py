"""Settings for `bench/intake.py` only: the real settings plus the bench-only baseline endpoint
(`POST /api/v1/bench/bare/`, app bench.bare). Never deploy with these: production uses config.settings,
where neither the app nor the URL exists (command_center/tests/test_intake_perf.py checks)."""
from config.settings import *  # noqa: F401,F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.bare"]
ROOT_URLCONF = "bench.bare.urls"
