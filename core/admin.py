"""Admin building blocks shared by the apps (read-only logs, forms checked by a service), and the audit log."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.models import AuditLog, OutboxMessage
from core.roles import BUREAU_STAFF, has_role


def add_domain_errors(form, exc: DomainError):
    """Attach a domain error's fields to the form's fields (or to the whole form when it has no such field)."""
    for field, messages in (exc.fields or {"": [exc.message]}).items():
        for message in messages if isinstance(messages, list) else [messages]:
            if field in form.fields:
                form.add_error(field, str(message))
            else:
                form.add_error(None, f"{field}: {message}" if field else str(message))


class ReadOnlyMixin:
    """Nothing added, changed or deleted through the admin: logs, ledgers and computed rows change only
    through their services. Also fits inlines (which pass `obj` to has_add_permission)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceCheckedMixin:
    """The admin form runs `check_form` (the service's checks) once its own fields are valid, so a refused
    change comes back as form errors, never as a server error. `check_form` may keep what the service
    returns on the form for save_model. `model_validation = False` skips the model form's own validation
    (when the service checks and writes everything)."""

    model_validation = True

    def check_form(self, request, obj, form, cleaned):
        raise NotImplementedError

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        admin_ = self

        class ValidatingForm(form):
            def _post_clean(self):
                if admin_.model_validation:
                    super()._post_clean()

            def clean(self):
                cleaned = super().clean()
                if self.errors:
                    return cleaned
                try:
                    admin_.check_form(request, obj, self, cleaned)
                except DomainError as exc:
                    add_domain_errors(self, exc)
                return cleaned

        return ValidatingForm


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only: audit records are append-only. Bureau staff read them (by role, no permission rows)."""

    def has_module_permission(self, request):
        return has_role(request.user, BUREAU_STAFF) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, BUREAU_STAFF) or super().has_view_permission(request, obj)

    list_display = ("at", "actor_label", "action", "object_type", "object_id", "object_repr", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_id", "object_repr")
    date_hierarchy = "at"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Follow-ups after commits (core.outbox), read-only: failing ones show their error and next attempt.
    Bureau staff read them (by role)."""

    def has_module_permission(self, request):
        return has_role(request.user, BUREAU_STAFF) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, BUREAU_STAFF) or super().has_view_permission(request, obj)

    class StateFilter(admin.SimpleListFilter):
        title = _("状态")
        parameter_name = "state"

        def lookups(self, request, model_admin):
            return [("waiting", _("待处理")), ("failing", _("失败待重试")), ("done", _("已完成"))]

        def queryset(self, request, queryset):
            if self.value() == "waiting":
                return queryset.filter(done_at__isnull=True)
            if self.value() == "failing":
                return queryset.filter(done_at__isnull=True).exclude(last_error="")
            if self.value() == "done":
                return queryset.filter(done_at__isnull=False)
            return queryset

    list_display = ("id", "kind", "created_at", "attempts", "available_at", "done_at", "short_error")
    list_filter = (StateFilter, "kind")
    search_fields = ("kind", "last_error")

    @admin.display(description=_("最近错误"))
    def short_error(self, obj):
        return obj.last_error[:120]
