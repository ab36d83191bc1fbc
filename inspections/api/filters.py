import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from inspections.choices import PlanStatus, RectificationStatus, Result, VisitKind, VisitStatus
from inspections.models import Finding, InspectionPlan, Visit


class PlanFilter(django_filters.FilterSet):
    street = django_filters.CharFilter(field_name="street__code", max_length=32)
    month = django_filters.DateFilter(field_name="month")
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices)

    class Meta:
        model = InspectionPlan
        fields = ["street", "month", "status"]


class VisitFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=VisitStatus.choices)
    kind = django_filters.ChoiceFilter(choices=VisitKind.choices)
    street = django_filters.CharFilter(field_name="street__code", max_length=32)
    plan = django_filters.NumberFilter(field_name="plan_id", min_value=1, max_value=2**62)
    date = django_filters.DateFilter(field_name="date")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    department = django_filters.CharFilter(field_name="departments__code", max_length=32, distinct=True)
    result = django_filters.ChoiceFilter(choices=((Result.PASS, _("全部合格")), (Result.FAIL, _("有不合格"))),
                                         method="filter_result")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("有逾期整改"))
    approved = django_filters.BooleanFilter(method="filter_approved",
                                            label=_("已下达（计划外的检查或已批准计划中的检查）"))

    class Meta:
        model = Visit
        fields = ["status", "kind", "street", "plan", "date", "department"]

    def filter_result(self, qs, name, value: str):
        failed = Exists(Finding.objects.filter(visit=OuterRef("pk"), result=Result.FAIL, corrected_by__isnull=True))
        qs = qs.filter(status=VisitStatus.COMPLETED)
        return qs.filter(failed) if value == Result.FAIL else qs.exclude(failed)

    def filter_approved(self, qs, name, value):
        """The visits that reach the officers (the desk map's layer) or, false, those still in a draft plan."""
        live = Q(plan__isnull=True) | Q(plan__status=PlanStatus.APPROVED)
        return qs.filter(live) if value else qs.exclude(live)

    def filter_overdue(self, qs, name, value):
        overdue = Exists(Finding.objects.filter(visit=OuterRef("pk"), corrected_by__isnull=True,
                                                rectification_status=RectificationStatus.OVERDUE))
        return qs.filter(overdue) if value else qs.exclude(overdue)
