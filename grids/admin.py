"""Admin pages for bureau staff. Writes go through grids.services so they are validated and audited.

Access follows the roles, not Django's per-model permission rows: bureau staff may view, add and change
the registry within their areas (district-wide tables such as departments and categories only when bound
to the district); deleting stays with superusers. Every form runs the services' checks in `clean()`, so
a refused change comes back as a form error, never as a server error.
"""
from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.admin import ServiceCheckedMixin, add_domain_errors
from core.exceptions import DomainError
from core.roles import BUREAU_STAFF, has_role
from grids import selectors, services
from grids.choices import AreaKind
from grids.forms import user_area_choices
from grids.models import Area, AreaMembership, Department, Officer, Subject, SubjectCategory, Team


class BureauAdmin(admin.ModelAdmin):
    """Admin access by role and by area (see the module's docstring)."""

    district_wide = False  # True: only staff bound to the whole district may add or change rows
    scope_path = None      # "<fk path>__path" to limit rows to the user's areas

    def _is_bureau(self, request):
        return request.user.is_active and has_role(request.user, BUREAU_STAFF)

    def _district_wide_user(self, request):
        return selectors.user_area_paths(request.user) is None

    def covers(self, request, obj) -> bool:
        """Does the user's area hold this (saved) row?"""
        return True

    def in_scope(self, request, obj) -> bool:
        # Judge the row as saved: after a refused form the instance carries the refused values.
        if obj.pk is None:
            return True
        saved = self.model._base_manager.filter(pk=obj.pk).first()
        return saved is None or self.covers(request, saved)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.scope_path and not request.user.is_superuser:
            qs = selectors.scope(qs, request.user, self.scope_path)
        return qs

    def has_module_permission(self, request):
        return self._is_bureau(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        return self._is_bureau(request) and (obj is None or self.in_scope(request, obj))

    def has_add_permission(self, request):
        if request.user.is_superuser:
            return True
        return self._is_bureau(request) and (not self.district_wide or self._district_wide_user(request))

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if not self._is_bureau(request) or (self.district_wide and not self._district_wide_user(request)):
            return False
        return obj is None or self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class AuditedAdmin(BureauAdmin):
    """Tables without a service of their own: every admin change is audited with old → new values,
    many-to-many fields included (they are saved after the row, in save_related)."""

    def _audited_fields(self, form, obj):
        names = {f.name for f in obj._meta.get_fields() if getattr(f, "concrete", False) or f.many_to_many}
        return [f for f in form.changed_data if f in names]

    def save_model(self, request, obj, form, change):
        fields = self._audited_fields(form, obj)
        form._audit_before = audit.snapshot(type(obj).objects.get(pk=obj.pk), fields) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        after = audit.snapshot(obj, self._audited_fields(form, obj))
        before = getattr(form, "_audit_before", {})
        changes = audit.diff(before, after) if change else {k: [None, v] for k, v in after.items()}
        if changes or not change:
            audit.record(request.user, f"{obj._meta.model_name}.{'updated' if change else 'created'}", obj,
                         changes=changes)

    def delete_model(self, request, obj):
        audit.record(request.user, f"{obj._meta.model_name}.deleted", obj)
        super().delete_model(request, obj)


# --- Areas ------------------------------------------------------------------------------------

AREA_FORM_FIELDS = ("code", "name", "kind", "parent", "tier", "zone", "boundary")


@admin.register(Area)
class AreaAdmin(ServiceCheckedMixin, BureauAdmin):
    list_display = ("code", "name", "kind", "parent", "tier", "zone")
    list_filter = ("kind", "tier")
    search_fields = ("code", "name")
    raw_id_fields = ("parent", "zone")
    readonly_fields = ("path",)
    list_select_related = ("parent", "zone")

    def get_queryset(self, request):
        qs = super().get_queryset(request).defer("parent__boundary", "zone__boundary")
        return qs if request.user.is_superuser else qs.filter(pk__in=selectors.areas_for(request.user).values("pk"))

    def covers(self, request, obj):
        return selectors.user_covers_area(request.user, obj)

    def has_view_permission(self, request, obj=None):
        # Ancestors are visible (to draw the tree) but not theirs to change.
        if obj is not None and not request.user.is_superuser:
            return self._is_bureau(request) and selectors.areas_for(request.user).filter(pk=obj.pk).exists()
        return super().has_view_permission(request, obj)

    def check_form(self, request, obj, form, cleaned):
        services.check_area(request.user, instance=obj, changed=form.changed_data,
                            **{f: cleaned.get(f) for f in AREA_FORM_FIELDS})

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data.get(f) for f in AREA_FORM_FIELDS}
        data["tier"] = data["tier"] or ""
        if change:
            saved = services.update_area(request.user, obj, **{k: v for k, v in data.items() if k in form.changed_data})
        else:
            saved = services.create_area(request.user, **data)
        obj.pk, obj.path = saved.pk, saved.path

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many; the service saved everything


# --- Subjects ---------------------------------------------------------------------------------

class SubjectAdminForm(forms.ModelForm):
    tag_names = forms.CharField(label=gettext_lazy("标签"), required=False, help_text=gettext_lazy("用分号分隔"))

    class Meta:
        model = Subject
        exclude = ["tags"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].required = False
        self.fields["grid"].help_text = _("留空：按经纬度自动确定网格")
        if self.instance.pk:
            self.fields["tag_names"].initial = ";".join(self.instance.tags.values_list("name", flat=True))


