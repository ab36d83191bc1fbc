"""The embedded default as `make run` has it: a SQLite FILE in WAL mode (IMMEDIATE transactions, a busy
timeout; config/settings.py), the ticker sweeping on its own thread while requests write on another.
The rest of the fast pass uses pytest-django's in-memory database, which has no WAL: this test runs the
real settings in a child process on a throwaway file, so the set-up `make run` depends on is exercised."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in the child: the test district and catalog (the test-support builders), one event whose respond
# deadline is already due, the real ticker sweeping on its thread while this thread reports 20 events.
CHILD = r"""
import json, threading
from datetime import timedelta
import django
django.setup()
from django.db import connection
from command_center import testing as cc_testing, ticker
from command_center.models import Breach, Deadline, Event
from grids import testing as grid_testing

district = grid_testing.build_district()
departments = grid_testing.build_departments()
users = grid_testing.build_users()
teams = grid_testing.build_teams(district)
cc_testing.build_catalog()
report = cc_testing.report_maker(users["platform"])
due = report()
Deadline.objects.filter(event=due, stage="respond").update(due_at=due.created_at - timedelta(seconds=1))

fired = threading.Event()
real_tick = ticker._sla_tick(0.05)

def tick():
    real_tick()
    if Breach.objects.filter(event=due).exists():
        fired.set()

t = ticker.start(tick, interval=0.05)
try:
    written = [report(point=(30.2 + i * 0.01, 120.2)).pk for i in range(20)]  # the "web" thread writes meanwhile
    ok = fired.wait(20)
finally:
    ticker.stop()
with connection.cursor() as c:
    c.execute("PRAGMA journal_mode")
    mode = c.fetchone()[0]
print(json.dumps({"journal_mode": mode, "fired": ok, "ticker_errors": t.errors, "written": len(written),
                  "events": Event.objects.count(), "breaches": Breach.objects.filter(event=due).count()}))
"""


def test_the_ticker_and_requests_share_the_wal_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_CURRENT_TEST")}
    env.update(SQLITE_PATH=str(tmp_path / "embedded.sqlite3"), DJANGO_SETTINGS_MODULE="config.settings",
               SLA_TICKER="off", PYTHONPATH=str(ROOT))
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    child = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120)
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result == {"journal_mode": "wal", "fired": True, "ticker_errors": 0, "written": 20, "events": 21,
                      "breaches": 1}, result
