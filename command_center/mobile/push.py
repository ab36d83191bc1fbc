"""The officer's own stream: what the phone page (/m/) hears over `/ws/officer/`.

One channel group per officer, `cc.officer.<officer id>`; only that officer's signed-in socket joins it
(`OfficerConsumer` takes the officer from the session, never from the client). Messages:

- `task.assigned` / `task.reassigned` (the task came from another officer): `{"type", "seq", "cause",
  "task": task_row}`, sent only while the task is still the officer's (a task reassigned again before the
  push ran is not announced);
- `task.withdrawn`: `{"type", "seq", "cause": "released" | "declined", "task": {"id"}}`;
- `officer.status`: `{"type", "seq", "duty_status"}` when the officer's duty status changes (a task
  signed for, arrived at, finished).

They follow the commit through the outbox (`signals.officer_task`, published by the transitions in their
transaction), each sent at most once per outbox row (the desk's once-only key, `push.get_sequence`). `seq`
counts per officer: a gap tells the page it missed something, and it re-syncs (so does a reconnect).
Sending never raises into the caller.
"""
import logging

from command_center import push, signals
from command_center.choices import Status
from command_center.models import Event

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "officer.push"  # the consumer's handler: OfficerConsumer.officer_push
OFFICER_STATUS = "officer.status"
LIVE_STATUSES = (Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE)


def officer_group(officer_id) -> str:
    return f"cc.officer.{int(officer_id)}"


def task_row(event: Event) -> dict:
    """What the card's announcement and countdown need at once (the card itself is one fetch away)."""
    waiting = [d for d in getattr(event, "live_deadlines", None) or () if d.met_at is None]
    nxt = min(waiting, key=lambda d: d.due_at) if waiting else None
    return {
        "id": event.pk, "version": event.version, "status": event.status, "severity": event.severity,
        "problem_type_name": event.problem_type_name or event.problem_type_code, "address": event.address,
        "stage": nxt.stage if nxt else None, "due_at": nxt.due_at.isoformat() if nxt else None,
    }


def send(officer_id, kind: str, body: dict, *, once: str | None = None) -> dict | None:
    """Send one message to the officer's stream; returns it (None: not sent, or sent before under `once`)."""
    group = officer_group(officer_id)
    try:
        sequence = push.get_sequence()
        seqs = sequence.reserve({group: 1}) if once is None else sequence.reserve_once(once, {group: 1})
        if seqs is None:
            return None  # this outbox row was sent before
        payload = {"type": kind, "seq": seqs[group], **body}
        push.group_send(group, {"type": MESSAGE_TYPE, "payload": payload})
        return payload
    except Exception:  # noqa: BLE001 — the service has committed; the page re-syncs on its next connect
        logger.exception("officer push: %s to officer %s failed", kind, officer_id)
        return None


def on_officer_task(payload: dict, *, once: str | None = None) -> dict | None:
    """Outbox handler of `signals.officer_task`."""
    kind, officer_id, event_id = payload["kind"], payload["officer_id"], payload["event_id"]
    if kind == signals.TASK_WITHDRAWN:
        return send(officer_id, kind, {"cause": payload.get("cause"), "task": {"id": event_id}}, once=once)
    event = push.event_queryset(Event.objects.filter(pk=event_id)).first()
    if event is None or event.officer_id != officer_id or event.status not in LIVE_STATUSES:
        return None  # it moved on before this ran: what the officer holds now was (or will be) pushed
    return send(officer_id, kind, {"cause": payload.get("cause"), "task": task_row(event)}, once=once)


def on_officer_moved(sender, officer_id=None, duty_status=None, **kwargs):
    """grids' `officer_moved` (on commit): a change of duty status goes to the officer's own stream."""
    if duty_status is not None and officer_id is not None:
        send(officer_id, OFFICER_STATUS, {"duty_status": str(duty_status)})


def connect():
    """Called from CommandCenterConfig.ready()."""
    from core import outbox
    from grids import signals as grid_signals

    outbox.register(signals.officer_task, "command_center.push.officer_task",
                    lambda payload, message: on_officer_task(payload, once=f"outbox:{message.key}"))
    grid_signals.officer_moved.connect(on_officer_moved, dispatch_uid="command_center.mobile.push.officer_moved")
