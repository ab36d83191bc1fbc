from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


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
