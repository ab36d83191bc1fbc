"""Test support for the figures: moments in Asia/Shanghai, events whose times are set by hand, deadlines met."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from command_center import testing as cc_testing
from command_center.models import Deadline, Event

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0, ss=0):
    """A moment in Asia/Shanghai."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def event_maker(report):
    """event_at(created, accepted=+s, arrived=+s, resolved=+s, point=…, **fields) → an event whose times are
    set by hand (seconds after `created`); its deadlines are moved with it (due = created + their minutes)."""

    def make(created, *, accepted=None, arrived=None, resolved=None, point=cc_testing.S1_POINT, satisfaction=None,
             **fields):
        event = report(point=point, **{k: v for k, v in fields.items() if k in ("problem_type", "source")})
        shift = created - event.created_at
        plus = (lambda s: None if s is None else created + timedelta(seconds=s))
        Event.objects.filter(pk=event.pk).update(
            created_at=created, accepted_at=plus(accepted), arrived_at=plus(arrived), resolved_at=plus(resolved),
            satisfaction=satisfaction, **{k: v for k, v in fields.items() if k in ("status", "escalation_level")})
        for d in Deadline.objects.filter(event=event):
            Deadline.objects.filter(pk=d.pk).update(due_at=d.due_at + shift)
        event.refresh_from_db()
        return event

    return make


def meet(event, stage, *, after_s=None, late=False):
    """Mark a deadline met `after_s` seconds after the event's intake (or breached when `late`)."""
    d = Deadline.objects.get(event=event, stage=stage)
    when = event.created_at + timedelta(seconds=after_s)
    if late:
        Deadline.objects.filter(pk=d.pk).update(breached_at=d.due_at, met_at=when)
    else:
        Deadline.objects.filter(pk=d.pk).update(met_at=when)
    d.refresh_from_db()
    return d
