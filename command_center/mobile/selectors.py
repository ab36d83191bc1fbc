"""Reads for the officers' phone page: the signed-in officer's live tasks, each with its next deadline,
and the tasks they finished today."""
from datetime import datetime, time, timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Max, Prefetch
from django.utils import timezone

from command_center import selectors
from command_center.choices import AssignmentStatus, PhotoKind, Status
from command_center.models import EventPhoto
from core.roles import OFFICER, has_role

# The statuses in which a task sits with the officer and needs an action from them.
LIVE_STATUSES = (Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE)


def officer_of(user):
    """The officer record of a user with the officer role, or None (another role, or no record)."""
    if not has_role(user, OFFICER):
        return None
    try:
        return user.officer
    except (ObjectDoesNotExist, AttributeError):
        return None


def next_deadline(event):
    """The earliest stage still to be met (overdue ones included), from the prefetched deadlines."""
    waiting = [d for d in event.deadlines.all() if d.met_at is None and d.cancelled_at is None]
    return min(waiting, key=lambda d: d.due_at) if waiting else None


def tasks_for(user, officer, *, event_id=None):
    """The officer's live tasks in the user's areas, most urgent first (next deadline, then age);
    `event_id`: only that one (an empty list when it is not a live task of theirs)."""
    qs = selectors.events_for(user).filter(officer=officer, status__in=LIVE_STATUSES)
    if event_id is not None:
        qs = qs.filter(pk=event_id)
    events = list(
        qs
        .prefetch_related(Prefetch("photos", to_attr="report_photos",
                                   queryset=EventPhoto.objects.filter(kind=PhotoKind.REPORT).order_by("id")))
    )
    for event in events:
        event.next_deadline = next_deadline(event)
    # Tasks with a running clock first, by due time; the others by age.
    return sorted(events, key=lambda e: (e.next_deadline is None,
                                         e.next_deadline.due_at if e.next_deadline else e.created_at, e.pk))


def day_bounds(now=None):
    """[start, end) of the day `now` falls in, in the district's time zone (settings.TIME_ZONE)."""
    local = timezone.localtime(now or timezone.now())
    start = datetime.combine(local.date(), time.min, tzinfo=local.tzinfo)
    return start, datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=local.tzinfo)


def completed_today(user, officer, *, now=None):
    """The tasks the officer finished (reported the handling of) today, in the district's time zone, in
    the user's areas, the latest first; each with `done_at`."""
    start, end = day_bounds(now)
    return list(
        selectors.events_for(user)
        .filter(assignments__officer=officer, assignments__status=AssignmentStatus.DONE,
                assignments__ended_at__gte=start, assignments__ended_at__lt=end)
        .annotate(done_at=Max("assignments__ended_at"))
        .order_by("-done_at", "-pk")
    )
