"""Serializer fields shared by the apps."""
from datetime import datetime, timezone

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
