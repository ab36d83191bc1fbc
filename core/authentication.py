"""Who asks, read without a query per request: the user's row kept per process (core.refcache, topic
"users"), for the session (CachedModelBackend) and for API tokens (core.api.authentication).

Every desk request with a session read its user afresh: the ORM's building of that one query was about a
tenth of a snapshot read's CPU. Any write to users (a deactivated account, a new password, a role) drops
the copies: in this process at once, in the others within REFERENCE_CACHE_CHECK_SECONDS, as for tokens.
The session itself is still read from the database on every request, so a logout ends it at once."""
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import router

from core import refcache


def row_of(instance) -> tuple[list[str], tuple]:
    """(field names, values) of a model instance's concrete fields: what `instance_of` makes it again from."""
    names = [f.attname for f in instance._meta.concrete_fields]
    return names, tuple(getattr(instance, n) for n in names)


def instance_of(model, names, values):
    """A fresh instance from a kept row, as the ORM makes it from a database row: a request caches its
    user's roles and areas on the object, so no two requests share one."""
    return model.from_db(router.db_for_read(model), names, list(values))


def _user_row(user_id):
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    return None if user is None else row_of(user)


class CachedModelBackend(ModelBackend):
    """Django's ModelBackend (password check, permissions) whose get_user, called for every request that
    carries a session (pages, the desk's API calls, /ws/), reads the kept row."""

    def get_user(self, user_id):
        row = refcache.get_keyed(refcache.USERS, "session_users", user_id, _user_row)
        if row is None:  # gone: ModelBackend's answer (misses are not kept)
            refcache.forget_keyed(refcache.USERS, "session_users", user_id)
            return None
        user = instance_of(get_user_model(), *row)
        return user if self.user_can_authenticate(user) else None
