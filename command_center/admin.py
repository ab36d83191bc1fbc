"""Admin pages: SLA policies for bureau staff (through command_center.services.policies), events read-only."""
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from command_center.models import Event, EventPhoto, EventSubmission, SlaPolicy, TimelineEntry
from command_center.services import policies
from core.admin import ReadOnlyMixin, ServiceCheckedMixin
from grids import selectors as grid_selectors
from grids.admin import BureauAdmin


class StreetOrDistrictAdmin(BureauAdmin):
    """Rows of one street (street set) or district defaults (street empty): street rows within the user's
    areas, the defaults for staff bound to the whole district only."""

    def get_queryset(self, request):
        qs = super().get_queryset(request).defer("street__boundary")
        paths = grid_selectors.user_area_paths(request.user)
        if request.user.is_superuser or paths is None:
            return qs
        return grid_selectors.scope(qs.filter(street__isnull=False), request.user, "street__path")

    def covers(self, request, obj):
        if obj.street_id is None:
            return grid_selectors.user_area_paths(request.user) is None
        return grid_selectors.user_covers_area(request.user, obj.street)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ServiceCheckedMixin, StreetOrDistrictAdmin):
    """Street policies within the user's areas; district defaults for staff bound to the whole district.
    Street and severity are fixed once a policy exists (the pair is its identity)."""

    list_display = ("name", "street", "severity", "updated_at")
    list_filter = ("severity",)
    search_fields = ("name", "street__name")
    raw_id_fields = ("street",)
    list_select_related = ("street",)

    def get_readonly_fields(self, request, obj=None):
        return ("street", "severity", "updated_at") if obj is not None else ("updated_at",)

    def check_form(self, request, obj, form, cleaned):
        street = obj.street if obj is not None else cleaned.get("street")
        severity = obj.severity if obj is not None else cleaned.get("severity")
        if obj is None and SlaPolicy.objects.filter(street=street, severity=severity).exists():
            form.add_error(None, _("该镇街此等级已有时限策略，请直接修改它。"))
        cleaned["stages"] = policies.check_policy(request.user, severity=severity, stages=cleaned.get("stages"),
                                                  street=street)

    def save_model(self, request, obj, form, change):
        saved = policies.save_policy(request.user, severity=obj.severity, stages=form.cleaned_data["stages"],
                                     name=form.cleaned_data.get("name", ""), street=obj.street)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass


class EventRecordInline(ReadOnlyMixin, admin.TabularInline):
    """An event's records (timeline, photos) inside its page: read-only, and visible to whoever may see
    the event — EventAdmin has checked role and area — without model permissions of their own."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return True


class TimelineInline(EventRecordInline):
    model = TimelineEntry
    fields = ("at", "actor_label", "action", "from_status", "to_status", "note")
    readonly_fields = fields


class EventPhotoInline(EventRecordInline):
    """The event's photos as evidence records (never edited here); each opens through the scoped photo
    API, not a public media URL."""

    model = EventPhoto
    fields = ("kind", "photo", "content_type", "size", "width", "height", "sha256", "uploaded_by_label", "uploaded_at")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("照片"))
    def photo(self, obj):
        if obj.url and not obj.file:
            return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', obj.url, obj.url)
        return format_html('<a href="/api/v1/events/{}/photos/{}/" target="_blank">{}</a>', obj.event_id, obj.pk,
                           obj.original_name or _("查看"))


@admin.register(Event)
class EventAdmin(BureauAdmin):
    """Read-only: events change only through their actions (API and command pages)."""

    list_display = ("id", "problem_type_name", "severity", "status", "street", "team", "officer", "created_at")
    list_filter = ("status", "severity", "source")
    search_fields = ("description", "external_id", "problem_type_code")
    list_select_related = ("street", "team", "officer")
    date_hierarchy = "created_at"
    inlines = [TimelineInline, EventPhotoInline]
    scope_path = "area__path"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("street__boundary")

    def covers(self, request, obj):
        return grid_selectors.user_covers_area(request.user, obj.area)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Webhooks (command_center.webhooks): subscriptions managed by district-wide staff, the log read-only ---

from command_center.models import WebhookDelivery, WebhookSubscription  # noqa: E402
from grids.admin import AuditedAdmin  # noqa: E402


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AuditedAdmin):
    district_wide = True
    list_display = ("client", "url", "kinds", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("client__username", "url")
    filter_horizontal = ("areas",)
    list_select_related = ("client",)
    readonly_fields = ("created_at",)


class LogAdmin(ReadOnlyMixin, BureauAdmin):
    """A log: read-only for staff, nothing added, changed or deleted through the admin."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LogAdmin):
    """The delivery log: read-only for staff."""

    list_display = ("id", "subscription", "kind", "event_id", "status", "attempts", "last_status_code",
                    "next_attempt_at", "created_at", "delivered_at")
    list_filter = ("status", "kind")
    search_fields = ("subscription__url", "subscription__client__username", "event__id")
    list_select_related = ("subscription__client",)
    raw_id_fields = ("subscription", "event")
    date_hierarchy = "created_at"


