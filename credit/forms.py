"""Filter forms of the ranking pages: bad input becomes a form error on the page, never a 500."""
from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy as _

from credit.display import TREND_DAYS
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.forms import AreaTreeField
from grids.models import Area, SubjectCategory

ORDER_CHOICES = [("best", _("由好到差")), ("worst", _("由差到好"))]


def _days_label(d: int) -> str:
    return gettext("较 %(d)d 天前") % {"d": d}


# Lazy: `gettext_lazy(...) % {...}` would be translated once, at import, into the default language.
DAYS_CHOICES = [(str(d), lazy(_days_label, str)(d)) for d in TREND_DAYS]


def _categories():
    return SubjectCategory.objects.select_related("parent").order_by("code")


class _RankingForm(forms.Form):
    category = forms.ModelChoiceField(queryset=SubjectCategory.objects.none(), to_field_name="code", required=False,
                                      label=_("类别"), empty_label=_("全部类别"))
    order = forms.ChoiceField(choices=ORDER_CHOICES, required=False, label=_("排序"))
    days = forms.TypedChoiceField(choices=DAYS_CHOICES, coerce=int, required=False, empty_value=30, label=_("趋势"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories()
        self.fields["category"].label_from_instance = (
            lambda c: f"{c.parent.name} / {c.name}" if c.parent_id else c.name)


class RankingForm(_RankingForm):
    """Staff: any area of theirs (street, community, grid, zone)."""

    area = AreaTreeField(queryset=Area.objects.none(), required=False, label=_("区域"), empty_label=_("全部区域"))
    # Staff open the ranking on the subjects needing attention: worst first.
    order = forms.ChoiceField(choices=ORDER_CHOICES[::-1], required=False, label=_("排序"))
    field_order = ["area", "category", "order", "days"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = Area.objects.filter(kind__in=[AreaKind.STREET, AreaKind.COMMUNITY, AreaKind.GRID, AreaKind.ZONE]) \
            .defer("boundary").order_by("path", "code")
        self.fields["area"].queryset = grid_selectors.scope(areas, user, "path")


class PublicRankingForm(_RankingForm):
    """The public: streets only, by code."""

    street = forms.ModelChoiceField(queryset=Area.objects.none(), to_field_name="code", required=False,
                                    label=_("镇街"), empty_label=_("全部镇街"))
    field_order = ["street", "category", "order", "days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = Area.objects.filter(kind=AreaKind.STREET).defer("boundary").order_by("code")
        self.fields["street"].label_from_instance = lambda a: a.name
