"""Many rows written at once without model instances, for batch jobs where building them was most of the
cost (the SLA sweep writes four rows per fired deadline; core.audit.record_many)."""
from django.db import transaction


def insert_rows(model, names, rows) -> None:
    """INSERT `rows` (tuples in the order of `names`) into `model`'s table, many rows per statement.
    Values go through each field's get_db_prep_save, as in bulk_create; fields not named get their defaults."""
    meta, conn = model._meta, transaction.get_connection()  # the connection itself: the proxy costs per value
    named = [meta.get_field(name) for name in names]
    rest = [f for f in meta.concrete_fields if not f.primary_key and f not in named]
    defaults = tuple(f.get_default() for f in rest)
    fields = named + rest
    quote = conn.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    one = f"({', '.join(['%s'] * len(fields))})"
    per_statement = max(1, min(conn.features.max_query_params or 65535, 65535) // len(fields))
    with conn.cursor() as cursor:
        for i in range(0, len(rows), per_statement):
            chunk = rows[i:i + per_statement]
            cursor.execute(head + ", ".join([one] * len(chunk)), [
                f.get_db_prep_save(v, conn) for row in chunk for f, v in zip(fields, row + defaults)])
