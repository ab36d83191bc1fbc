"""The query parameters every figure takes (`area`, `from`, `to`, `group_by`), checked once: bad values
are a 400 with the field named; an area outside the asker's is a 404 (as if it did not exist)."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.choices import GroupBy
from core.exceptions import NotFound, ValidationFailed
from grids import selectors as grid_selectors
from grids.models import Area

MAX_DAYS = 3 * 366  # a period longer than this is refused (the figures are for periods people compare)


@dataclass(frozen=True)
class Period:
    area: Area | None  # None: everything the user covers
    start: datetime  # aware, inclusive (midnight Asia/Shanghai of `from`)
    end: datetime  # aware, exclusive (midnight after `to`)
    date_from: date
    date_to: date
    group_by: str | None


def _date(raw, field):
    try:
        return date.fromisoformat(str(raw))
    except (TypeError, ValueError):
        raise ValidationFailed(fields={field: [_("日期格式应为 YYYY-MM-DD。")]})


def parse(user, query, *, default_days=30, group_by_allowed=tuple(GroupBy.values)) -> Period:
    """`query`: a QueryDict or dict of strings. Dates are calendar days in the server's time zone
    (Asia/Shanghai): `from` 00:00 to the end of `to`, both included; default: the last `default_days` days."""
    today = timezone.localdate()
    date_to = _date(query.get("to"), "to") if query.get("to") else today
    date_from = _date(query.get("from"), "from") if query.get("from") else date_to - timedelta(days=default_days - 1)
    errors = {}
    if date_from > date_to:
        errors["from"] = [_("开始日期不能晚于结束日期。")]
    elif (date_to - date_from).days >= MAX_DAYS:
        errors["to"] = [_("统计区间最长 %(days)s 天。") % {"days": MAX_DAYS}]
    group_by = query.get("group_by") or None
    if group_by is not None and group_by not in group_by_allowed:
        errors["group_by"] = [_("可选值：%(values)s。") % {"values": ", ".join(group_by_allowed)}]
    area = None
    raw_area = query.get("area")
    if raw_area not in (None, ""):
        area = Area.objects.filter(code=str(raw_area)[:64]).first()
        if area is None or not grid_selectors.user_covers_area(user, area):
            raise NotFound(_("区域不存在。"))
    if errors:
        raise ValidationFailed(fields=errors)
    return make_period(area, date_from, date_to, group_by)


def make_period(area, date_from: date, date_to: date, group_by: str | None = None) -> Period:
    """The period of calendar days date_from … date_to (both included) in the server's time zone."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date_from, time.min), tz)
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min), tz)
    return Period(area=area, start=start, end=end, date_from=date_from, date_to=date_to, group_by=group_by)
