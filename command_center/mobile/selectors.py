"""Reads for the officers' phone page: the signed-in officer's live tasks, each with its next deadline."""
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch

from command_center import selectors
from command_center.choices import PhotoKind, Status
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


def tasks_for(user, officer):
    """The officer's live tasks in the user's areas, most urgent first (next deadline, then age)."""
    events = list(
        selectors.events_for(user).filter(officer=officer, status__in=LIVE_STATUSES)
        .prefetch_related(Prefetch("photos", to_attr="report_photos",
                                   queryset=EventPhoto.objects.filter(kind=PhotoKind.REPORT).order_by("id")))
    )
    for event in events:
        event.next_deadline = next_deadline(event)
    # Tasks with a running clock first, by due time; the others by age.
    return sorted(events, key=lambda e: (e.next_deadline is None,
                                         e.next_deadline.due_at if e.next_deadline else e.created_at, e.pk))
