from django import forms
from django.utils.translation import gettext_lazy as _

from analytics.choices import GroupBy
from grids import selectors as grid_selectors
from grids.forms import area_tree_choices


class ReportForm(forms.Form):
    """The period and area of /reports/ (checked again by analytics.params, which the API shares)."""

    area = forms.ChoiceField(label=_("区域"), required=False)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(label=_("分组"), required=False,
                                 choices=[("", _("不分组"))] + [(g.value, g.label) for g in GroupBy])
    interval = forms.ChoiceField(label=_("趋势时段"), required=False, initial=GroupBy.WEEK,
                                 choices=[(g.value, g.label) for g in (GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH)])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = grid_selectors.areas_for(user).filter(kind__in=("district", "street", "community", "grid"))
        choices = area_tree_choices(areas, _("全部辖区"))
        # the tree's values are area ids; the figures take codes (as the API does)
        by_id = {a.pk: a.code for a in areas}
        self.fields["area"].choices = _codes(choices, by_id)

    def query(self) -> dict:
        """The cleaned values as the API's query parameters."""
        d = self.cleaned_data
        return {"area": d.get("area") or "", "from": d["date_from"].isoformat() if d.get("date_from") else "",
                "to": d["date_to"].isoformat() if d.get("date_to") else "", "group_by": d.get("group_by") or ""}


def _codes(choices, by_id):
    out = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            out.append((value, _codes(label, by_id)))
        else:
            out.append((by_id.get(_pk(value), value) if value not in ("", None) else "", label))
    return out


def _pk(value):
    try:
        return int(getattr(value, "value", value))
    except (TypeError, ValueError):
        return None
