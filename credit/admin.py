"""Admin pages: credit policies and overrides for bureau staff (through credit.services, so every edit is
a new version and audited); the ledger, scores, history and sensor readings read-only."""
from django.contrib import admin

from core.admin import ReadOnlyMixin, ServiceCheckedMixin
from credit.models import CreditFact, CreditHistory, CreditOverride, CreditPolicy, CreditScore, SensorReading
from credit.services import overrides, policies
from grids.admin import BureauAdmin


class ReadOnlyAdmin(ReadOnlyMixin, BureauAdmin):
    scope_path = "subject__grid__path"


@admin.register(CreditPolicy)
class CreditPolicyAdmin(ServiceCheckedMixin, BureauAdmin):
    """Saving a current policy writes its next version (the old one is kept, retired); old versions are
    read-only. District-wide staff only."""

    district_wide = True
    list_display = ("__str__", "category", "version", "is_current", "yellow_from", "red_from", "window_days",
                    "half_life_days", "created_by", "created_at")
    list_filter = ("is_current",)
    list_select_related = ("category", "created_by")
    fields = ("category", "name", "window_days", "half_life_days", "yellow_from", "red_from", "base_points", "weights",
              "lenient_multiplier", "complaint_confirmed_weight", "complaint_unconfirmed_weight", "sensor_rules",
              "note", "version", "is_current", "created_by", "created_at", "retired_at")

    def get_readonly_fields(self, request, obj=None):
        fixed = ("version", "is_current", "created_by", "created_at", "retired_at")
        return (*fixed, "category") if obj is not None else fixed

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.is_current)

    def check_form(self, request, obj, form, cleaned):
        data = {k: v for k, v in cleaned.items() if k in policies.POLICY_FIELDS}
        form._policy_values = policies.clean_policy(data, base=obj)

    def save_model(self, request, obj, form, change):
        values = form._policy_values
        if change:
            saved = policies.update_policy(request.user, CreditPolicy.objects.get(pk=obj.pk), **values)
        else:
            saved = policies.create_policy(request.user, category=form.cleaned_data.get("category"), **values)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditOverride)
class CreditOverrideAdmin(ServiceCheckedMixin, BureauAdmin):
    """Bureau staff add an override here (or through the API); an existing one is only shown."""

    scope_path = "subject__grid__path"
    list_display = ("subject", "color", "reason", "expires_at", "created_by", "created_at", "ended_at", "end_reason")
    list_filter = ("color",)
    raw_id_fields = ("subject",)
    list_select_related = ("subject", "created_by")
    fields = ("subject", "color", "reason", "expires_at")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    model_validation = False  # the service checks and writes (and ends the live override); not the model form

    def check_form(self, request, obj, form, cleaned):
        if obj is None:
            form._override = overrides.set_override(
                request.user, cleaned["subject"], color=cleaned.get("color"),
                reason=cleaned.get("reason"), expires_at=cleaned.get("expires_at"))

    def save_model(self, request, obj, form, change):
        obj.pk = form._override.pk

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(CreditFact)
class CreditFactAdmin(ReadOnlyAdmin):
    list_display = ("id", "subject", "kind", "points", "confirmed", "leniency", "occurred_at", "source_app",
                    "source_model", "source_pk", "withdrawn_at")
    list_filter = ("kind", "leniency", "confirmed")
    search_fields = ("source_pk", "source_text", "subject__name")
    list_select_related = ("subject",)


@admin.register(CreditScore)
class CreditScoreAdmin(ReadOnlyAdmin):
    list_display = ("subject", "score", "color", "computed_color", "override", "computed_at")
    list_filter = ("color", "computed_color")
    search_fields = ("subject__name",)
    list_select_related = ("subject",)


@admin.register(CreditHistory)
class CreditHistoryAdmin(ReadOnlyAdmin):
    list_display = ("subject", "from_color", "to_color", "score", "cause", "changed_at", "detail")
    list_filter = ("cause", "to_color")
    list_select_related = ("subject",)


@admin.register(SensorReading)
class SensorReadingAdmin(ReadOnlyAdmin):
    list_display = ("device_id", "subject", "metric", "value", "measured_at", "received_at")
    list_filter = ("metric",)
    search_fields = ("device_id",)
    list_select_related = ("subject",)


# The effort rules' admin page lives beside this one (credit.admin_effort).
from credit import admin_effort  # noqa: E402,F401
