from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from enforcement.importers import KIND_LABELS


class CatalogImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("导入内容"), choices=[(k, v) for k, v in KIND_LABELS.items()])
    file = forms.FileField(label=_("文件 (CSV/XLSX)"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件过大（上限 20 MB）。"))
        return f


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
