"""Indexes the figures' queries need on the records they read (bench/reports.py's plans, 1M events):
- deadlines by due time, carrying what the stage on-time rates count: the period's deadlines read by index
  rather than all of them (analytics.selectors.events: due_at ≥ the period's start);
- breached deadlines by event (partial: few rows), for "closed without a breach" per event;
- events by intake time carrying the grouping columns, so counts and trends can be read from the index.
PostgreSQL only (INCLUDE); the embedded SQLite default has no use for them. Schema, not records: analytics
still writes no row of another app."""
from django.db import migrations

INDEXES = {
    "analytics_deadline_due_cover": "ON command_center_deadline (due_at) "
                                    "INCLUDE (event_id, stage, met_at, breached_at, cancelled_at)",
    "analytics_deadline_breached": "ON command_center_deadline (event_id) WHERE breached_at IS NOT NULL",
    "analytics_event_created_cover": "ON command_center_event (created_at) "
                                     "INCLUDE (id, area_id, street_id, problem_type_code, source, severity)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_assessment_weights"),
        ("command_center", "0010_review_rule_severity_labels"),
    ]

    operations = [migrations.RunPython(create, drop)]
