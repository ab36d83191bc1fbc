"""Shared checks of the inspect-once services: the street, the month, officers and the daily cap, days,
ids, the platform's own reader. Used by every other module of the package."""
import calendar
from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import Forbidden, NotFound, ValidationFailed
from core.ids import MAX_ID
from core.roles import TEAM_LEADER, has_role
from credit import effort
from enforcement import selectors as catalog
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.models import Area, Department, Officer, Subject
from inspections import selectors
from inspections.choices import DueReason
from inspections.models import Visit
from inspections.services.rules import daily_cap

SOURCE_APP, FINDING_MODEL = "inspections", "finding"
REASON_PRIORITY = {code: i for i, code in enumerate((
    DueReason.REINSPECTION, DueReason.RED_REINSPECT, DueReason.RED_NEIGHBOUR, DueReason.YELLOW_LOOKBACK,
    DueReason.YELLOW_PATROL, DueReason.SCENARIO, DueReason.GREEN_SPOT_CHECK, DueReason.MANUAL, DueReason.ONE_OFF))}
MAX_SIGNATURE_BYTES = 1024 * 1024
MAX_PHOTO_BYTES = 8 * 1024 * 1024


# --- shared checks ------------------------------------------------------------------------------

def street_for(user, code) -> Area:
    """The plan's street by code: 400 unknown, 404 outside the user's areas."""
    if not code or not isinstance(code, str):
        raise ValidationFailed(fields={"street": [_("此字段为必填项（镇街编码）。")]})
    street = Area.objects.defer("boundary").filter(code=code[:32], kind=AreaKind.STREET).first()
    if street is None:
        raise ValidationFailed(fields={"street": [_("未知镇街：%(code)s。") % {"code": code[:32]}]})
    if not grid_selectors.user_covers_area(user, street):
        raise NotFound(_("镇街不存在。"))
    return street


def plan_month(raw) -> date:
    if not raw or not isinstance(raw, str):
        raise ValidationFailed(fields={"month": [_("此字段为必填项（YYYY-MM）。")]})
    first, _last = effort.parse_month(raw)
    if first < timezone.localdate().replace(day=1):
        raise ValidationFailed(fields={"month": [_("不能为过去的月份制定计划。")]})
    return first


def month_last(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def is_workday(day: date) -> bool:
    """Mon–Fri, with China's public holidays off and their make-up days on (chinese-calendar), where the
    library knows the year; otherwise Mon–Fri."""
    try:
        import chinese_calendar

        return chinese_calendar.is_workday(day)
    except (NotImplementedError, ImportError):
        return day.weekday() < 5


def working_days(first: date, since: date | None = None) -> list[date]:
    last = month_last(first)
    day = max(first, since or first)
    out = []
    while day <= last:
        if is_workday(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def require_planner(actor, street: Area):
    if actor is not None and not has_role(actor, *selectors.PLAN_WRITE_ROLES):
        raise Forbidden(_("只有街道执法队队长或区执法局工作人员可以编制检查计划。"))
    if actor is not None and not grid_selectors.user_covers_area(actor, street):
        raise NotFound(_("镇街不存在。"))


def require_leader(actor, street: Area):
    """The street's team leader: a team leader bound to the street (or to an area holding it)."""
    if actor is None:
        return
    if not has_role(actor, TEAM_LEADER) or not grid_selectors.user_covers_area(actor, street):
        raise Forbidden(_("只有本街道执法队队长可以批准检查计划。"))


def _int_id(value, field) -> int:
    if isinstance(value, bool):
        raise ValidationFailed(fields={field: [_("必须是整数ID。")]})
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationFailed(fields={field: [_("必须是整数ID。")]})
    if not 0 < number <= MAX_ID:
        raise ValidationFailed(fields={field: [_("对象不存在。")]})
    return number


def _subject_in_street(actor, street: Area, subject_id) -> Subject:
    subject_id = _int_id(subject_id, "subject")
    qs = grid_selectors.subjects_for(actor) if actor is not None else Subject.objects.all()
    subject = qs.filter(pk=subject_id, grid__path__startswith=street.path).select_related("grid").first()
    if subject is None:
        raise ValidationFailed(fields={"subject": [_("该管理对象不在本街道。")]})
    return subject


def _clean_officers(street: Area, officer_ids, field="officers") -> list[Officer]:
    if not isinstance(officer_ids, (list, tuple)) or not officer_ids:
        raise ValidationFailed(fields={field: [_("请至少选择一名检查人员。")]})
    ids = sorted({_int_id(o, field) for o in officer_ids})
    # Locked in id order: two planners filling the same officer's day queue up here, not past the cap.
    found = {o.pk: o for o in Officer.objects.select_for_update(of=("self",)).filter(pk__in=ids).select_related("team")}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(fields={field: [_("执法队员不存在：%(ids)s。") % {"ids": ", ".join(map(str, missing))}]})
    other = [o for o in found.values() if o.team.street_id != street.pk]
    if other:
        raise ValidationFailed(fields={field: [_("%(names)s 不是本街道执法队的队员。") % {
            "names": "、".join(o.name for o in other)}]})
    return [found[i] for i in ids]


def _check_cap(officers: list[Officer], day: date, exclude_visit=None):
    cap = daily_cap()
    qs = Visit.objects.filter(date=day, officers__in=officers)
    if exclude_visit is not None:
        qs = qs.exclude(pk=exclude_visit.pk)
    counts = dict(qs.values_list("officers").annotate(n=Count("id")).order_by())
    full = [o for o in officers if counts.get(o.pk, 0) + 1 > cap]
    if full:
        raise ValidationFailed(fields={"officers": [_("%(names)s 在 %(day)s 已排满 %(cap)d 次检查（每日上限）。") % {
            "names": "、".join(o.name for o in full), "day": day.isoformat(), "cap": cap}]})


def _clean_day(value, first: date | None = None, field="date") -> date:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value))
        except (TypeError, ValueError):
            raise ValidationFailed(fields={field: [_("日期格式应为 YYYY-MM-DD。")]})
    if first is not None and day.replace(day=1) != first:
        raise ValidationFailed(fields={field: [_("日期必须在计划月份内。")]})
    if day < timezone.localdate():
        raise ValidationFailed(fields={field: [_("日期不能早于今天。")]})
    return day


def _checklist_of(actor, subject: Subject) -> tuple[list[int], int]:
    merged = catalog.merged_checklist(actor if actor is not None else _system_user(), subject.pk)
    codes = [d["code"] for d in merged["departments"]]
    ids = list(Department.objects.filter(code__in=codes).values_list("pk", flat=True))
    return ids, merged["item_count"]


def _system_user():
    """The platform itself as a reader (the sweep, the demo, the bench): sees every subject."""
    return _SYSTEM


class _System:
    is_authenticated = True
    is_superuser = True
    pk = None

    def get_username(self):
        return "system"


_SYSTEM = _System()


def _int_id_or_404(value) -> int:
    try:
        return _int_id(value, "id")
    except ValidationFailed:
        raise NotFound(_("检查不存在。"))


def _clean_client_id(value, field="client_id") -> str:
    value = "" if value is None else str(value).strip()
    if not value or len(value) > 64 or not all(c.isalnum() or c in "-_" for c in value):
        raise ValidationFailed(fields={field: [_("客户端编号必填：1–64 个字母、数字、- 或 _。")]})
    return value
