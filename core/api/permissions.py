from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.roles import has_role


def roles_required(*roles):
    """A DRF permission class admitting authenticated users with one of `roles`."""

    class _RolesRequired(BasePermission):
        message = _("您的角色无权执行此操作。")

        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and has_role(request.user, *roles))

    _RolesRequired.__name__ = "RolesRequired_" + "_".join(roles)
    return _RolesRequired


def read_any_write_roles(*roles):
    """Reads for any authenticated user (still scoped by area in selectors); writes for `roles` only."""

    class _ReadAnyWriteRoles(BasePermission):
        message = _("您的角色无权修改此数据。")

        def has_permission(self, request, view):
            if not (request.user and request.user.is_authenticated):
                return False
            return request.method in SAFE_METHODS or has_role(request.user, *roles)

    _ReadAnyWriteRoles.__name__ = "ReadAnyWriteRoles_" + "_".join(roles)
    return _ReadAnyWriteRoles
