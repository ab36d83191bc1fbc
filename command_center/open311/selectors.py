"""Reads for GeoReport v2: the services (our active problem types) and the service requests (events).

Reads are public, as the spec has them (GET services / requests need no api_key). They therefore carry
no personal data: no reporter name, phone, client or officer ever appears in a service request.

Status mapping (the spec knows only open and closed):
- open: new, dispatched, accepted, on_site, deliberation — the event is still being worked on;
- closed: resolved, closed, rejected, duplicate, transferred — the problem has been handled (resolved
  only awaits the citizen's evaluation) or the event has left our hands (rejected / merged / transferred).
`status_notes` tells the difference in Chinese (the latest timeline note, else our status label).
"""
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from command_center.choices import OPEN_STATUSES, Action, PhotoKind, Status
from command_center.models import Deadline, Event, EventPhoto, TimelineEntry
from core.exceptions import NotFound, ValidationFailed
from enforcement import selectors as enforcement_selectors

MAX_ID = 2**63 - 1
DEFAULT_DAYS = 90
MAX_ROWS = 1000
# Before photo records existed, a posted media_url was kept as the description's last line, after this
# prefix: such rows still read back with their media_url (new ones are EventPhoto link records).
MEDIA_PREFIX = "附图："


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
        raise NotFound(f"service_code {code} 不存在。")
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
    # Photo lines say what was uploaded, not where the request stands.
    latest_note = (TimelineEntry.objects.filter(event=OuterRef("pk")).exclude(note="").exclude(action=Action.PHOTO)
                   .order_by("-at", "-id"))
    media = EventPhoto.objects.filter(event=OuterRef("pk"), kind=PhotoKind.MEDIA_URL).order_by("id")
    last_due = Deadline.objects.filter(event=OuterRef("pk"), cancelled_at__isnull=True).order_by("-due_at", "-id")
    return (
        Event.objects.select_related("team", "department")
        .only(
            "id", "status", "problem_type_code", "problem_type_name", "description", "lat", "lng", "address",
            "created_at", "updated_at", "team__name", "department__name",
        )
        .annotate(latest_note=Subquery(latest_note.values("note")[:1]),
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
        raise ValidationFailed(fields={field: ["必须是 W3C 日期时间，例如 2026-11-23T10:15:00+08:00。"]})
    return when


def _ids(value: str) -> list[int]:
    ids = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 0 < int(part) <= MAX_ID:
            raise ValidationFailed(fields={"service_request_id": [f"无效的编号：{part[:50]}。"]})
        ids.append(int(part))
    return ids[:MAX_ROWS]


def service_requests(params, now=None) -> list[Event]:
    """GET requests. `service_request_id` (comma list) overrides every other filter, as the spec says.
    Otherwise: `service_code`, `status` (open/closed), `start_date` / `end_date` on the requested time;
    without dates the last 90 days, a range may not span more than 90 days; at most 1,000 rows, newest first."""
    now = now or timezone.now()
    qs = _requests_base()
    ids = params.get("service_request_id", "")
    if ids.strip():
        return list(qs.filter(pk__in=_ids(ids)).order_by("-created_at", "-id")[:MAX_ROWS])
    code = params.get("service_code", "").strip()
    if code:
        qs = qs.filter(problem_type_code__in=[c.strip() for c in code.split(",") if c.strip()])
    status = params.get("status", "").strip().lower()
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if not wanted <= {"open", "closed"}:
            raise ValidationFailed(fields={"status": ["必须是 open 或 closed。"]})
        if wanted == {"open"}:
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif wanted == {"closed"}:
            qs = qs.exclude(status__in=OPEN_STATUSES)
    start = _parse_when(params.get("start_date", ""), "start_date")
    end = _parse_when(params.get("end_date", ""), "end_date")
    span = timedelta(days=DEFAULT_DAYS)
    if start is None and end is None:
        start = now - span
    elif start is None:
        start = end - span
    elif end is None:
        end = start + span
    elif end < start:
        raise ValidationFailed(fields={"end_date": ["不能早于 start_date。"]})
    elif end - start > span:
        raise ValidationFailed(fields={"end_date": [f"查询范围不能超过 {DEFAULT_DAYS} 天。"]})
    qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    return list(qs.order_by("-created_at", "-id")[:MAX_ROWS])


def service_request(request_id: str) -> Event:
    try:
        pk = int(request_id)
        if not 0 < pk <= MAX_ID:
            raise ValueError(pk)
        return _requests_base().get(pk=pk)
    except (Event.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(f"service_request_id {str(request_id)[:50]} 不存在。")


def request_row(event: Event) -> dict:
    """One service request as the spec lists its fields (no reporter data: reads are public)."""
    description, media_url = split_media(event.description)
    media_url = event.media_link or media_url
    agency = (event.team.name if event.team_id else "") or (event.department.name if event.department_id else "")
    return {
        "service_request_id": str(event.pk),
        "status": open311_status(event.status),
        "status_notes": event.latest_note or Status(event.status).label,
        "service_name": event.problem_type_name,
        "service_code": event.problem_type_code,
        "description": description,
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
