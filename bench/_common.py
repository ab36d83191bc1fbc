"""What the Django benchmarks share: set-up on a scratch database, area rows with their paths, percentiles."""
import os


def bench_secret_key() -> str:
    """A throwaway SECRET_KEY for a bench run on PostgreSQL (DATABASE_URL set = production settings, which
    need one); worker subprocesses inherit it through the environment."""
    import secrets

    return "bench-only-" + secrets.token_urlsafe(40)


def setup_django(tmpdir: str | None = None, name: str = "bench", migrate: bool = True):
    """The project's own settings on a throwaway SQLite file `<tmpdir>/<name>.sqlite3` (WAL as in the embedded
    default) unless DATABASE_URL is set (a scratch database: rows are created there); real migrations.
    Without `tmpdir` the caller has set SQLITE_PATH (worker subprocesses inherit it)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SLA_TICKER"] = "off"  # no embedded ticker; the SLA bench starts its own, in its workers
    os.environ.pop("REDIS_URL", None)  # pushes go to the in-memory channel layer
    if tmpdir and not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = os.path.join(tmpdir, f"{name}.sqlite3")
    if os.environ.get("DATABASE_URL"):
        os.environ.setdefault("SECRET_KEY", bench_secret_key())  # production settings refuse to start without one
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def area(code: str, name: str, kind: str, parent=None, tier: str = ""):
    """An Area with its materialised path (what grids.services would set), written directly."""
    from grids.models import Area

    a = Area.objects.create(code=code, name=name, kind=kind, parent=parent, tier=tier)
    a.path = f"{parent.path if parent else '/'}{a.pk}/"
    a.save(update_fields=["path"])
    return a


def pct(sorted_values, p):
    """The p-th percentile of an already sorted list (nearest rank)."""
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]
