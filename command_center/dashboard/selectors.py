"""Reads behind the dispatcher's dashboard and the big screen, scoped by the asking user's areas.

"Today" is the local calendar day (settings.TIME_ZONE): a shift's figures reset at midnight, not at UTC's.
"""
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F
from django.utils import timezone

from analytics.selectors import screen as screen_figures
from command_center import submissions
from command_center.choices import OPEN_STATUSES, Severity, Source
from command_center.models import Event
from command_center.selectors import overdue_q
from grids import selectors as grid_selectors
from grids.choices import AreaKind, DutyStatus

TOP_PROBLEM_TYPES = 5


def day_bounds(now=None) -> tuple[datetime, datetime]:
    """[start, end) of the local day containing `now`, as aware datetimes."""
    now = now or timezone.now()
    day = timezone.localtime(now).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def figures_for(user, now=None) -> dict:
    """Today's figures for the header and the big screen: events by source and severity, on-time rate
    by stage, top problem types, open and overdue events, officers on duty. A fixed number of queries."""
    now = now or timezone.now()
    start, end = day_bounds(now)
    events = grid_selectors.scope(Event.objects.all(), user, "area__path")
    today = events.filter(created_at__gte=start, created_at__lt=end)

    by_source = dict(today.values_list("source").annotate(n=Count("id")).order_by())
    by_severity = dict(today.values_list("severity").annotate(n=Count("id")).order_by())
    top = list(today.values("problem_type_code").annotate(n=Count("id"), name=F("problem_type_name"))
               .order_by("-n", "problem_type_code")[: TOP_PROBLEM_TYPES * 3])
    # problem_type_name is the name at intake: the same code may carry two names across catalog versions.
    merged = {}
    for row in top:
        item = merged.setdefault(row["problem_type_code"], {"code": row["problem_type_code"], "name": row["name"], "count": 0})
        item["count"] += row["n"]
    top_types = sorted(merged.values(), key=lambda r: (-r["count"], r["code"]))[:TOP_PROBLEM_TYPES]

    open_events = events.filter(status__in=OPEN_STATUSES)
    open_by_severity = dict(open_events.values_list("severity").annotate(n=Count("id")).order_by())
    overdue = open_events.filter(overdue_q(now)).count()

    officers = grid_selectors.officers_for(user).select_related(None).prefetch_related(None)
    duty = dict(officers.values_list("duty_status").annotate(n=Count("id")).order_by())
    on_duty = sum(n for status, n in duty.items() if status != DutyStatus.OFF_DUTY)
    # Who the ranking can actually pick: on duty (not on a break either) with a fresh position.
    fresh_after = now - timedelta(seconds=getattr(settings, "COMMAND_CENTER_POSITION_FRESH_SECONDS", 300))
    dispatchable = (officers.exclude(duty_status__in=(DutyStatus.OFF_DUTY, DutyStatus.ON_BREAK))
                    .filter(last_lat__isnull=False, last_lng__isnull=False, last_position_at__gte=fresh_after).count())

    return {
        "date": timezone.localtime(now).date().isoformat(),
        "generated_at": now.isoformat(),
        "today": {
            "total": sum(by_source.values()),
            "by_source": [{"source": s, "label": str(label), "count": by_source.get(s, 0)} for s, label in Source.choices],
            "by_severity": [{"severity": s, "label": str(label), "count": by_severity.get(s, 0)}
                            for s, label in Severity.choices],
            "top_problem_types": top_types,
        },
        # One definition of the on-time rate: analytics' (the screen, /reports/ and the stats API agree).
        "on_time": screen_figures.today_on_time(user, now),
        "open": {
            "total": sum(open_by_severity.values()),
            "by_severity": [{"severity": s, "label": str(label), "count": open_by_severity.get(s, 0)}
                            for s, label in Severity.choices],
            "overdue": overdue,
        },
        "officers": {
            "on_duty": on_duty,
            "dispatchable": dispatchable,
            "total": sum(duty.values()),
            "by_status": [{"status": s, "label": str(label), "count": duty.get(s, 0)} for s, label in DutyStatus.choices],
        },
        # Machine feeds' reports accepted (202) and not processed yet, all clients (a count, nothing more).
        "submissions_backlog": submissions.backlog(),
    }


def streets_for(user) -> list[dict]:
    """The streets the user may see (filters and queue labels): id, code, name."""
    qs = grid_selectors.areas_for(user).filter(kind=AreaKind.STREET).select_related(None).defer("boundary")
    paths = grid_selectors.user_area_paths(user)
    rows = qs.order_by("code").values("id", "code", "name", "path")
    if paths is None:
        return [{k: r[k] for k in ("id", "code", "name")} for r in rows]
    # areas_for also lists ancestors: keep streets inside the user's areas, or containing one of them.
    return [{k: r[k] for k in ("id", "code", "name")} for r in rows
            if any(r["path"].startswith(p) or p.startswith(r["path"]) for p in paths)]


def problem_types() -> list[dict]:
    from enforcement.models import ProblemType

    return list(ProblemType.objects.filter(active=True).order_by("code").values("code", "name"))


def teams_for(user) -> list[dict]:
    from grids.models import Team

    qs = grid_selectors.scope(Team.objects.all(), user, "street__path")
    return list(qs.order_by("code").values("id", "code", "name"))

