"""Settings that guard production, each read in a fresh interpreter (settings are read once per process):
no public SECRET_KEY, an embedded key made once and kept private, HTTPS hardening that `check --deploy`
accepts, and a Content Security Policy on the pages."""
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"
# The README's "Running in production" environment, plus the HTTPS settings.
PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://user:pass@db-host:5432/enforcement",
    "REDIS_URL": "redis://redis-host:6379/0",
    "ALLOWED_HOSTS": "cc.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://cc.example.gov.cn",
    "MAP_TILE_URL": "https://tiles.intranet/{z}/{x}/{y}.png",
}
HTTPS_ENV = {
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def run_python(args, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FILE", *HTTPS_ENV)}
    base.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("service", ["DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without_a_secret_key(service, tmp_path):
    r = run_python(["-c", PRINT_KEY], **{service: PRODUCTION_ENV[service]}, SECRET_KEY_FILE=str(tmp_path / "k"))
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr and "export SECRET_KEY=" in r.stderr
    assert not (tmp_path / "k").exists()  # no silent fallback to a key of its own either


def test_the_old_public_default_key_is_refused(tmp_path):
    r = run_python(["-c", PRINT_KEY], SECRET_KEY="embedded-default-not-for-production")
    assert r.returncode != 0 and "ImproperlyConfigured" in r.stderr


def test_production_uses_the_key_it_is_given():
    key = secrets.token_urlsafe(50)
    r = run_python(["-c", PRINT_KEY], **PRODUCTION_ENV, SECRET_KEY=key)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == key


def test_embedded_default_makes_a_private_key_once_and_keeps_it(tmp_path):
    path = tmp_path / "data" / "secret_key"
    first = run_python(["-c", PRINT_KEY], SECRET_KEY_FILE=str(path))
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and key != "embedded-default-not-for-production"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = run_python(["-c", PRINT_KEY], SECRET_KEY_FILE=str(path))
    assert again.stdout.strip() == key  # sessions survive a restart
    other = run_python(["-c", PRINT_KEY], SECRET_KEY_FILE=str(tmp_path / "elsewhere"))
    assert other.stdout.strip() != key  # every installation its own


def test_check_deploy_is_clean_with_the_documented_production_settings():
    r = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                   **PRODUCTION_ENV, **HTTPS_ENV, SECRET_KEY=secrets.token_urlsafe(50))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout, r.stdout


def test_check_deploy_names_what_plain_http_leaves_out():
    r = run_python(["manage.py", "check", "--deploy"], **PRODUCTION_ENV, SECRET_KEY=secrets.token_urlsafe(50))
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in r.stdout + r.stderr


def test_https_settings_from_the_environment():
    code = ("from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
            "s.SECURE_HSTS_PRELOAD, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'])")
    env = {**PRODUCTION_ENV, **HTTPS_ENV, "MAP_TILE_URL": "https://{s}.tiles.example.cn/{z}/{x}/{y}.png"}
    r = run_python(["-c", code], **env, SECRET_KEY=secrets.token_urlsafe(50))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ("('HTTP_X_FORWARDED_PROTO', 'https') True True True 31536000 True True "
                                "[\"'self'\", 'data:', 'blob:', 'https://*.tiles.example.cn']")
