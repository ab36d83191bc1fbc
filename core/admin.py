from django.contrib import admin

from core.models import AuditLog
from core.roles import BUREAU_STAFF, has_role


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: audit records are append-only. Bureau staff read them (by role, no permission rows)."""

    def has_module_permission(self, request):
        return has_role(request.user, BUREAU_STAFF) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, BUREAU_STAFF) or super().has_view_permission(request, obj)

    list_display = ("at", "actor_label", "action", "object_type", "object_id", "object_repr", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_id", "object_repr")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
