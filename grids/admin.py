"""Admin pages for bureau staff. Writes go through grids.services so they are validated and audited."""
from django.contrib import admin
from django.core.exceptions import ValidationError

from core import audit
from core.exceptions import DomainError
from grids import services
from grids.models import Area, AreaMembership, Department, Officer, Subject, SubjectCategory, Team


def _as_form_error(exc: DomainError):
    return ValidationError({k: v for k, v in exc.fields.items()} if exc.fields else exc.message)


class AuditedAdmin(admin.ModelAdmin):
    """Records every admin change in the audit log with old → new values."""

    def save_model(self, request, obj, form, change):
        fields = [f for f in form.changed_data if f in {x.name for x in obj._meta.get_fields()}]
        before = {}
        if change:
            old = type(obj).objects.get(pk=obj.pk)
            before = audit.snapshot(old, [f for f in fields if not obj._meta.get_field(f).many_to_many])
        super().save_model(request, obj, form, change)
        after = audit.snapshot(obj, [f for f in fields if not obj._meta.get_field(f).many_to_many])
        audit.record(request.user, f"{obj._meta.model_name}.{'updated' if change else 'created'}", obj,
                     changes=audit.diff(before, after) if change else {k: [None, v] for k, v in after.items()})

    def delete_model(self, request, obj):
        audit.record(request.user, f"{obj._meta.model_name}.deleted", obj)
        super().delete_model(request, obj)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "tier", "zone")
    list_filter = ("kind", "tier")
    search_fields = ("code", "name")
    raw_id_fields = ("parent", "zone")
    readonly_fields = ("path",)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data.get(f) for f in ("code", "name", "kind", "parent", "tier", "zone", "boundary")}
        if change:
            services.update_area(request.user, obj, **{k: v for k, v in data.items() if k in form.changed_data})
        else:
            created = services.create_area(request.user, **data)
            obj.pk = created.pk

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class ValidatingForm(form):
            def clean(self):
                cleaned = super().clean()
                try:
                    services.validate_area(
                        kind=cleaned.get("kind"), parent=cleaned.get("parent"), boundary=cleaned.get("boundary"),
                        tier=cleaned.get("tier") or "", zone=cleaned.get("zone"), instance=obj,
                    )
                except DomainError as exc:
                    raise _as_form_error(exc)
                return cleaned

        return ValidatingForm


@admin.register(SubjectCategory)
class SubjectCategoryAdmin(AuditedAdmin):
    list_display = ("code", "name", "parent")
    list_filter = ("parent",)
    search_fields = ("code", "name")


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "category", "licence_no", "address", "grid", "status")
    list_filter = ("status", "category__parent")
    search_fields = ("name", "licence_no", "address")
    raw_id_fields = ("grid",)
    list_select_related = ("category", "grid")

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data.get(f) for f in form.changed_data if f != "tags"}
        if "tags" in form.changed_data:
            data["tags"] = [t.name for t in form.cleaned_data["tags"]]
        try:
            if change:
                saved = services.update_subject(request.user, Subject.objects.get(pk=obj.pk), **data)
            else:
                full = {f: form.cleaned_data.get(f) for f in services.SUBJECT_FIELDS if f != "tags"}
                full["tags"] = [t.name for t in form.cleaned_data.get("tags", [])]
                saved = services.create_subject(request.user, **full)
        except DomainError as exc:
            raise _as_form_error(exc)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # tags were set by the service


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("code", "name", "short_name", "kind")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("code", "name", "street")
    search_fields = ("code", "name")


@admin.register(Officer)
class OfficerAdmin(AuditedAdmin):
    list_display = ("badge_no", "name", "team", "home_department", "rank", "duty_status", "last_position_at")
    list_filter = ("team", "home_department", "rank", "duty_status", "seconded")
    search_fields = ("name", "badge_no")
    raw_id_fields = ("user",)
    filter_horizontal = ("skill_departments",)
    readonly_fields = ("last_lat", "last_lng", "last_accuracy", "last_heading", "last_position_at")


@admin.register(AreaMembership)
class AreaMembershipAdmin(AuditedAdmin):
    list_display = ("user", "area")
    search_fields = ("user__username", "area__code", "area__name")
    raw_id_fields = ("user", "area")
