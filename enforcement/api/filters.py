import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enforcement.choices import MatterKind, MatterStatus, ScenarioStatus, Severity
from enforcement.models import Checklist, Delegation, Matter, ProblemType, Scenario
from grids.choices import StreetTier


class MatterFilter(django_filters.FilterSet):
    department = django_filters.CharFilter(field_name="department__code", label=_("部门编码"))
    kind = django_filters.ChoiceFilter(choices=MatterKind.choices)
    status = django_filters.ChoiceFilter(choices=MatterStatus.choices)
    domain = django_filters.CharFilter(label=_("执法领域"))
    non_site = django_filters.BooleanFilter(label=_("适用非现场执法"))
    major = django_filters.BooleanFilter(field_name="major_decision", label=_("重大执法决定"))
    code = django_filters.CharFilter()
    q = django_filters.CharFilter(method="filter_text", label=_("编码/名称/法律依据"))

    class Meta:
        model = Matter
        fields = ["department", "kind", "status", "domain", "non_site", "major", "code", "q"]

    def filter_text(self, qs, name, value):
        return qs.filter(Q(code__icontains=value) | Q(name__icontains=value) | Q(law__icontains=value))


class DelegationFilter(django_filters.FilterSet):
    street = django_filters.CharFilter(field_name="street__code", label=_("镇街编码"))
    matter = django_filters.CharFilter(field_name="matter__code", label=_("事项编码"))
    department = django_filters.CharFilter(field_name="matter__department__code", label=_("部门编码"))
    tier = django_filters.ChoiceFilter(choices=StreetTier.choices)
    revoked = django_filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True, label=_("已撤销"))

    class Meta:
        model = Delegation
        fields = ["street", "matter", "department", "tier", "revoked"]


class ProblemTypeFilter(django_filters.FilterSet):
    default_severity = django_filters.ChoiceFilter(choices=Severity.choices)
    q = django_filters.CharFilter(method="filter_text", label=_("编码/名称"))

    class Meta:
        model = ProblemType
        fields = ["code", "matter_code", "group", "default_severity", "about_subject", "active", "q"]

    def filter_text(self, qs, name, value):
        return qs.filter(Q(code__icontains=value) | Q(name__icontains=value))


class ChecklistFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(method="filter_category", label=_("对象类别编码（含大类）"))

    class Meta:
        model = Checklist
        fields = ["code", "category", "active"]

    def filter_category(self, qs, name, value):
        return qs.filter(Q(category__code=value) | Q(category__children__code=value) | Q(category__parent__code=value)).distinct()


class ScenarioFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ScenarioStatus.choices)
    category = django_filters.CharFilter(field_name="categories__code", label=_("对象类别编码"))
    department = django_filters.CharFilter(method="filter_department", label=_("部门编码"))

    class Meta:
        model = Scenario
        fields = ["code", "status", "category", "department"]

    def filter_department(self, qs, name, value):
        return qs.filter(pk__in=Scenario.objects.filter(items__department__code=value).values("pk"))
