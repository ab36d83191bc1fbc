"""Admin pages for bureau staff. State changes go through enforcement.services (publishing, drafts,
delegation, revocation, templates, problem types, scenario publishing) so they are checked and audited;
plain edits of checklists and scenario texts are audited by grids.admin.AuditedAdmin."""
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit
from core.exceptions import DomainError
from core.import_page import error_text
from enforcement import selectors
from enforcement.services import access as access_services
from enforcement.services import catalog as catalog_services
from enforcement.services import checklists as checklists_services
from enforcement.services import power as power_services
from enforcement.services import scenarios as scenarios_services
from enforcement.choices import VersionStatus
from enforcement.models import (
    CatalogVersion, Checklist, ChecklistArea, ChecklistItem, Delegation, Matter, ProblemType, Scenario, ScenarioItem,
    TierTemplate,
)
from grids.admin import AuditedAdmin
from grids.choices import AreaKind
from grids.models import Area


def _form_error(exc: DomainError):
    return ValidationError(error_text(exc))


def _message(request, exc: DomainError):
    messages.error(request, str(_form_error(exc).messages[0]))


class CatalogAdminMixin:
    """Changes only for bureau staff bound to the whole district (the services' rule), so a form never
    gets as far as a service that would refuse it."""

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and access_services.may_edit_catalog(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and access_services.may_edit_catalog(request.user)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and access_services.may_edit_catalog(request.user)


@admin.register(CatalogVersion)
class CatalogVersionAdmin(CatalogAdminMixin, admin.ModelAdmin):
    list_display = ("number", "status", "note", "revision", "created_by", "created_at", "published_by", "published_at",
                    "archived_at")
    list_filter = ("status",)
    search_fields = ("note",)
    actions = ["publish_selected"]
    readonly_fields = ("number", "status", "based_on", "revision", "created_by", "created_at", "published_by",
                       "published_at", "archived_at")
    fields = ("note",) + readonly_fields

    def get_fields(self, request, obj=None):
        return ("note",) if obj is None else self.fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Adding opens the draft (a copy of the published version); changing edits only the note."""
        try:
            if not change:
                draft = catalog_services.open_draft(request.user, note=obj.note)
                obj.pk = draft.pk
                return
        except DomainError as exc:
            raise _form_error(exc)
        before = CatalogVersion.objects.get(pk=obj.pk).note
        CatalogVersion.objects.filter(pk=obj.pk).update(note=obj.note)
        if before != obj.note:
            audit.record(request.user, "catalog.note_changed", obj, changes={"note": [before, obj.note]})

    @admin.action(description=_("发布所选草稿（上一版本归档）"))
    def publish_selected(self, request, queryset):
        if not queryset.filter(status=VersionStatus.DRAFT).exists():
            messages.error(request, _("所选版本中没有草稿。"))
            return
        try:
            version = catalog_services.publish_draft(request.user)
        except DomainError as exc:
            _message(request, exc)
            return
        messages.success(request, _("已发布 V%(n)d。") % {"n": version.number})


class MatterForm(forms.ModelForm):
    class Meta:
        model = Matter
        fields = ("code", "name", "law", "article", "department", "kind", "domain", "non_site", "major_decision", "status",
                  "fine_min", "fine_max", "legal_review_fine_over")


@admin.register(Matter)
class MatterAdmin(CatalogAdminMixin, admin.ModelAdmin):
    """Matters of every version; only rows of the draft can be changed, and new ones go into the draft."""

    form = MatterForm
    list_display = ("code", "name", "department", "kind", "domain", "non_site", "major_decision", "status", "version")
    list_filter = ("version__status", "version", "department", "kind", "domain", "non_site", "major_decision", "status")
    search_fields = ("code", "name", "law")
    list_select_related = ("department", "version")

    def has_change_permission(self, request, obj=None):
        base = super().has_change_permission(request, obj)
        return base and (obj is None or obj.version.is_draft)

    def has_delete_permission(self, request, obj=None):
        return False  # a matter leaves the catalog by being repealed (status), never deleted

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class ValidatingForm(form):
            def clean(self):
                cleaned = super().clean()
                data = {k: cleaned.get(k) for k in MatterForm.Meta.fields if k in cleaned}
                if data.get("department") is not None:
                    data["department"] = data["department"].code  # the services take department codes
                try:
                    catalog_services.clean_matter(partial=obj is not None, **data)
                except DomainError as exc:
                    raise _form_error(exc)
                if obj is None and cleaned.get("code"):
                    target = selectors.draft_version() or selectors.current_version()  # the draft copies it
                    if target is not None and Matter.objects.filter(version=target, code=cleaned["code"]).exists():
                        raise ValidationError({"code": _("草稿中已有该事项编码。")})
                return cleaned

        return ValidatingForm

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data.get(k) for k in MatterForm.Meta.fields}
        data["department"] = data["department"].code if data.get("department") is not None else ""
        try:
            if change:
                saved = catalog_services.update_matter(request.user, Matter.objects.get(pk=obj.pk),
                                               **{k: v for k, v in data.items() if k in form.changed_data and k != "code"})
            else:
                saved = catalog_services.create_matter(request.user, **data)
        except DomainError as exc:
            raise _form_error(exc)
        obj.pk, obj.version_id = saved.pk, saved.version_id


class DelegationAddForm(forms.ModelForm):
    matter_code = forms.CharField(label=_("事项编码"), max_length=64)

    class Meta:
        model = Delegation
        fields = ("street", "effective_from", "effective_to")

    def clean(self):
        cleaned = super().clean()
        code, street, start = cleaned.get("matter_code"), cleaned.get("street"), cleaned.get("effective_from")
        target = selectors.draft_version() or selectors.current_version()
        matter = Matter.objects.filter(version=target, code=code).first() if code and target else None
        if code and (matter is None or matter.status != "active"):
            raise ValidationError({"matter_code": _("事项清单中没有该有效事项。")})
        end = cleaned.get("effective_to")
        if start and end and end < start:
            raise ValidationError({"effective_to": _("截止日期不能早于生效日期。")})
        if matter and street and start and Delegation.objects.filter(
                matter__version=target, matter__code=code, street=street, effective_from=start).exists():
            raise ValidationError({"effective_from": _("该镇街同一生效日期已有此事项的赋权。")})
        return cleaned


@admin.register(Delegation)
class DelegationAdmin(CatalogAdminMixin, admin.ModelAdmin):
    list_display = ("matter_code", "matter_name", "street", "tier", "effective_from", "effective_to", "source",
                    "revoked_at", "revoke_reason", "version")
    list_filter = ("matter__version__status", "matter__version", "tier", "street", "source", "matter__domain",
                   ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("matter__code", "matter__name", "street__name", "street__code", "revoke_reason")
    list_select_related = ("matter", "matter__version", "street")
    actions = ["revoke_selected"]

    @admin.display(description=_("事项编码"), ordering="matter__code")
    def matter_code(self, obj):
        return obj.matter.code

    @admin.display(description=_("事项名称"))
    def matter_name(self, obj):
        return obj.matter.name

    @admin.display(description=_("版本"), ordering="matter__version__number")
    def version(self, obj):
        return f"V{obj.matter.version.number}"

    def has_change_permission(self, request, obj=None):
        base = super().has_change_permission(request, obj)
        return base and (obj is None or (obj.matter.version.is_draft and obj.revoked_at is None))

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = DelegationAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("matter_code", "street", "effective_from", "effective_to")
        return ("matter", "street", "tier", "effective_from", "effective_to", "source", "revoked_at", "revoked_by",
                "revoke_reason")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("matter", "street", "tier", "effective_from", "source", "revoked_at", "revoked_by", "revoke_reason")
        return fixed if obj.matter.version.is_draft and obj.revoked_at is None else fixed + ("effective_to",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "street":
            kwargs["queryset"] = Area.objects.filter(kind=AreaKind.STREET)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke with a reason instead

    def save_model(self, request, obj, form, change):
        try:
            if change:
                saved = catalog_services.update_delegation(request.user, Delegation.objects.get(pk=obj.pk),
                                                   effective_to=form.cleaned_data.get("effective_to"))
            else:
                saved = catalog_services.delegate(
                    request.user, matter_code=form.cleaned_data["matter_code"], street_code=form.cleaned_data["street"].code,
                    effective_from=form.cleaned_data["effective_from"], effective_to=form.cleaned_data.get("effective_to"))
        except DomainError as exc:
            raise _form_error(exc)
        obj.pk = saved.pk

    @admin.action(description=_("撤销所选赋权（需填写原因）"))
    def revoke_selected(self, request, queryset):
        reason = (request.POST.get("reason") or "").strip()
        if "apply" in request.POST and reason:
            done = 0
            for d in queryset:
                try:
                    catalog_services.revoke_delegation(request.user, d, reason=reason)
                    done += 1
                except DomainError as exc:
                    messages.warning(request, f"{d}：{_form_error(exc).messages[0]}")
            messages.success(request, _("已撤销 %(n)d 条赋权。") % {"n": done})
            return None
        return TemplateResponse(request, "enforcement/admin/revoke.html", {
            **self.admin_site.each_context(request), "title": _("撤销赋权"), "queryset": queryset,
            "action_checkbox_name": ACTION_CHECKBOX_NAME, "opts": self.model._meta,
            "missing_reason": "apply" in request.POST,
        })


class TierTemplateForm(forms.ModelForm):
    codes = forms.CharField(label=_("事项编码"), widget=forms.Textarea(attrs={"rows": 12}), required=False,
                            help_text=_("每行一个，或用分号、逗号分隔"))

    class Meta:
        model = TierTemplate
        fields = ("tier", "name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["codes"].initial = "\n".join(self.instance.matter_codes or [])

    def clean_codes(self):
        codes = [c for c in re.split(r"[\s;,；，]+", self.cleaned_data.get("codes") or "") if c]
        unknown = sorted(set(codes) - catalog_services.known_matter_codes())
        if unknown:
            raise ValidationError(_("未知事项编码：%(codes)s") % {"codes": "、".join(unknown[:20])})
        return codes


@admin.register(TierTemplate)
class TierTemplateAdmin(CatalogAdminMixin, admin.ModelAdmin):
    form = TierTemplateForm
    list_display = ("tier", "name", "size", "updated_by", "updated_at")
    actions = ["apply_today"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            saved = catalog_services.set_tier_template(request.user, tier=form.cleaned_data["tier"],
                                                       matter_codes=form.cleaned_data["codes"],
                                                       name=form.cleaned_data.get("name"))
        except DomainError as exc:
            raise _form_error(exc)
        obj.pk = saved.pk

    @admin.action(description=_("从今天起应用到该类型的所有镇街（写入草稿）"))
    def apply_today(self, request, queryset):
        today = timezone.localdate()
        for template in queryset:
            try:
                r = catalog_services.apply_tier_template(request.user, tier=template.tier, effective_from=today)
            except DomainError as exc:
                _message(request, exc)
                continue
            messages.success(request, _("%(t)s：%(s)d 个镇街，新增赋权 %(c)d，已有 %(u)d（草稿 V%(v)d）。") % {
                "t": template.name, "s": r["streets"], "c": r["created"], "u": r["unchanged"], "v": r["version"]})


class ProblemTypeForm(forms.ModelForm):
    class Meta:
        model = ProblemType
        fields = ("code", "name", "matter_code", "default_severity", "group", "about_subject", "description", "active")

    def clean(self):
        cleaned = super().clean()
        try:
            power_services.clean_problem_type({k: cleaned.get(k) for k in self.Meta.fields if k in cleaned},
                                        partial=self.instance.pk is not None)
        except DomainError as exc:
            raise _form_error(exc)
        return cleaned


@admin.register(ProblemType)
class ProblemTypeAdmin(CatalogAdminMixin, admin.ModelAdmin):
    form = ProblemTypeForm
    list_display = ("code", "name", "group", "matter_code", "default_severity", "about_subject", "active")
    list_filter = ("group", "default_severity", "about_subject", "active")
    search_fields = ("code", "name", "matter_code")

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: events keep pointing at their problem type

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        fields = {k: form.cleaned_data.get(k) for k in power_services.PROBLEM_TYPE_FIELDS if k != "code"}
        try:
            saved, _created = power_services.save_problem_type(request.user, code=form.cleaned_data.get("code") or obj.code,
                                                               **fields)
        except DomainError as exc:
            raise _form_error(exc)
        obj.pk = saved.pk


class ChecklistAreaInline(admin.TabularInline):
    model = ChecklistArea
    extra = 0
    fields = ("name", "order")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Checklist)
class ChecklistAdmin(CatalogAdminMixin, AuditedAdmin):
    list_display = ("code", "name", "category", "active", "updated_at")
    list_filter = ("active", "category__parent", "category")
    search_fields = ("code", "name")
    inlines = [ChecklistAreaInline]

    def save_formset(self, request, form, formset, change):
        before = {a.pk: (a.name, a.order) for a in ChecklistArea.objects.filter(checklist=form.instance)}
        super().save_formset(request, form, formset, change)
        after = {a.pk: (a.name, a.order) for a in ChecklistArea.objects.filter(checklist=form.instance)}
        if before != after:
            audit.record(request.user, "checklist.areas_edited", form.instance, changes={
                "areas": [[v[0] for v in before.values()], [v[0] for v in after.values()]]})


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ("checklist", "area", "code", "matter_code", "text", "weight", "order")

    def clean(self):
        cleaned = super().clean()
        code = cleaned.get("matter_code")
        if code and checklists_services.matter_departments([code]).get(code) is None:
            raise ValidationError({"matter_code": _("事项清单中没有该事项。")})
        area = cleaned.get("area")
        if area is not None and cleaned.get("checklist") is not None and area.checklist_id != cleaned["checklist"].pk:
            raise ValidationError({"area": _("检查领域必须属于同一检查清单。")})
        return cleaned


@admin.register(ChecklistItem)
class ChecklistItemAdmin(CatalogAdminMixin, AuditedAdmin):
    form = ChecklistItemForm
    list_display = ("checklist", "area", "code", "text", "matter_code", "department", "weight", "order")
    list_filter = ("checklist", "department")
    search_fields = ("code", "text", "matter_code")
    list_select_related = ("checklist", "area", "department")
    readonly_fields = ("department",)

    def save_model(self, request, obj, form, change):
        obj.department_id = checklists_services.matter_departments([obj.matter_code])[obj.matter_code]  # the matter's department
        if "matter_code" in form.changed_data and "department" not in form.changed_data:
            form.changed_data.append("department")
        super().save_model(request, obj, form, change)


class ScenarioItemInline(admin.TabularInline):
    model = ScenarioItem
    extra = 0
    fields = ("kind", "department", "matter_code", "text", "order")


@admin.register(Scenario)
class ScenarioAdmin(CatalogAdminMixin, AuditedAdmin):
    list_display = ("code", "name", "status", "published_at", "updated_at")
    list_filter = ("status", "categories")
    search_fields = ("code", "name")
    filter_horizontal = ("categories",)
    raw_id_fields = ("areas",)
    readonly_fields = ("status", "published_at", "published_by", "created_by")
    inlines = [ScenarioItemInline]
    actions = ["publish_selected", "withdraw_selected"]

    def save_formset(self, request, form, formset, change):
        """Items edited inline: saved, and each change audited on the scenario."""
        before = {i.pk: audit.snapshot(i, ("kind", "department", "matter_code", "text", "order"))
                  for i in ScenarioItem.objects.filter(scenario=form.instance)}
        super().save_formset(request, form, formset, change)
        after = {i.pk: audit.snapshot(i, ("kind", "department", "matter_code", "text", "order"))
                 for i in ScenarioItem.objects.filter(scenario=form.instance)}
        if before != after:
            audit.record(request.user, "scenario.items_edited", form.instance, changes={
                "items": [len(before), len(after)],
                "changed": [None, sorted(pk for pk in after if before.get(pk) != after[pk])],
                "removed": [None, sorted(set(before) - set(after))],
            })

    @admin.action(description=_("发布所选场景"))
    def publish_selected(self, request, queryset):
        for s in queryset:
            try:
                scenarios_services.publish_scenario(request.user, s)
            except DomainError as exc:
                messages.warning(request, f"{s}：{_form_error(exc).messages[0]}")

    @admin.action(description=_("撤回所选场景为草稿"))
    def withdraw_selected(self, request, queryset):
        for s in queryset:
            try:
                scenarios_services.withdraw_scenario(request.user, s)
            except DomainError as exc:
                messages.warning(request, f"{s}：{_form_error(exc).messages[0]}")
