import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.ids import MAX_ID
from grids.choices import AreaKind, DutyStatus, SubjectStatus
from grids.models import Area, Officer, Subject


class IdField(forms.IntegerField):
    """A row id: an integer the database can hold (1e308 is a 400, not an OverflowError)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    field_class = IdField


class AreaFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AreaKind.choices)
    parent = IdFilter(field_name="parent_id")
    code = django_filters.CharFilter()

    class Meta:
        model = Area
        fields = ["kind", "parent", "code", "tier"]


class SubjectFilter(django_filters.FilterSet):
    area = IdFilter(method="filter_area", label=_("区域ID（含下级）"))
    area_code = django_filters.CharFilter(method="filter_area_code", label=_("区域编码（含下级）"))
    category = django_filters.CharFilter(method="filter_category", label=_("类别编码（大类或小类）"))
    status = django_filters.ChoiceFilter(choices=SubjectStatus.choices)
    tag = django_filters.CharFilter(field_name="tags__name")
    q = django_filters.CharFilter(method="filter_text", label=_("名称/执照号/地址"))

    class Meta:
        model = Subject
        fields = ["area", "area_code", "category", "status", "tag", "q"]

    def _in_area(self, qs, area):
        from grids.selectors import subjects_in_area_q

        return qs.filter(subjects_in_area_q(area)) if area else qs.none()

    def filter_area(self, qs, name, value):
        return self._in_area(qs, Area.objects.filter(pk=value).first())

    def filter_area_code(self, qs, name, value):
        return self._in_area(qs, Area.objects.filter(code=value).first())

    def filter_category(self, qs, name, value):
        return qs.filter(Q(category__code=value) | Q(category__parent__code=value))

    def filter_text(self, qs, name, value):
        return qs.filter(Q(name__icontains=value) | Q(licence_no__icontains=value) | Q(address__icontains=value))


class OfficerFilter(django_filters.FilterSet):
    team = IdFilter(field_name="team_id")
    street = django_filters.CharFilter(field_name="team__street__code")
    department = django_filters.CharFilter(field_name="home_department__code")
    duty_status = django_filters.ChoiceFilter(choices=DutyStatus.choices)

    class Meta:
        model = Officer
        fields = ["team", "street", "department", "duty_status", "rank"]
