"""Reads for GeoReport v2: the services (our active problem types) and the service requests (events).

Reads are public, as the spec has them (GET services / requests need no api_key). They therefore carry
no personal data: no reporter name, phone, client or officer ever appears in a service request.

Status mapping (the spec knows only open and closed):
- open: new, dispatched, accepted, on_site, deliberation — the event is still being worked on;
- closed: resolved, closed, rejected, duplicate, transferred — the problem has been handled (resolved
  only awaits the citizen's evaluation) or the event has left our hands (rejected / merged / transferred).
`status_notes` tells the difference with a fixed public phrase per status (and, for some, per last
action), or the note a dispatcher published on purpose (`services.set_public_note`) until the next step:
never another timeline note, which carries officers' names, distances and workloads, or the reason a
dispatcher typed. Descriptions are read with phones, resident IDs and plates masked (core.masking).
"""
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from command_center.choices import OPEN_STATUSES, Action, PhotoKind, Status
from command_center.models import Deadline, Event, EventPhoto, TimelineEntry
from core.exceptions import NotFound, ValidationFailed
from core.ids import MAX_ID
from core.masking import mask_personal_text
from enforcement import selectors as enforcement_selectors

DEFAULT_DAYS = 90
MAX_ROWS = 1000
# Before photo records existed, a posted media_url was kept as the description's last line, after this
# prefix: such rows still read back with their media_url (new ones are EventPhoto link records).
MEDIA_PREFIX = "附图："  # a marker inside stored descriptions, not a message: never translated

# What the public may read about where a request stands (FixMyStreet and others republish status_notes
# as public update text). Timeline notes never leave: they name officers and carry internal reasons.
PUBLIC_NOTES = {
    Status.NEW: _("已受理"),
    Status.DISPATCHED: _("已派遣处置人员"),
    Status.ACCEPTED: _("处置人员已签收"),
    Status.ON_SITE: _("处置人员已到场"),
    Status.DELIBERATION: _("议事协商中"),
    Status.RESOLVED: _("已处置，待评价"),
    Status.UNDER_REVIEW: _("已处置，待审核"),
    Status.CLOSED: _("已办结"),
    Status.REJECTED: _("不予受理"),
    Status.DUPLICATE: _("已与相同诉求合并办理"),
    Status.TRANSFERRED: _("已转交其他部门办理"),
}
# While a request is open, its last action can say more than its status.
PUBLIC_ACTION_NOTES = {
    Action.ESCALATE: _("已升级督办"),
    Action.DECLINE: _("正在重新派遣处置人员"),
}
# Timeline lines that say nothing about where the request stands.
SILENT_ACTIONS = (Action.PHOTO, Action.BREACH, Action.SEVERITY)


