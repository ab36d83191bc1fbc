"""API token authentication with the token's row kept per process (core.refcache, topic "users"): DRF's
TokenAuthentication reads the token and its user on every request; a running API client sends thousands.
Any write to tokens or users (a revoked token, a deactivated user) drops the copies: in this process at
once, in the others within REFERENCE_CACHE_CHECK_SECONDS. The same answers as DRF's for a bad token."""
from django.contrib.auth import get_user_model
from rest_framework.authentication import TokenAuthentication

from core import refcache
from core.authentication import instance_of, row_of


def _token_row(key: str):
    """(token fields, token values, user fields, user values) of the token `key`, or None."""
    token = CachedTokenAuthentication().get_model().objects.select_related("user").filter(key=key).first()
    return None if token is None else (*row_of(token), *row_of(token.user))


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        if not isinstance(key, str) or len(key) > 64:
            return super().authenticate_credentials(key)
        row = refcache.get_keyed(refcache.USERS, "tokens", key, _token_row) if key else None
        if row is None:  # unknown: DRF's own answer (misses are not kept)
            refcache.forget_keyed(refcache.USERS, "tokens", key)
            return super().authenticate_credentials(key)
        token_names, token_values, user_names, user_values = row
        user = instance_of(get_user_model(), user_names, user_values)
        token = instance_of(self.get_model(), token_names, token_values)
        token.user = user
        if not user.is_active:
            return super().authenticate_credentials(key)  # DRF's "inactive" answer
        return user, token
