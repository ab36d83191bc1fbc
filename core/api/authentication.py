"""API token authentication with the token's row kept per process (core.refcache, topic "users"): DRF's
TokenAuthentication reads the token and its user on every request; a running API client sends thousands.
Any write to tokens or users (a revoked token, a deactivated user) drops the copies: in this process at
once, in the others within REFERENCE_CACHE_CHECK_SECONDS. The same answers as DRF's for a bad token."""
from django.contrib.auth import get_user_model
from django.db import router
from rest_framework.authentication import TokenAuthentication

from core import refcache


def _token_row(key: str):
    """(token fields, token values, user fields, user values) of the token `key`, or None."""
    model = CachedTokenAuthentication().get_model()
    token = model.objects.select_related("user").filter(key=key).first()
    if token is None:
        return None
    token_names = [f.attname for f in model._meta.concrete_fields]
    user_names = [f.attname for f in get_user_model()._meta.concrete_fields]
    return (token_names, tuple(getattr(token, n) for n in token_names),
            user_names, tuple(getattr(token.user, n) for n in user_names))


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        if not isinstance(key, str) or len(key) > 64:
            return super().authenticate_credentials(key)
        row = refcache.get_keyed(refcache.USERS, "tokens", key, _token_row) if key else None
        if row is None:  # unknown: DRF's own answer (misses are not kept)
            refcache.forget_keyed(refcache.USERS, "tokens", key)
            return super().authenticate_credentials(key)
        token_names, token_values, user_names, user_values = row
        user_model = get_user_model()
        # Fresh instances per request: a request caches roles and areas on its user object.
        user = user_model.from_db(router.db_for_read(user_model), user_names, list(user_values))
        token = self.get_model().from_db(router.db_for_read(self.get_model()), token_names, list(token_values))
        token.user = user
        if not user.is_active:
            return super().authenticate_credentials(key)  # DRF's "inactive" answer
        return user, token
