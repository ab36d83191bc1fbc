"""Before the integration pass of `make test`: are PostgreSQL and Redis reachable?

    python -m core.services_check DATABASE_URL REDIS_URL

Exit 0: yes, and the stale test database of an aborted run (pytest-django's "test_<name>") is gone,
even if a leftover process still held it open. Exit 3: no, and that's fine (not CI): the caller skips
the integration pass. Exit 1: no, and CI=true, so the integration pass must fail rather than skip.
"""
import os
import sys
from urllib.parse import urlsplit, urlunsplit


def _admin_dsn(database_url: str) -> str:
    """The same server, its "postgres" database (the test database may not exist yet)."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres"))


def reachable(database_url: str, redis_url: str) -> list[str]:
    problems = []
    try:
        import psycopg2

        psycopg2.connect(_admin_dsn(database_url), connect_timeout=3).close()
    except Exception as exc:  # any failure means "not reachable"
        problems.append(f"PostgreSQL at {database_url}: {exc}".strip())
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis at {redis_url}: {exc}".strip())
    return problems


def drop_stale_test_database(database_url: str) -> str | None:
    """Drop pytest-django's test database left by an aborted run, closing connections still on it
    (Django's own "destroy the old test database" fails while anything holds it open)."""
    import psycopg2
    from psycopg2 import sql

    name = "test_" + urlsplit(database_url).path.lstrip("/")
    conn = psycopg2.connect(_admin_dsn(database_url), connect_timeout=3)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", [name])
            if cur.fetchone() is None:
                return None
            cur.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            return name
    finally:
        conn.close()


def main(argv) -> int:
    database_url, redis_url = argv[1], argv[2]
    problems = reachable(database_url, redis_url)
    for p in problems:
        print("not reachable:", p, file=sys.stderr)
    if problems:
        return 1 if os.environ.get("CI", "").lower() == "true" else 3
    dropped = drop_stale_test_database(database_url)
    if dropped:
        print(f"dropped the stale test database {dropped} of an earlier run")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
