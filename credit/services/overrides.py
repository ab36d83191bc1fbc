"""Overrides: bureau staff set a subject's colour by hand, with a reason, until an expiry (or until they end
it). The computed colour stays beside it; the night's rescore ends an override past its expiry.
"""
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import Forbidden, NotFound, ValidationFailed
from core.roles import BUREAU_STAFF, has_role
from credit.choices import Color, HistoryCause
from credit.models import CreditOverride
from credit.services.rescoring import rescore_subject
from grids import selectors as grid_selectors
from grids.models import Subject


def _require_bureau_for_subject(actor, subject: Subject):
    if not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以人工调整信用颜色。"))
    if not grid_selectors.user_covers_area(actor, subject.grid):
        raise NotFound(_("管理对象不存在。"))


def set_override(actor, subject: Subject, *, color, reason, expires_at) -> CreditOverride:
    """Bureau staff set the colour by hand until `expires_at`; a live override is ended first."""
    _require_bureau_for_subject(actor, subject)
    errors = {}
    if color not in Color.values:
        errors["color"] = [_("颜色必须是 green、yellow 或 red。")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请填写调整原因。")]
    elif len(reason) > 255:
        errors["reason"] = [_("最多 255 个字符。")]
    try:
        expires = _clean_expiry(expires_at)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    now = timezone.now()
    with transaction.atomic():
        Subject.objects.select_for_update(of=("self",)).filter(pk=subject.pk).first()
        for old in CreditOverride.objects.filter(subject=subject, ended_at__isnull=True):
            old.ended_at, old.ended_by, old.end_reason = now, actor, _("被新的调整取代")
            old.save(update_fields=["ended_at", "ended_by", "end_reason"])
        override = CreditOverride.objects.create(subject=subject, color=color, reason=reason, expires_at=expires,
                                                 created_by=actor)
        audit.record(actor, "credit.override_set", override, changes={
            "color": [None, color], "reason": [None, reason], "expires_at": [None, expires]})
        # In the same transaction (one subject, cheap): the colour and its history commit with the override.
        rescore_subject(subject.pk, cause=HistoryCause.OVERRIDE, actor=actor)
    return override


def _clean_expiry(value):
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValidationFailed(fields={"expires_at": [_("时间格式无效。")]})
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationFailed(fields={"expires_at": [_("请填写到期时间。")]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value <= timezone.now():
        raise ValidationFailed(fields={"expires_at": [_("到期时间必须晚于现在。")]})
    if value > timezone.now() + timedelta(days=366):
        raise ValidationFailed(fields={"expires_at": [_("人工调整最长一年。")]})
    return value


def end_override(actor, subject: Subject, *, reason="") -> CreditOverride:
    _require_bureau_for_subject(actor, subject)
    with transaction.atomic():
        override = CreditOverride.objects.select_for_update().filter(subject=subject, ended_at__isnull=True).first()
        if override is None:
            raise NotFound(_("该对象没有生效中的人工调整。"))
        now = timezone.now()
        override.ended_at, override.ended_by = now, actor
        override.end_reason = (reason or "").strip()[:255] or _("人工撤销")
        override.save(update_fields=["ended_at", "ended_by", "end_reason"])
        audit.record(actor, "credit.override_ended", override, changes={"ended_at": [None, now]})
        rescore_subject(subject.pk, cause=HistoryCause.OVERRIDE_ENDED, actor=actor)
    return override