@admin.register(EventSubmission)
class EventSubmissionAdmin(LogAdmin):
    """Asynchronous intake's submissions (command_center.submissions): read-only, to see what waits or failed."""

    list_display = ("id", "client", "status", "error_status", "attempts", "event", "created_at", "processed_at")
    list_filter = ("status",)
    search_fields = ("client__username", "idempotency_key")
    list_select_related = ("client",)
    raw_id_fields = ("client", "event")
    date_hierarchy = "created_at"


# --- Dispatch rules (command_center.dispatch, through its services) and the desk's sign-on log -------

from command_center import dispatch as dispatching  # noqa: E402
from command_center.models import DispatcherShift, DispatchRule  # noqa: E402


class StreetSeverityRuleAdmin(ServiceCheckedMixin, StreetOrDistrictAdmin):
    """A rule per (street, severity): street rules within the user's areas, district defaults for staff
    bound to the whole district. Street and severity are fixed once a rule exists (the pair is its
    identity); the subclass checks and saves through its service (`check_rule`, `save_model`)."""

    exists_message = ""
    search_fields = ("street__name", "street__code")
    raw_id_fields = ("street",)
    list_select_related = ("street", "updated_by")

    def get_readonly_fields(self, request, obj=None):
        return ("street", "severity", "updated_by", "updated_at") if obj is not None else ("updated_by", "updated_at")

    def check_form(self, request, obj, form, cleaned):
        street = obj.street if obj is not None else cleaned.get("street")
        severity = obj.severity if obj is not None else cleaned.get("severity")
        if obj is None and self.model.objects.filter(street=street, severity=severity).exists():
            form.add_error(None, self.exists_message)
        self.check_rule(request, street, severity, cleaned)

    def check_rule(self, request, street, severity, cleaned):
        raise NotImplementedError

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(DispatchRule)
class DispatchRuleAdmin(StreetSeverityRuleAdmin):
    """Dispatch rules, saved through dispatch.create_rule / update_rule, so every change is checked and
    audited as through the API."""

    list_display = ("street", "severity", "mode", "next_on_decline", "updated_by", "updated_at")
    list_filter = ("severity", "mode")
    fields = ("street", "severity", "mode", "next_on_decline", "updated_by", "updated_at")
    exists_message = gettext_lazy("该镇街此等级已有派遣规则，请直接修改它。")

    def check_rule(self, request, street, severity, cleaned):
        dispatching.check_rule(request.user, severity=severity, mode=cleaned.get("mode"), street=street,
                               next_on_decline=bool(cleaned.get("next_on_decline")))

    def save_model(self, request, obj, form, change):
        if change:
            saved = dispatching.update_rule(request.user, obj.pk, mode=obj.mode, next_on_decline=obj.next_on_decline)
        else:
            saved = dispatching.create_rule(request.user, street=obj.street, severity=obj.severity, mode=obj.mode,
                                            next_on_decline=obj.next_on_decline)
        obj.pk = saved.pk


@admin.register(DispatcherShift)
class DispatcherShiftAdmin(LogAdmin):
    """Who signed on at the command desk, when: read-only (shifts are opened and closed by the desk itself)."""

    list_display = ("user", "started_at", "ends_at", "ended_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    date_hierarchy = "started_at"


from command_center.models import ReviewRule  # noqa: E402
from command_center.services import review as review_services  # noqa: E402


@admin.register(ReviewRule)
class ReviewRuleAdmin(StreetSeverityRuleAdmin):
    """Which handled events wait for the team leader's review; saved through services.review.save_rule
    (checked and audited as everywhere else)."""

    list_display = ("street", "severity", "review", "updated_by", "updated_at")
    list_filter = ("severity", "review")
    fields = ("street", "severity", "review", "updated_by", "updated_at")
    exists_message = gettext_lazy("该镇街此等级已有审核规则，请直接修改它。")

    def check_rule(self, request, street, severity, cleaned):
        review_services.check_rule(request.user, severity=severity, review=cleaned.get("review"), street=street)

    def save_model(self, request, obj, form, change):
        saved = review_services.save_rule(request.user, severity=obj.severity, review=obj.review, street=obj.street)
        obj.pk = saved.pk
