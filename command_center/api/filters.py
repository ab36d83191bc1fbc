from datetime import timezone as dt_timezone

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
import django_filters

from core.exceptions import ValidationFailed

from command_center import selectors
from command_center.services.base import bad_text
from command_center.choices import Severity, Source, Status
from command_center.models import Event
from core.ids import MAX_ID


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time, compared in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""

    def __init__(self, *args, param=None, **kwargs):
        self.param = param
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(dt_timezone.utc)
            except (OverflowError, ValueError):
                raise ValidationFailed(fields={self.param or self.field_name: [_("时间超出范围。")]})
        return super().filter(qs, value)


class EventFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    source = django_filters.MultipleChoiceFilter(choices=Source.choices)
    street = django_filters.CharFilter(field_name="street__code", label=gettext_lazy("镇街编码"))
    grid = django_filters.CharFilter(field_name="grid__code", label=gettext_lazy("网格编码"))
    problem_type = django_filters.CharFilter(field_name="problem_type_code", label=gettext_lazy("问题类型编码"))
    team = django_filters.NumberFilter(field_name="team_id", min_value=1, max_value=MAX_ID, decimal_places=0)
    officer = django_filters.NumberFilter(field_name="officer_id", min_value=1, max_value=MAX_ID, decimal_places=0)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte", param="created_after")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt", param="created_before")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=gettext_lazy("有超时未完成的环节"))
    # The history's filters (the /events/ page uses this same set).
    subject = django_filters.NumberFilter(field_name="subject_id", min_value=1, max_value=MAX_ID, decimal_places=0,
                                          label=gettext_lazy("涉及对象ID"))
    result = django_filters.CharFilter(method="filter_result", max_length=200, label=gettext_lazy("处置结果包含"))
    closed_after = UtcDateTimeFilter(field_name="closed_at", lookup_expr="gte", param="closed_after")
    closed_before = UtcDateTimeFilter(field_name="closed_at", lookup_expr="lt", param="closed_before")

    class Meta:
        model = Event
        fields = ["status", "severity", "source", "street", "grid", "problem_type", "team", "officer",
                  "created_after", "created_before", "overdue", "subject", "result", "closed_after", "closed_before"]

    def filter_overdue(self, qs, name, value):
        q = selectors.overdue_q()
        return qs.filter(q) if value else qs.exclude(q)

    def filter_result(self, qs, name, value):
        problem = bad_text(value)
        if problem:  # PostgreSQL refuses NUL in a query: a 400, never a 500
            raise ValidationFailed(fields={"result": [problem]})
        return qs.filter(result__icontains=value)
