from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from grids.choices import AreaKind, SubjectStatus


class ImportForm(forms.Form):
    KIND_CHOICES = [("subjects", _("管理对象 (CSV/XLSX)")), ("areas", _("区域边界 (GeoJSON)"))]
    kind = forms.ChoiceField(label=_("导入内容"), choices=KIND_CHOICES)
    file = forms.FileField(label=_("文件"))
    skip_invalid = forms.BooleanField(label=_("跳过错误行，只写入正确的行"), required=False)

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件过大（上限 20 MB）。"))
        return f


def _tree_key(area, codes):
    """Sort key putting every area under its parent, siblings by code."""
    return [codes.get(i, str(i)) for i in area.ancestor_ids]


def area_tree_choices(areas, empty_label=None):
    """Choices for an area picker drawn as a tree: one group per street (the street itself first, then each
    community with its grids indented under it, then the street's zones), instead of a flat list where 230
    grids all read "第1网格". `areas`: Area rows (scoped already, of the kinds to offer); the district is left out."""
    areas = list(areas)
    codes = {a.id: a.code for a in areas}
    streets, groups = {}, {}
    for a in sorted(areas, key=lambda a: _tree_key(a, codes)):
        ids = a.ancestor_ids
        if a.kind == AreaKind.DISTRICT or len(ids) < 2:
            continue
        if a.kind == AreaKind.STREET:
            streets[a.id] = a
        depth = {AreaKind.STREET: 0, AreaKind.COMMUNITY: 1, AreaKind.ZONE: 1, AreaKind.GRID: 2, AreaKind.MICRO_GRID: 3}.get(a.kind, 1)
        label = a.name if a.kind in (AreaKind.STREET, AreaKind.COMMUNITY, AreaKind.GRID, AreaKind.MICRO_GRID) else f"{a.get_kind_display()} · {a.name}"
        if a.kind == AreaKind.STREET:
            label = gettext("%(name)s（全街道）") % {"name": a.name}
        groups.setdefault(ids[1], []).append((a.pk, "\u3000" * depth + label))
    choices = [("", empty_label)] if empty_label is not None else []
    for street_id, options in groups.items():
        street = streets.get(street_id)
        choices.append((street.name if street else gettext("其他区域"), options))
    return choices


class AreaTreeField(forms.ModelChoiceField):
    """A ModelChoiceField over areas whose drop-down is the tree of area_tree_choices (optgroups by street)."""

    @property
    def choices(self):
        return area_tree_choices(self.queryset if self.queryset is not None else [], self.empty_label)

    @choices.setter
    def choices(self, value):
        forms.ChoiceField.choices.fset(self, value)


class SubjectListForm(forms.Form):
    """The filters of the /subjects/ page, for drawing them with labels (the filtering is SubjectFilter's)."""

    q = forms.CharField(label=_("关键字"), required=False,
                        widget=forms.TextInput(attrs={"placeholder": _("名称/执照号/地址"), "type": "search"}))
    area = AreaTreeField(queryset=None, required=False, label=_("区域"), empty_label=_("全部区域"))
    category = forms.ChoiceField(label=_("类别"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)

    def __init__(self, *args, areas, categories, extra_filters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["category"].choices = [("", _("全部类别"))] + [(c.code, c.name) for c in categories]
        self.fields["status"].choices = [("", _("全部状态"))] + list(SubjectStatus.choices)
        # Filters other apps add to SubjectFilter (credit's colour) get a labelled drop-down too.
        for name, label, choices in extra_filters:
            self.fields[name] = forms.ChoiceField(label=label, required=False, choices=[("", _("全部"))] + list(choices))


def user_area_choices(areas):
    """The tree of areas a user can be bound to: the district on top, then each street's tree."""
    areas = list(areas)
    top = [(a.pk, gettext("%(name)s（全区）") % {"name": a.name}) for a in areas if a.kind == AreaKind.DISTRICT]
    tree = area_tree_choices([a for a in areas if a.kind != AreaKind.DISTRICT])
    return ([(gettext("全区"), top)] if top else []) + tree


class AreaTreeMultipleField(forms.ModelMultipleChoiceField):
    """Areas to bind a user to, as checkboxes grouped by street (the tree of user_area_choices)."""

    widget = forms.CheckboxSelectMultiple

    @property
    def choices(self):
        return user_area_choices(self.queryset if self.queryset is not None else [])

    @choices.setter
    def choices(self, value):
        forms.ChoiceField.choices.fset(self, value)


class UserFilterForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), required=False)
    area = AreaTreeField(queryset=None, required=False, label=_("区域"), empty_label=_("全部区域"))
    active = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部")), ("yes", _("在用")), ("no", _("已停用"))])

    def __init__(self, *args, areas, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["role"].choices = [("", _("全部角色"))] + list(roles)


class UserForm(forms.Form):
    """Create or edit an account: role and areas (only within the editor's). No staff or superuser flag."""

    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("角色"))
    areas = AreaTreeMultipleField(queryset=None, label=_("辖区"))
    password = forms.CharField(label=_("初始密码"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("留空则生成一次性密码，只显示一次。"))

    def __init__(self, *args, areas, roles, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["areas"].queryset = areas
        self.fields["role"].choices = list(roles)
        if editing:  # the username stays; the password has its own reset form
            del self.fields["username"], self.fields["password"]


class PasswordResetForm(forms.Form):
    password = forms.CharField(label=_("新密码"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("留空则生成一次性密码，只显示一次。"))
