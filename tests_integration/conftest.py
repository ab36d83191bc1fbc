"""Helpers for the integration suite: live processes (daphne, a Celery worker) against the test
database and Redis, always bounded in time and always killed.

The suite runs in the integration pass of `make test` (DATABASE_URL=postgres://…, REDIS_URL=redis://…);
the root conftest skips it elsewhere and fails it on CI when the services are missing.
"""
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Runs in the child before exec: if pytest dies (even by SIGKILL), the child gets SIGTERM,
    so an aborted run leaves no server holding the test database open."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux: the finally blocks still kill the child
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_for(name: str) -> str:
    """DATABASE_URL with its database name replaced (the live server must use pytest-django's test DB)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def live_env(db_name: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_for(db_name),
        REDIS_URL=os.environ["REDIS_URL"],
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
        SLA_TICKER="off",
        **extra,
    )
    return env


class LiveProcess:
    """A subprocess whose output goes to a file (no pipe to fill up), killed on exit."""

    def __init__(self, args, env, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent, start_new_session=True,
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def wait_for_port(port: int, proc: LiveProcess, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            pytest.fail(f"process exited with {proc.proc.returncode} before listening:\n{proc.output()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    pytest.fail(f"nothing listening on 127.0.0.1:{port} after {timeout}s:\n{proc.output()}")


def python_cmd(*args) -> list[str]:
    return [sys.executable, *args]


# --- The integration pass must run integration tests, not just skip them -----------------------
# `make test-integration` sets REQUIRE_INTEGRATION_TESTS=1: a run where no test marked integration
# passed (all skipped or deselected) then fails instead of looking green.
_integration_passed = 0


def pytest_runtest_logreport(report):
    global _integration_passed
    if report.when == "call" and report.passed and "integration" in report.keywords:
        _integration_passed += 1


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("REQUIRE_INTEGRATION_TESTS") == "1" and exitstatus == 0 and _integration_passed == 0:
        print("\nREQUIRE_INTEGRATION_TESTS=1 but no integration test passed (all skipped or deselected)",
              file=sys.stderr)
        session.exitstatus = 1


# Credit's subjects, for the integration tests that use them (built by credit's test-support module).
@pytest.fixture
def subjects(district, categories):
    from credit.testing import build_subjects

    return build_subjects(district, categories)