@admin.register(Subject)
class SubjectAdmin(BureauAdmin):
    form = SubjectAdminForm
    list_display = ("id", "name", "category", "licence_no", "address", "grid", "status")
    list_filter = ("status", "category__parent")
    search_fields = ("name", "licence_no", "address")
    raw_id_fields = ("grid",)
    list_select_related = ("category", "grid")
    scope_path = "grid__path"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("grid__boundary")

    def covers(self, request, obj):
        return selectors.user_covers_area(request.user, obj.grid)

    def _data(self, form, fields):
        data = {f: form.cleaned_data.get(f) for f in fields if f in form.cleaned_data}
        if "tag_names" in form.changed_data or form.instance.pk is None:
            raw = form.cleaned_data.get("tag_names") or ""
            data["tags"] = [t for t in raw.replace("；", ";").replace(",", ";").split(";") if t.strip()]
        return data

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        admin_ = self

        class ValidatingForm(form):
            def _post_clean(self):
                # Run the service's rules first, so the grid it derives from the point is in place
                # before the model's own validation (which requires a grid).
                if not self.errors:
                    try:
                        if obj is None:
                            fields = [f for f in services.SUBJECT_FIELDS if f != "tags"]
                            data = services.check_subject(request.user, **admin_._data(self, fields))
                        else:
                            changed = [f for f in self.changed_data if f in services.SUBJECT_FIELDS]
                            data = services.check_subject(request.user, instance=obj, **admin_._data(self, changed))
                        if data.get("grid") is not None:
                            self.cleaned_data["grid"] = data["grid"]
                            self.instance.grid = data["grid"]
                    except DomainError as exc:
                        add_domain_errors(self, exc)
                super()._post_clean()

        return ValidatingForm

    def save_model(self, request, obj, form, change):
        if change:
            changed = [f for f in form.changed_data if f in services.SUBJECT_FIELDS]
            saved = services.update_subject(request.user, Subject.objects.get(pk=obj.pk), **self._data(form, changed))
        else:
            fields = [f for f in services.SUBJECT_FIELDS if f != "tags"]
            saved = services.create_subject(request.user, **self._data(form, fields))
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # tags were set by the service


# --- Units ------------------------------------------------------------------------------------

@admin.register(SubjectCategory)
class SubjectCategoryAdmin(AuditedAdmin):
    list_display = ("code", "name", "parent")
    list_filter = ("parent",)
    search_fields = ("code", "name")
    district_wide = True


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("code", "name", "short_name", "kind")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    district_wide = True


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("code", "name", "street")
    search_fields = ("code", "name")
    scope_path = "street__path"
    raw_id_fields = ("street",)

    def covers(self, request, obj):
        return selectors.user_covers_area(request.user, obj.street)


@admin.register(Officer)
class OfficerAdmin(AuditedAdmin):
    list_display = ("badge_no", "name", "team", "home_department", "rank", "duty_status", "last_position_at")
    list_filter = ("team", "home_department", "rank", "duty_status", "seconded")
    search_fields = ("name", "badge_no")
    raw_id_fields = ("user",)
    filter_horizontal = ("skill_departments",)
    readonly_fields = ("last_lat", "last_lng", "last_accuracy", "last_heading", "last_position_at")
    scope_path = "team__street__path"

    def covers(self, request, obj):
        return selectors.user_covers_area(request.user, obj.team.street)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team" and not request.user.is_superuser:
            kwargs["queryset"] = selectors.scope(Team.objects.all(), request.user, "street__path")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class _AreaTreeChoiceField(forms.ModelChoiceField):
    """An area drop-down drawn as the tree (district, then street → community → grid), not by id."""

    @property
    def choices(self):
        return [("", self.empty_label)] + user_area_choices(self.queryset if self.queryset is not None else [])

    @choices.setter
    def choices(self, value):
        forms.ChoiceField.choices.fset(self, value)


@admin.register(AreaMembership)
class AreaMembershipAdmin(AuditedAdmin):
    """用户辖区: the user and the area are chosen from labelled drop-downs (the area as a tree of the editor's
    own areas), not typed as raw ids. The user page (/users/) is where accounts are managed."""

    list_display = ("user_label", "area_label")
    search_fields = ("user__username", "area__code", "area__name")
    list_select_related = ("user", "area")
    scope_path = "area__path"

    @admin.display(description=gettext_lazy("用户"), ordering="user__username")
    def user_label(self, obj):
        return obj.user.get_username()

    @admin.display(description=gettext_lazy("区域"), ordering="area__code")
    def area_label(self, obj):
        return f"{obj.area.get_kind_display()} · {obj.area.name}（{obj.area.code}）"

    def covers(self, request, obj):
        return selectors.user_covers_area(request.user, obj.area)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "area":
            areas = Area.objects.exclude(kind=AreaKind.MICRO_GRID).defer("boundary").order_by("path")
            if not request.user.is_superuser:
                areas = selectors.scope(areas, request.user, "path")
            return _AreaTreeChoiceField(queryset=areas, label=gettext_lazy("区域"), empty_label="---------")
        if db_field.name == "user":
            field = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_superuser=False).order_by("username"),
                                           label=gettext_lazy("用户"))
            field.label_from_instance = lambda u: f"{u.get_username()}（{u.first_name}）" if u.first_name else u.get_username()
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class ScopedForm(form):
            def clean_area(self):
                area = self.cleaned_data["area"]
                if area is not None and not selectors.user_covers_area(request.user, area):
                    raise ValidationError(_("该区域不在您的辖区内。"))
                return area

        return ScopedForm
