"""Are PostgreSQL and Redis reachable? Exit 0: yes. Exit 3: no, and that's fine (not CI).
Exit 1: no, and CI=true, so the integration suite must fail rather than skip."""
import os
import sys


def reachable(database_url: str, redis_url: str) -> list[str]:
    problems = []
    try:
        import psycopg2

        dsn = database_url.rsplit("/", 1)[0] + "/postgres"  # the test database may not exist yet
        psycopg2.connect(dsn, connect_timeout=3).close()
    except Exception as exc:  # any failure means "not reachable"
        problems.append(f"PostgreSQL at {database_url}: {exc}".strip())
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis at {redis_url}: {exc}".strip())
    return problems


if __name__ == "__main__":
    problems = reachable(sys.argv[1], sys.argv[2])
    for p in problems:
        print("not reachable:", p, file=sys.stderr)
    if not problems:
        sys.exit(0)
    sys.exit(1 if os.environ.get("CI", "").lower() == "true" else 3)
