"""Admin page of the effort rules (imported by credit.admin): bureau staff bound to the whole district
edit the three rows; each change goes through credit.effort.update_rule, so it is checked and audited.
Rows are neither added nor deleted: there is one per colour."""
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.exceptions import DomainError
from credit import effort
from credit.models import EffortRule
from grids.admin import BureauAdmin


@admin.register(EffortRule)
class EffortRuleAdmin(BureauAdmin):
    district_wide = True
    list_display = ("color", "reinspect_every_days", "neighbour_radius_m", "neighbour_same_grid", "patrols_per_month",
                    "lookback_days", "spot_check_percent", "updated_by", "updated_at")
    readonly_fields = ("color", "updated_by", "updated_at")

    def get_fields(self, request, obj=None):
        used = effort.FIELDS_BY_COLOR.get(obj.color, ()) if obj else ()
        return ("color", *used, "note", "updated_by", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class CheckedForm(form):
            def clean(self):
                cleaned = super().clean()
                try:
                    effort.clean_rule(obj.color, {k: cleaned.get(k) for k in self.changed_data})
                except DomainError as exc:
                    raise ValidationError({k: v for k, v in exc.fields.items() if k in self.fields} or exc.message)
                return cleaned

        return CheckedForm

    def save_model(self, request, obj, form, change):
        effort.update_rule(request.user, obj.color, **{k: form.cleaned_data[k] for k in form.changed_data})
