"""Rows written without the ORM's per-call statement building, for the paths where building it was most of
the cost: batch jobs (the SLA sweep writes four rows per fired deadline; core.audit.record_many; the
monthly plan) and the few inserts every intake makes (the event, its deadlines, its timeline line, its
outbox rows, its credit fact).

The statements are the ones bulk_create would send, built once per (model, columns, rows, database) and
kept for the process; the values still go through each field's `pre_save` (auto_now_add) and
`get_db_prep_save`, as in bulk_create, except where those would hand the value on unchanged (`_AS_IS`). No signals are sent (bulk_create sends none either): use these only
for models nothing listens to on save, and never to update (a row with a primary key is refused)."""
from operator import attrgetter
from typing import Callable, NamedTuple

from django.db import models, transaction

_plans: dict = {}

# Fields of exactly these classes give a value of these types to the database as it is: their
# get_db_prep_save only converts other types (CharField.to_python is str(), IntegerField's int(), …). The
# per-field calls were a tenth of an intake's CPU (cProfile: ~110 values an intake); anything else, and a
# value of another type, still goes through get_db_prep_save.
_AS_IS = {
    models.CharField: (str,), models.TextField: (str,), models.BooleanField: (bool,), models.FloatField: (float,),
    models.IntegerField: (int,), models.BigIntegerField: (int,), models.SmallIntegerField: (int,),
    models.PositiveIntegerField: (int,), models.PositiveSmallIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
}
_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _as_is_types(field) -> tuple:
    """The value types `field` sends unchanged (see _AS_IS); a foreign key to an integer key: int."""
    if type(field) in (models.ForeignKey, models.OneToOneField):
        return (int,) if type(field.target_field) in _KEYS else ()
    return _AS_IS.get(type(field), ())


class Prepared:
    """A value already as the database takes it, sent unchanged: a JSON document's text for a JSON column,
    when the same document goes into many rows (the driver would serialise it again for each)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _as_is_or_none(field) -> tuple:
    return _as_is_types(field) + (type(None),)


def _prepare_other(value, prep, conn):
    """A value of a type its field converts: a Prepared one as it is, else the field's get_db_prep_save."""
    return value.value if type(value) is Prepared else prep(value, conn)


class _Plan(NamedTuple):
    fields: list     # in statement order: the named ones, then the rest
    rest: list       # the fields whose defaults fill the rows of insert_rows
    head: str        # INSERT INTO table (columns) VALUES
    one: str         # one row's placeholders
    as_is: list      # per field: the value types sent unchanged (None included)
    preps: list      # per field: its get_db_prep_save
    read: Callable   # obj -> its values in statement order, as pre_save(obj, True) gives them


def _reader(fields):
    """obj → [field.pre_save(obj, True) for field in fields]: one attrgetter call for the fields whose pre_save is
    Field's plain attribute read, pre_save itself for the others (auto_now_add)."""
    if not fields:
        return lambda obj: []
    get = attrgetter(*[f.attname for f in fields])
    special = [(i, f) for i, f in enumerate(fields) if type(f).pre_save is not models.Field.pre_save]
    single = len(fields) == 1

    def read(obj):
        values = [get(obj)] if single else list(get(obj))
        for i, field in special:
            values[i] = field.pre_save(obj, True)
        return values
    return read


def _insert_plan(model, names, conn) -> _Plan:
    """How to insert rows of `model` naming `names` (the others get their defaults), built once per model,
    columns and database."""
    key = (model, tuple(names), conn.vendor)
    plan = _plans.get(key)
    if plan is None:
        meta = model._meta
        named = [meta.get_field(name) for name in names]
        rest = [f for f in meta.concrete_fields if not f.primary_key and f not in named and not f.generated]
        fields = named + rest
        quote = conn.ops.quote_name
        head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
        plan = _plans[key] = _Plan(fields, rest, head, f"({', '.join(['%s'] * len(fields))})",
                                   [_as_is_or_none(f) for f in fields], [f.get_db_prep_save for f in fields],
                                   _reader(fields))
    return plan


def _prepared(plan: _Plan, values, conn) -> list:
    """One row's values for the statement: per-field calls only for the values a field converts."""
    return [v if type(v) in t else _prepare_other(v, p, conn) for v, t, p in zip(values, plan.as_is, plan.preps)]


def insert_rows(model, names, rows, *, returning: bool = False) -> list:
    """INSERT `rows` (tuples in the order of `names`) into `model`'s table, many rows per statement, without
    model instances. Values go through each field's get_db_prep_save, as in bulk_create (a `Prepared` value
    as it is); fields not named get their defaults. `returning`: the new rows' keys, in the rows' order."""
    conn = transaction.get_connection()  # the connection itself: the proxy costs per value
    plan = _insert_plan(model, names, conn)
    fields, head, one = plan.fields, plan.head, plan.one
    defaults = tuple(f.get_default() for f in plan.rest)
    per_statement = max(1, min(conn.features.max_query_params or 65535, 65535) // len(fields))
    can_return = conn.features.can_return_rows_from_bulk_insert
    if returning and not can_return:
        per_statement = 1  # an old SQLite: one row per statement, its key from the cursor
    meta = model._meta
    tail = f" RETURNING {conn.ops.quote_name(meta.pk.column)}" if returning and can_return else ""
    keys = []
    with conn.cursor() as cursor:
        for i in range(0, len(rows), per_statement):
            chunk = rows[i:i + per_statement]
            cursor.execute(head + ", ".join([one] * len(chunk)) + tail,
                           [v for row in chunk for v in _prepared(plan, row + defaults, conn)])
            if returning:
                keys += ([row[0] for row in cursor.fetchall()] if can_return
                         else [conn.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)])
    return keys


def insert_objects(objs: list) -> list:
    """INSERT new instances of one model in one statement and give them their primary keys, as
    `Model.objects.bulk_create(objs)` does, for a handful of rows on a hot path. Falls back to bulk_create
    where the database cannot return the keys or the rows would not fit one statement."""
    if not objs:
        return objs
    model = type(objs[0])
    meta, conn = model._meta, transaction.get_connection()
    plan = _insert_plan(model, (), conn)
    if (not conn.features.can_return_rows_from_bulk_insert or not meta.pk.db_returning
            or len(objs) * len(plan.fields) > (conn.features.max_query_params or 65535)):
        return model._default_manager.bulk_create(objs)
    for obj in objs:
        if obj.pk is not None or type(obj) is not model:
            raise ValueError("insert_objects writes new rows of one model only")
    sql = f"{plan.head}{', '.join([plan.one] * len(objs))} RETURNING {conn.ops.quote_name(meta.pk.column)}"
    params = [v for obj in objs for v in _prepared(plan, plan.read(obj), conn)]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        keys = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, keys):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, conn.alias
    return objs
