"""Database triggers bump the spatial-index counter on every change to an area's indexed columns.

The counter (AreaIndexVersion) tells every process that its in-memory index is stale. Bumping it in the
database itself catches writes that no Python signal sees: QuerySet.update(), bulk_create(), raw SQL,
another program. It runs inside the writer's transaction, so the change and the bump commit together.
Path-only updates (grids.services._set_path) don't bump: the index doesn't use paths.
"""
from django.db import migrations

COLUMNS = "code, name, kind, parent_id, boundary"

SQLITE_UP = [
    f"""CREATE TRIGGER grids_area_index_bump_ins AFTER INSERT ON grids_area
        BEGIN UPDATE grids_areaindexversion SET n = n + 1 WHERE id = 1; END""",
    f"""CREATE TRIGGER grids_area_index_bump_del AFTER DELETE ON grids_area
        BEGIN UPDATE grids_areaindexversion SET n = n + 1 WHERE id = 1; END""",
    f"""CREATE TRIGGER grids_area_index_bump_upd AFTER UPDATE OF {COLUMNS} ON grids_area
        BEGIN UPDATE grids_areaindexversion SET n = n + 1 WHERE id = 1; END""",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS grids_area_index_bump_{s}" for s in ("ins", "del", "upd")]

POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION grids_area_index_bump() RETURNS trigger AS $$
       BEGIN
         UPDATE grids_areaindexversion SET n = n + 1 WHERE id = 1;
         RETURN NULL;
       END;
       $$ LANGUAGE plpgsql""",
    # Statement-level: a bulk insert of 10,000 areas bumps once.
    """CREATE TRIGGER grids_area_index_bump_rows AFTER INSERT OR DELETE OR TRUNCATE ON grids_area
       FOR EACH STATEMENT EXECUTE PROCEDURE grids_area_index_bump()""",
    f"""CREATE TRIGGER grids_area_index_bump_upd AFTER UPDATE OF {COLUMNS} ON grids_area
       FOR EACH STATEMENT EXECUTE PROCEDURE grids_area_index_bump()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS grids_area_index_bump_rows ON grids_area",
    "DROP TRIGGER IF EXISTS grids_area_index_bump_upd ON grids_area",
    "DROP FUNCTION IF EXISTS grids_area_index_bump()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):
    dependencies = [("grids", "0002_area_index_version")]
    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
