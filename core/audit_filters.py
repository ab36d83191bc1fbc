"""The /audit/ page's filters: pickers, not codes (person, kind of action, object kind + id or words,
a date range). Choices come from the registry (core.audit_words) and the user table."""
from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit_words
from core.models import AuditLog

SYSTEM = "system"


def _people():
    """Everyone who appears in the log (not every account: the large demo has thousands of officers)."""
    users = (get_user_model().objects.filter(pk__in=AuditLog.objects.filter(actor__isnull=False).values("actor"))
             .order_by("username").only("id", "username", "first_name", "last_name"))
    named = [(str(u.pk), f"{u.get_full_name().strip()} ({u.get_username()})" if u.get_full_name().strip()
              else u.get_username()) for u in users]
    return [("", _("全部人员")), (SYSTEM, _("系统"))] + named


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(label=_("操作人"), required=False)
    action = forms.ChoiceField(label=_("动作类型"), required=False)
    object_type = forms.ChoiceField(label=_("对象类型"), required=False)
    object_id = forms.CharField(label=_("对象编号"), required=False, max_length=64)
    q = forms.CharField(label=_("对象名称包含"), required=False, max_length=100)
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = _people()
        self.fields["action"].choices = [("", _("全部动作"))] + audit_words.action_choices()
        self.fields["object_type"].choices = [("", _("全部对象类型"))] + audit_words.object_choices()

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data

    def filter(self, qs):
        """The records that match the valid filters (a form with errors matches nothing)."""
        if not self.is_valid():
            return qs.none()
        d = self.cleaned_data
        if d["actor"] == SYSTEM:
            qs = qs.filter(actor__isnull=True, actor_label=SYSTEM)
        elif d["actor"]:
            qs = qs.filter(actor_id=int(d["actor"]))
        for name in ("action", "object_type", "object_id"):
            if d[name]:
                qs = qs.filter(**{name: d[name]})
        if d["q"]:
            qs = qs.filter(object_repr__icontains=d["q"])
        if d["date_from"]:
            qs = qs.filter(at__gte=_start(d["date_from"]))
        if d["date_to"]:
            qs = qs.filter(at__lt=_start(d["date_to"], days=1))
        return qs


def _start(day, days=0):
    """The first instant of `day` (+ `days`) in the district's time zone."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=days), time.min))