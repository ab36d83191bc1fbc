"""Admin for bureau staff: the comply-by defaults (days by item weight), edited district-wide and audited
(grids.admin.AuditedAdmin). Plans, visits and findings are changed only through the services (pages
and API), never here: findings are legal records."""
from django.contrib import admin

from grids.admin import AuditedAdmin
from inspections.models import ComplyByDefault


@admin.register(ComplyByDefault)
class ComplyByDefaultAdmin(AuditedAdmin):
    district_wide = True
    list_display = ("min_weight", "days")
    fields = ("min_weight", "days")
