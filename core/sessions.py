"""Session engine: Django's database sessions, refusing session keys Django could never have issued.

A forged cookie such as `sessionid=ab\x00cd…` reached the session lookup as is; PostgreSQL refuses NUL
in a query ("A string literal cannot contain NUL (0x00) characters"), so the request became a 500
instead of an anonymous one (found by the schema fuzzing, on PostgreSQL only). Keys Django issues are
32 characters of [a-z0-9]; anything else is treated as no session at all, without a query.

    SESSION_ENGINE = "core.sessions"
"""
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

_VALID = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        return bool(key) and 8 <= len(key) <= 40 and _VALID.issuperset(key)
