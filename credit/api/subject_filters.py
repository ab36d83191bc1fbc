"""`?color=green|yellow|red` on the registry's subject list (/api/v1/subjects/ and the /subjects/ page).

grids may not import credit, so credit adds the filter to grids' SubjectFilter when the app registry is
ready (CreditConfig.ready). Without credit installed the filter simply isn't there; grids' code never
names a credit relation. A subject not scored yet counts as green: every subject starts green.
"""
import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credit.choices import Color


def filter_color(qs, name, value):
    if not value:
        return qs
    if value == Color.GREEN:
        return qs.filter(Q(credit_score__color=value) | Q(credit_score__isnull=True))
    return qs.filter(credit_score__color=value)


def register():
    from grids.api.filters import SubjectFilter

    SubjectFilter.base_filters["color"] = django_filters.ChoiceFilter(
        choices=Color.choices, method=filter_color, label=_("信用颜色（未评分视为绿色）"))


def register_column():
    """The colour column of the /subjects/ page (grids.listing), beside the filter."""
    from grids.listing import SubjectColumn, register_subject_column

    register_subject_column(SubjectColumn(key="color", label=_("信用颜色"), template="credit/_subject_color_cell.html",
                                          select_related=("credit_score",), head_template="credit/_style.html"))
