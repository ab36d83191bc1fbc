"""Roles are Django groups. One place names them, so views and services agree."""
from django.utils.translation import gettext_lazy as _

DISPATCHER = "dispatcher"
TEAM_LEADER = "team_leader"
BUREAU_STAFF = "bureau_staff"
OFFICER = "officer"
API_CLIENT = "api_client"

ALL_ROLES = (DISPATCHER, TEAM_LEADER, BUREAU_STAFF, OFFICER, API_CLIENT)
ROLE_LABELS = {
    DISPATCHER: _("指挥中心值班员"),
    TEAM_LEADER: _("街道执法队队长"),
    BUREAU_STAFF: _("区综合执法局工作人员"),
    OFFICER: _("执法队员"),
    API_CLIENT: _("外部平台"),
}
# Roles whose work needs a subject's or reporter's full phone number; everyone else sees it masked.
ROLES_SEEING_PHONES = (DISPATCHER, TEAM_LEADER, BUREAU_STAFF)


def _roles_of(user_id) -> frozenset:
    from django.contrib.auth.models import Group

    return frozenset(Group.objects.filter(user=user_id).values_list("name", flat=True))


def user_roles(user) -> frozenset:
    """The user's role names, cached on the user object for the request and per process (core.refcache)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        from core import refcache

        cached = refcache.get_keyed(refcache.USERS, "roles", user.pk, _roles_of) if user.pk else frozenset()
        user._role_cache = cached
    return cached


def has_role(user, *roles) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return bool(user_roles(user) & set(roles))


def may_see_phones(user) -> bool:
    return has_role(user, *ROLES_SEEING_PHONES)
