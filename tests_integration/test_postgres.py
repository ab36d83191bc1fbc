"""PostgreSQL: the models and the migrations agree, migrations run both ways, and the database
itself (not only Python) enforces the invariants."""
import os
import subprocess
import sys
import uuid

import psycopg2
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from grids.models import Area, Subject, SubjectCategory
from tests_integration.conftest import ROOT, database_url_for

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_no_missing_migrations():
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=1)
    except SystemExit as exc:  # --check exits 1 when a model change has no migration
        pytest.fail(f"models changed without a migration (makemigrations --check exited {exc.code})")


@pytest.mark.django_db
def test_every_migration_is_applied_on_the_test_database():
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    assert plan == [], f"unapplied migrations: {[str(m) for m, _ in plan]}"


# Runs migrate in a child process against a scratch database of its own, so unapplying everything
# never touches the test database that the other tests share.
MIGRATE_ROUND_TRIP = r"""
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

call_command("migrate", verbosity=0, interactive=False)
executor = MigrationExecutor(connection)
apps = sorted({app for app, _ in executor.loader.graph.leaf_nodes()})
executor.migrate([(app, None) for app in apps])           # everything back to zero
executor = MigrationExecutor(connection)
left = [str(m) for m in executor.loader.applied_migrations]
assert not left, f"still applied after migrating to zero: {left}"
tables = connection.introspection.table_names()
leftover = [t for t in tables if t != "django_migrations"]
assert not leftover, f"tables left after migrating to zero: {leftover}"
call_command("migrate", verbosity=0, interactive=False)   # and forward again
print("round trip ok:", len(apps), "apps")
"""


def test_migrations_go_to_zero_and_back_on_a_scratch_database():
    name = f"enforcement_it_migrations_{uuid.uuid4().hex[:8]}"
    admin_dsn = database_url_for("postgres")
    conn = psycopg2.connect(admin_dsn, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        env = dict(os.environ, DATABASE_URL=database_url_for(name), DJANGO_SETTINGS_MODULE="config.settings",
                   SLA_TICKER="off")
        result = subprocess.run([sys.executable, "-c", MIGRATE_ROUND_TRIP], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, f"migrate round trip failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        assert "round trip ok" in result.stdout
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def _constraint_names(table):
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db
def test_constraints_exist_in_postgres():
    assert connection.vendor == "postgresql"
    assert {"area_tier_only_on_streets", "area_district_is_root"} <= _constraint_names(Area._meta.db_table)
    assert {"uniq_subject_licence", "subject_lat_range", "subject_lng_range"} <= _constraint_names(
        Subject._meta.db_table)


@pytest.mark.django_db
def test_database_refuses_a_duplicate_licence_number(district, categories):
    def subject(licence_no):
        return Subject.objects.create(name="店", category=categories["restaurant"], lat=30.2, lng=120.2,
                                      grid=district["S1G1"], licence_no=licence_no)

    subject("91330105MA0000001X")
    subject(None), subject(None)  # the uniqueness holds only when a number is present
    with pytest.raises(IntegrityError), transaction.atomic():
        subject("91330105MA0000001X")


@pytest.mark.django_db
def test_database_refuses_a_tier_on_a_non_street(district):
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.create(code="X1", name="x", kind="grid", parent=district["S1C1"], tier="urban")
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.filter(pk=district["S1G1"].pk).update(tier="general")
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.create(code="D2", name="second district", kind="district", parent=district["district"])


@pytest.mark.django_db
def test_database_refuses_out_of_range_coordinates(district):
    cat = SubjectCategory.objects.create(code="C", name="c")
    with pytest.raises(IntegrityError), transaction.atomic():
        Subject.objects.create(name="x", category=cat, lat=91, lng=120.2, grid=district["S1G1"])


@pytest.mark.django_db
def test_a_forged_session_cookie_with_nul_is_just_anonymous(client):
    """PostgreSQL refuses NUL in a query: core.sessions must not even look such a key up (was a 500)."""
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    client.raise_request_exception = False
    assert client.get("/api/v1/areas/").status_code in (401, 403)
    assert client.get("/").status_code == 302  # the login page, not an error


@pytest.mark.django_db
def test_nul_in_a_raw_query_parameter_is_a_400_not_a_500(users):
    """core.api.errors turns PostgreSQL's "cannot contain NUL" into a 400, whatever view let it through."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(users["bureau"])
    client.raise_request_exception = False
    assert client.get("/api/v1/subjects/points/", {"category": "a\x00b"}).status_code in (200, 400)
