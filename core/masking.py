"""Masking personal data: one rule for a phone field and for numbers found in free text.

The rule (`mask_value`): 11 characters or more keep the first 3 and the last 4 (138****5678,
330***********123X); shorter values keep only their last third (******99, *****45), at most 4 characters
are never shown. The length stays, so a reader sees that something was there.

`mask_personal_text` finds, in text anyone may read (a public Open311 description), mainland mobile
numbers, landlines with an area code, 18-character resident ID numbers and vehicle plates, and masks each
with that rule. Bare numbers that could be anything (a 6-digit postcode, an event id, an 8-digit number
without an area code) are left alone: masking them would hide the text's meaning for no privacy gain.
"""
import re

# Not preceded or followed by a digit / Latin letter, so a number inside a longer one never matches.
_START = r"(?<![0-9A-Za-z])"
_END = r"(?![0-9A-Za-z])"
_RESIDENT_ID = (r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]")
# 13812345678, 138-1234-5678, 138 1234 5678, +86 138…
_MOBILE = r"(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}"
# 0571-88889999, 057188889999, (0571)88889999, 010 12345678: an area code 0xx / 0xxx, then 7-8 digits.
_LANDLINE = r"(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[- ]?\d{7,8}"
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# 浙A12345, 浙A·12345, 浙AD12345 (new energy: 6 characters after the letter), 浙A1234学.
_PLATE = rf"[{_PROVINCES}][A-HJ-NP-Za-hj-np-z][·• ]?[A-HJ-NP-Za-hj-np-z0-9]{{4,5}}[A-HJ-NP-Za-hj-np-z0-9挂学警港澳]"
PERSONAL_NUMBER = re.compile(
    rf"{_START}(?:{_RESIDENT_ID}|{_MOBILE}|{_LANDLINE}){_END}|(?<![0-9A-Za-z{_PROVINCES}]){_PLATE}{_END}"
)


def mask_value(value: str) -> str:
    """The one masking rule (see the module's docstring)."""
    if not value:
        return value
    n = len(value)
    if n <= 4:
        return "*" * n
    head, tail = (3, 4) if n >= 11 else (0, n // 3)
    return value[:head] + "*" * (n - head - tail) + value[n - tail:]


def mask_phone(phone: str) -> str:
    """A phone field for readers whose role may not see full numbers (core.roles.may_see_phones)."""
    return mask_value(phone)


def mask_personal_text(text: str) -> str:
    """Free text with every phone, resident ID and vehicle plate in it masked."""
    if not text:
        return text
    return PERSONAL_NUMBER.sub(lambda m: mask_value(m.group(0)), text)