def open311_status(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


def w3c(value) -> str | None:
    """2026-11-23T10:15:00+08:00: seconds, with the local (Asia/Shanghai) offset."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def split_media(description: str) -> tuple[str, str]:
    """(description, media_url) from a stored description (see MEDIA_PREFIX)."""
    head, sep, last = (description or "").rpartition("\n")
    if sep and last.startswith(MEDIA_PREFIX):
        return head, last[len(MEDIA_PREFIX):]
    return description or "", ""


# --- services ---------------------------------------------------------------------------------

def services() -> QuerySet:
    return enforcement_selectors.problem_types().filter(active=True).order_by("group", "code")


def service(code: str):
    pt = services().filter(code=code).first()
    if pt is None:
        raise NotFound(_("service_code %(code)s 不存在或已停用。") % {"code": code[:64]})
    return pt


def service_row(pt) -> dict:
    return {
        "service_code": pt.code, "service_name": pt.name, "description": pt.description or pt.name,
        "metadata": False, "type": "realtime", "keywords": pt.matter_code, "group": pt.group,
    }


def changeset():
    """The last change of the service list (for discovery's changeset)."""
    last = enforcement_selectors.problem_types().aggregate(at=Max("updated_at"))["at"]
    return last or timezone.now()


# --- service requests -------------------------------------------------------------------------

def _requests_base() -> QuerySet:
    last_action = (TimelineEntry.objects.filter(event=OuterRef("pk")).exclude(action__in=SILENT_ACTIONS)
                   .order_by("-at", "-id"))
    media = EventPhoto.objects.filter(event=OuterRef("pk"), kind=PhotoKind.MEDIA_URL).order_by("id")
    last_due = Deadline.objects.filter(event=OuterRef("pk"), cancelled_at__isnull=True).order_by("-due_at", "-id")
    return (
        Event.objects.select_related("team", "department")
        .only(
            "id", "status", "problem_type_code", "problem_type_name", "description", "lat", "lng", "address",
            "created_at", "updated_at", "team__name", "department__name",
        )
        .annotate(last_action=Subquery(last_action.values("action")[:1]),
                  last_note=Subquery(last_action.values("note")[:1]),
                  expected_at=Subquery(last_due.values("due_at")[:1]),
                  media_link=Subquery(media.values("url")[:1]))
    )


def _parse_when(value: str, field: str):
    value = (value or "").strip()
    if not value:
        return None
    try:
        when = parse_datetime(value)
        if when is not None and timezone.is_naive(when):
            when = when.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
        if when is not None:
            # Keep a 90-day window around it representable (year 1 / 9999 would overflow).
            when - timedelta(days=DEFAULT_DAYS), when + timedelta(days=DEFAULT_DAYS)
    except (ValueError, OverflowError):
        when = None
    if when is None:
        raise ValidationFailed(fields={field: [_("必须是 W3C 日期时间，例如 2026-11-23T10:15:00+08:00。")]})
    return when


def _values(params, name: str) -> list[str]:
    """Every value of a parameter: repeated (status=open&status=closed) and comma-separated alike."""
    raw = params.getlist(name) if hasattr(params, "getlist") else [params.get(name, "")]
    return [part.strip() for value in raw for part in (value or "").split(",") if part.strip()]


def _ids(parts: list[str]) -> list[int]:
    ids = []
    for part in parts:
        if not part.isdigit() or not 0 < int(part) <= MAX_ID:
            raise ValidationFailed(fields={"service_request_id": [_("无效的编号：%(part)s。") % {"part": part[:50]}]})
        ids.append(int(part))
    return ids[:MAX_ROWS]


def service_requests(params, now=None) -> list[Event]:
    """GET requests. `service_request_id` overrides every other filter, as the spec says.
    Otherwise: `service_code`, `status` (open/closed), `start_date` / `end_date` on the requested time;
    without dates the last 90 days, a range may not span more than 90 days; at most 1,000 rows, newest first.
    List parameters may be repeated or comma-separated. Dates compare at whole seconds, as they are shown:
    start_date from the start of its second, end_date to the end of its second (both inclusive)."""
    now = now or timezone.now()
    qs = _requests_base()
    ids = _values(params, "service_request_id")
    if ids:
        return list(qs.filter(pk__in=_ids(ids)).order_by("-created_at", "-id")[:MAX_ROWS])
    codes = _values(params, "service_code")
    if codes:
        qs = qs.filter(problem_type_code__in=codes)
    wanted = {s.lower() for s in _values(params, "status")}
    if wanted:
        if not wanted <= {"open", "closed"}:
            raise ValidationFailed(fields={"status": [_("必须是 open 或 closed。")]})
        if wanted == {"open"}:
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif wanted == {"closed"}:
            qs = qs.exclude(status__in=OPEN_STATUSES)
    start = _parse_when(params.get("start_date", ""), "start_date")
    end = _parse_when(params.get("end_date", ""), "end_date")
    start = start and start.replace(microsecond=0)
    end = end and end.replace(microsecond=0)
    span = timedelta(days=DEFAULT_DAYS)
    if start is None and end is None:
        start = now - span
    elif start is None:
        start = end - span
    elif end is None:
        end = start + span
    elif end < start:
        raise ValidationFailed(fields={"end_date": [_("不能早于 start_date。")]})
    elif end - start > span:
        raise ValidationFailed(fields={"end_date": [_("查询范围不能超过 %(default_days)s 天。")
            % {"default_days": DEFAULT_DAYS}]})
    qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end + timedelta(seconds=1))
    return list(qs.order_by("-created_at", "-id")[:MAX_ROWS])


def service_request(request_id: str) -> Event:
    try:
        pk = int(request_id)
        if not 0 < pk <= MAX_ID:
            raise ValueError(pk)
        return _requests_base().get(pk=pk)
    except (Event.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("service_request_id %(request_id)s 不存在。") % {"request_id": str(request_id)[:50]})


def public_note(status: str, last_action: str | None, last_note: str = "") -> str:
    if last_action == Action.PUBLIC_NOTE and last_note:  # written for the public, masked all the same
        return mask_personal_text(last_note)
    if status in OPEN_STATUSES and last_action in PUBLIC_ACTION_NOTES:
        return str(PUBLIC_ACTION_NOTES[last_action])
    return str(PUBLIC_NOTES.get(status, status))


def request_row(event: Event) -> dict:
    """One service request as the spec lists its fields. Reads are public: no reporter, client or officer,
    a public phrase for status_notes and the description masked."""
    description, media_url = split_media(event.description)
    media_url = event.media_link or media_url
    agency = (event.team.name if event.team_id else "") or (event.department.name if event.department_id else "")
    return {
        "service_request_id": str(event.pk),
        "status": open311_status(event.status),
        "status_notes": public_note(event.status, event.last_action, event.last_note),
        "service_name": event.problem_type_name,
        "service_code": event.problem_type_code,
        "description": mask_personal_text(description),
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": w3c(event.created_at),
        "updated_datetime": w3c(event.updated_at),
        "expected_datetime": w3c(event.expected_at),
        "address": event.address,
        "address_id": "",
        "zipcode": "",
        "lat": event.lat,
        "long": event.lng,
        "media_url": media_url,
    }
