"""Sensor readings: a monitor's readings stored once per device and time; a reading over a sensor rule's
limit posts a sensor_exceedance fact to the ledger.
"""
import math
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.roles import API_CLIENT, BUREAU_STAFF, DISPATCHER, has_role
from credit.choices import FactKind
from credit.models import CreditFact, SensorReading
from credit.services.facts import clean_when, post_fact
from credit.services.policies import policy_for_subject
from grids import selectors as grid_selectors
from grids.models import Subject


SENSOR_ROLES = (API_CLIENT, BUREAU_STAFF, DISPATCHER)


def sensor_value_range(metric: str) -> tuple[float, float]:
    """The plausible (low, high) of a metric's readings (settings.CREDIT_SENSOR_VALUE_RANGES, "*" otherwise)."""
    ranges = settings.CREDIT_SENSOR_VALUE_RANGES
    low, high = ranges.get(metric, ranges["*"])
    return float(low), float(high)


def record_sensor_reading(actor, *, device_id, subject, metric, value, measured_at):
    """Store a monitor's reading; (reading, created). The same device and time again answers the first
    reading (created False), or 409 if the values differ. A reading over a sensor rule's limit posts a
    sensor_exceedance fact (at most one per subject, metric and day), which the rules count in days."""
    if not has_role(actor, *SENSOR_ROLES):
        raise Forbidden(_("您的角色无权上报监测数据。"))
    errors = {}
    if not grid_selectors.user_covers_area(actor, subject.grid):  # another street's: as if it did not exist
        errors["subject"] = [_("管理对象不存在。")]
    device_id = (device_id or "").strip() if isinstance(device_id, str) else device_id
    if not isinstance(device_id, str) or not device_id or len(device_id) > 64:
        errors["device_id"] = [_("必填，最多 64 个字符。")]
    metric = metric.strip() if isinstance(metric, str) else metric
    if not isinstance(metric, str) or not metric or len(metric) > 32:
        errors["metric"] = [_("必填，最多 32 个字符。")]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errors["value"] = [_("必须是数值。")]
    elif "metric" not in errors:
        low, high = sensor_value_range(metric)
        if not low <= value <= high:  # a broken or forged monitor must not turn a shop red
            errors["value"] = [_("%(metric)s 的数值必须在 %(low)g 到 %(high)g 之间。") % {
                "metric": metric, "low": low, "high": high}]
    try:
        measured_at = clean_when(measured_at, "measured_at") if measured_at is not None else None
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if measured_at is None and "measured_at" not in errors:
        errors["measured_at"] = [_("此字段为必填项。")]
    elif measured_at is not None and measured_at < timezone.now() - timedelta(days=settings.CREDIT_SENSOR_MAX_AGE_DAYS):
        errors["measured_at"] = [_("监测时间过早（最多 %(days)s 天前）。") % {"days": settings.CREDIT_SENSOR_MAX_AGE_DAYS}]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        existing = SensorReading.objects.filter(device_id=device_id, measured_at=measured_at).first()
        if existing is None:
            try:
                with transaction.atomic():
                    reading = SensorReading.objects.create(
                        device_id=device_id, subject=subject, metric=metric, value=float(value),
                        measured_at=measured_at, posted_by=actor if getattr(actor, "is_authenticated", False) else None)
            except IntegrityError:
                existing = SensorReading.objects.get(device_id=device_id, measured_at=measured_at)
        if existing is not None:
            if (existing.subject_id, existing.metric, existing.value) != (subject.pk, metric, float(value)):
                raise Conflict(_("该设备在此时间已有不同的监测数据。"))
            return existing, False
        audit.record(actor, "credit.sensor_reading", reading, changes={"value": [None, reading.value]})
        _post_exceedance_if_over(actor, reading)
    return reading, True


def _post_exceedance_if_over(actor, reading: SensorReading):
    policy = policy_for_subject(Subject.objects.select_related("category").get(pk=reading.subject_id))
    limits = [float(r["limit"]) for r in policy.sensor_rules if r.get("metric") == reading.metric]
    if not limits or reading.value <= min(limits):
        return
    local = timezone.localtime(reading.measured_at)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    same_day = CreditFact.objects.filter(
        subject_id=reading.subject_id, kind=FactKind.SENSOR_EXCEEDANCE, metric=reading.metric,
        withdrawn_at__isnull=True, occurred_at__gte=day_start, occurred_at__lt=day_start + timedelta(days=1),
    ).values_list("value", flat=True)
    # One fact per day is enough for the day count; a higher reading the same day adds its own fact
    # so the day's maximum stays on the ledger.
    if any(v is not None and v >= reading.value for v in same_day):
        return
    post_fact(reading.subject_id, FactKind.SENSOR_EXCEEDANCE, source_app="credit", source_model="sensorreading",
              source_pk=reading.pk, occurred_at=reading.measured_at, metric=reading.metric, value=reading.value,
              source_text=_("%(device)s %(metric)s=%(value)s 超过限值 %(limit)s") % {
                  "device": reading.device_id, "metric": reading.metric, "value": reading.value, "limit": min(limits)},
              actor=actor)
