"""Telephone numbers people type in (a subject's contact phone, in forms, the API and imports): checked
with phonenumbers (Google's libphonenumber), read as Chinese numbers unless they start with +."""
import phonenumbers
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed

REGION = "CN"


def phone_error(value: str) -> str | None:
    """Why `value` is not a phone number one can call (None when it is, or when it is blank)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return _("不是有效的电话号码：%(value)s（手机 11 位；座机请带区号，如 0571-88889999）。") % {"value": value}
    return None


def check_phone(value: str, field: str = "contact_phone") -> str:
    """The number, stripped; ValidationFailed under `field` when it is not a valid one."""
    error = phone_error(value)
    if error:
        raise ValidationFailed(fields={field: [error]})
    return (value or "").strip()
