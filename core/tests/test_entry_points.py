"""The two entry points' database connections: the WSGI workers keep theirs (a worker thread serves request
after request), the ASGI server does not (each request runs in a thread of its own). Each is imported in a
fresh interpreter with production settings, as gunicorn and uvicorn import them."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = ("import json, importlib, sys; importlib.import_module(sys.argv[1]); from django.conf import settings; "
         "db = settings.DATABASES['default']; print(json.dumps([db['ENGINE'], db['CONN_MAX_AGE'], "
         "db['CONN_HEALTH_CHECKS']]))")


def settings_under(module: str, **env) -> list:
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DB_CONN_MAX_AGE")}
    base.update(DATABASE_URL="postgres://nobody@127.0.0.1:1/none", SECRET_KEY="entry-point-test-" + "k" * 40,
                SLA_TICKER="off", **env)
    out = subprocess.run([sys.executable, "-c", PROBE, module], cwd=ROOT, env=base, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("env, age", [({}, 60), ({"DB_CONN_MAX_AGE": "5"}, 5)])
def test_wsgi_workers_keep_their_connection(env, age):
    assert settings_under("config.wsgi", **env) == ["django.db.backends.postgresql", age, True]


def test_the_asgi_server_closes_its_connections_after_each_request():
    assert settings_under("config.asgi", REDIS_URL="redis://127.0.0.1:1/0")[1] == 0
