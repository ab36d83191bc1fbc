"""Input fields shared by the apps, stricter than DRF's where its leniency lets nonsense in."""
from datetime import datetime, timezone

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)


class DateTimeField(serializers.DateTimeField):
    """An input time between 1970 and 9000. Before 1901 Asia/Shanghai had a local mean time offset
    (+08:05:43) that is not a valid RFC 3339 offset, so year 316 was stored and answered as an invalid
    date-time; near year 9999 the conversion overflows. No real ping, reading or expiry lies there."""

    default_error_messages = {"out_of_range": _("时间须在 1970 年至 9000 年之间。")}

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if not EARLIEST <= parsed <= LATEST:
            self.fail("out_of_range")
        return parsed



class StrictFloatField(serializers.FloatField):
    """A FloatField that refuses booleans: DRF passes `true` to float(), which makes it 1.0 (bool is an
    int subclass), so `"lat": true` would be read as a coordinate."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictNumbersMixin:
    """For ModelSerializers: the model's FloatFields become StrictFloatFields (IntegerField already refuses
    booleans: it parses str(value))."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.FloatField: StrictFloatField}


class RejectUnknownFieldsMixin:
    """Refuse fields the serializer does not declare (400 naming them) instead of dropping them: a typo
    or a field meant for another endpoint must not vanish silently."""

    unknown_field_message = _("未知字段。")

    def to_internal_value(self, data):
        unknown = sorted(set(data.keys()) - set(self.fields)) if hasattr(data, "keys") else []
        errors = {name: [self.unknown_field_message] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value
