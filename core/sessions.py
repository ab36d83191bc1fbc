"""Session engine: Django's database sessions, refusing session keys Django could never have issued.

A forged cookie such as `sessionid=ab\x00cd…` reached the session lookup as is; PostgreSQL refuses NUL
in a query ("A string literal cannot contain NUL (0x00) characters"), so the request became a 500
instead of an anonymous one (found by the schema fuzzing, on PostgreSQL only). Keys Django issues are
32 characters of [a-z0-9]; anything else is treated as no session at all, without a query.

Every request with a session reads its row: the statement is written out once per process (core.rawsql);
the ORM's building of it was a sixth of the desk's snapshot read's CPU. Saving, creating and deleting are
Django's.

    SESSION_ENGINE = "core.sessions"
"""
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

from core import rawsql

_VALID = frozenset(VALID_KEY_CHARS)


def _session_data_sql(quote) -> str:
    model = SessionStore.get_model_class()
    column = lambda name: rawsql.columns(quote, model, name)  # noqa: E731
    return (f"SELECT {column('session_data')} FROM {rawsql.table(quote, model)} "
            f"WHERE {column('session_key')} = %s AND {column('expire_date')} > %s")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return bool(key) and 8 <= len(key) <= 40 and _VALID.issuperset(key)

    def load(self):
        """Django's load: the session's data if its row is there and not expired; else none, and the key is
        forgotten (a new one is made if the session is saved)."""
        rows = rawsql.fetch("session_data", _session_data_sql, [self.session_key, timezone.now()])
        if not rows:
            self._session_key = None
            return {}
        return self.decode(rows[0][0])
