"""Written-out reads for the few look-ups every intake makes (the replay checks, the nearest subject, the
possible duplicate): the ORM compiled each of them afresh per call, which cost more CPU than the database
spent answering (py-spy on the production tier). The statement is built once per process and database
from the models' own table and column names; values are bound as parameters, never formatted in."""
from datetime import datetime
from datetime import timezone as dt_timezone

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

_statements: dict = {}


def fetch(name: str, build, params) -> list[tuple]:
    """Rows of the statement `build(quote_name)` returns (cached under `name`), with `params`.
    Datetimes among the params are adapted for the database, as the ORM would."""
    conn = transaction.get_connection()
    key = (name, conn.vendor)
    sql = _statements.get(key)
    if sql is None:
        sql = _statements[key] = build(conn.ops.quote_name)
    adapt = conn.ops.adapt_datetimefield_value
    params = [adapt(p) if isinstance(p, datetime) else p for p in params]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def aware(value):
    """A datetime read through a raw cursor, as the ORM would give it: aware, in UTC (SQLite gives naive
    UTC, as text when the column's type is not declared to the driver)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt_timezone.utc)
    return value


def columns(quote, model, *names) -> str:
    meta = model._meta
    return ", ".join(quote(meta.get_field(n).column) for n in names)


def table(quote, model) -> str:
    return quote(model._meta.db_table)
