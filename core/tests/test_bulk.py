"""core.bulk's plain INSERTs and core.rawsql's written-out reads: the rows they write and read are the ones
the ORM would write and read."""
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import bulk, rawsql
from core.models import AuditLog, OutboxMessage

pytestmark = pytest.mark.django_db


def test_insert_objects_writes_the_rows_bulk_create_would_and_gives_their_keys():
    now = timezone.now()
    rows = [OutboxMessage(kind="k", payload={"n": i, "text": "中文"}, created_at=now, available_at=now) for i in range(3)]
    made = bulk.insert_objects(rows)
    assert made is rows and all(r.pk for r in rows) and len({r.pk for r in rows}) == 3
    assert not rows[0]._state.adding and rows[0]._state.db == "default"
    stored = list(OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))
    assert [s.payload for s in stored] == [{"n": 0, "text": "中文"}, {"n": 1, "text": "中文"}, {"n": 2, "text": "中文"}]
    assert [s.pk for s in stored] == sorted(r.pk for r in rows)  # keys in the order the rows were given
    assert stored[0].attempts == 0 and stored[0].done_at is None and stored[0].last_error == ""  # field defaults


def test_insert_objects_fills_auto_now_add_and_refuses_a_row_that_has_a_key():
    (entry,) = bulk.insert_objects([AuditLog(actor_label="system", action="test.bulk", object_type="x", object_id="1")])
    assert entry.at is not None and abs((timezone.now() - entry.at).total_seconds()) < 60
    assert AuditLog.objects.get(pk=entry.pk).at == entry.at
    with pytest.raises(ValueError):
        bulk.insert_objects([entry])
    assert AuditLog.objects.filter(action="test.bulk").count() == 1
    assert bulk.insert_objects([]) == []


def test_a_clash_with_a_unique_constraint_is_the_database_error_the_orm_gives(django_user_model):
    bulk.insert_objects([django_user_model(username="bulk-client", password="!")])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_objects([django_user_model(username="bulk-client", password="?")])
    assert django_user_model.objects.get(username="bulk-client").password == "!"


def test_rawsql_fetch_binds_datetimes_as_the_orm_does_and_aware_gives_utc():
    now = timezone.now()
    bulk.insert_objects([OutboxMessage(kind="old", payload={}, created_at=now - timedelta(hours=2), available_at=now),
                         OutboxMessage(kind="new", payload={}, created_at=now, available_at=now)])

    def build(q):
        return (f"SELECT {rawsql.columns(q, OutboxMessage, 'kind', 'created_at')} FROM {rawsql.table(q, OutboxMessage)}"
                f" WHERE {q('created_at')} >= %s ORDER BY {q('id')}")

    rows = rawsql.fetch("test.recent_outbox", build, [now - timedelta(hours=1)])
    assert [r[0] for r in rows] == ["new"]
    assert rawsql.aware(rows[0][1]) == now.replace(microsecond=now.microsecond)
    assert rawsql.aware("2026-12-05 08:00:00") == datetime(2026, 12, 5, 8, tzinfo=dt_timezone.utc)
    assert rawsql.aware(None) is None


def test_values_sent_as_they_are_only_where_get_db_prep_save_would_send_them_unchanged():
    from django.db import connection

    from command_center.models import Deadline, Event

    def prepared(model, name, value):
        """`value` in `name`'s place of a row of `model`, as the insert plan hands it to the driver."""
        plan = bulk._insert_plan(model, (), connection)
        row = [None] * len(plan.fields)
        at = plan.fields.index(model._meta.get_field(name))
        row[at] = value
        return bulk._prepared(plan, row, connection)[at]

    samples = {str: "文本", bool: True, int: 7, float: 30.25, type(None): None}
    checked = 0
    for model in (Event, Deadline, OutboxMessage, AuditLog):
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            for kind in bulk._as_is_types(field) + (type(None),):
                value = samples[kind]
                assert prepared(model, field.name, value) == field.get_db_prep_save(value, connection), field
                checked += 1
    assert checked > 40
    # A value of another type still goes through the field: 12 into a text column is "12", "5" into an id is 5.
    assert prepared(Event, "status", 12) == "12"
    assert prepared(Deadline, "event", "5") == 5
    assert bulk._as_is_types(Event._meta.get_field("created_at")) == ()  # datetimes: always the field's own


def test_insert_rows_gives_the_keys_in_order_and_a_prepared_json_text_is_stored_as_the_document():
    import json

    now = timezone.now()
    shared = bulk.Prepared(json.dumps({"event": 1, "text": "中文"}))
    keys = bulk.insert_rows(OutboxMessage, ("kind", "payload", "created_at", "available_at"),
                            [("a", shared, now, now), ("b", shared, now, now), ("c", {"own": [1, 2]}, now, now)],
                            returning=True)
    assert len(keys) == 3 and keys == sorted(keys)
    stored = {m.pk: m for m in OutboxMessage.objects.filter(pk__in=keys)}
    assert [stored[k].kind for k in keys] == ["a", "b", "c"]
    assert stored[keys[0]].payload == stored[keys[1]].payload == {"event": 1, "text": "中文"}
    assert stored[keys[2]].payload == {"own": [1, 2]} and stored[keys[2]].attempts == 0
    assert OutboxMessage.objects.filter(pk=keys[0], payload__event=1).exists()  # a JSON document, not a string
    assert bulk.insert_rows(OutboxMessage, ("kind",), [("d",)]) == []
