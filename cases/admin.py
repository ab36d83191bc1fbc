"""Admin pages for bureau staff: the district's no-penalty lists (免罚清单) and the case-file quality
checklist (案卷评查), edited with every change audited and never deleted (an entry is switched off, so
old decisions and scores keep their meaning); cases and their records read-only."""
from django.contrib import admin

from cases.models import Case, CaseRecord, ColorAppeal, LenientListEntry, QualityChecklistItem
from core.admin import ReadOnlyMixin
from grids.admin import AuditedAdmin, BureauAdmin


class KeptAdmin(AuditedAdmin):
    district_wide = True

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LenientListEntry)
class LenientListEntryAdmin(KeptAdmin):
    list_display = ("matter_code", "ground", "active", "note", "updated_at")
    list_filter = ("ground", "active")
    search_fields = ("matter_code",)
    fields = ("matter_code", "ground", "note", "active")


@admin.register(QualityChecklistItem)
class QualityChecklistItemAdmin(KeptAdmin):
    list_display = ("code", "text", "max_points", "active")
    fields = ("code", "text", "max_points", "active")


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, BureauAdmin):
    scope_path = "street__path"
    list_display = ("number", "status", "street", "party_kind", "filed_at", "decided_at", "overdue")
    list_filter = ("status", "overdue", "procedure")
    search_fields = ("number",)
    exclude = ("person_name", "person_id_number", "person_phone")


@admin.register(CaseRecord)
class CaseRecordAdmin(ReadOnlyMixin, BureauAdmin):
    scope_path = "case__street__path"
    list_display = ("case", "step", "actor_label", "at", "from_status", "to_status")
    list_filter = ("step",)


@admin.register(ColorAppeal)
class ColorAppealAdmin(ReadOnlyMixin, BureauAdmin):
    """Read-only: appeals against a colour are lodged and decided through /color-appeals/ (cases.services)."""

    scope_path = "subject__grid__path"
    list_display = ("subject", "kind", "color", "lodged_at", "result", "decided_at")
    list_filter = ("result", "kind")
