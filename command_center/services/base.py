"""What every command-center service uses: the transition table, who may act, the row lock, the traces a
step leaves, text cleaning and deadlines.

Each service runs in one transaction: it locks the event row, checks the transition table (illegal →
Conflict 409) and the version the client saw (stale → PreconditionFailed 412), changes the event, meets
or cancels deadlines, leaves its traces (`trace`: a timeline line and an audit record) and bumps the
version. Live push, webhooks and dispatch follow through the outbox (`publish_change`), on commit.
"""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from command_center import credit_facts, selectors, signals
from command_center.choices import OPEN_STATUSES, Action, EscalationTarget, Status
from command_center.models import Deadline, Event, TimelineEntry
from core import audit, bulk, outbox
from core.exceptions import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from core.roles import API_CLIENT, BUREAU_STAFF, DISPATCHER, OFFICER, TEAM_LEADER, has_role
from grids import selectors as grid_selectors
from grids.models import Officer

INTAKE_ROLES = (API_CLIENT, DISPATCHER, OFFICER, TEAM_LEADER, BUREAU_STAFF)
COMMAND_ROLES = (DISPATCHER, TEAM_LEADER)

# action → (statuses it may start from, status it leads to; None = unchanged)
TRANSITIONS = {
    Action.DISPATCH: ((Status.NEW, Status.DISPATCHED, Status.ACCEPTED), Status.DISPATCHED),
    Action.ACCEPT: ((Status.DISPATCHED,), Status.ACCEPTED),
    Action.DECLINE: ((Status.DISPATCHED,), Status.NEW),
    Action.ARRIVE: ((Status.ACCEPTED,), Status.ON_SITE),
    # Resolved, or under review when the street's review rule asks for it (services.review).
    Action.RESOLVE: ((Status.ON_SITE, Status.DELIBERATION), Status.RESOLVED),
    Action.CLOSE: ((Status.RESOLVED,), Status.CLOSED),
    Action.REJECT: ((Status.NEW, Status.DISPATCHED), Status.REJECTED),
    Action.MERGE: ((Status.NEW, Status.DISPATCHED), Status.DUPLICATE),
    Action.TRANSFER: ((Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE), Status.TRANSFERRED),
    Action.DELIBERATE: ((Status.ACCEPTED, Status.ON_SITE), Status.DELIBERATION),
    Action.ESCALATE: (OPEN_STATUSES, None),
    Action.SEVERITY: ((Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE), None),
    Action.PUBLIC_NOTE: (tuple(Status), None),
    # The team leader's review (services.review).
    Action.APPROVE: ((Status.UNDER_REVIEW,), Status.CLOSED),
    Action.RETURN: ((Status.UNDER_REVIEW,), Status.ACCEPTED),
    # Co-governance (services.deliberation): meetings keep the status; the consensus closes the event or
    # gives it back to the flow it left.
    Action.MEETING: ((Status.DELIBERATION,), None),
    Action.CONCLUDE: ((Status.DELIBERATION,), None),
}

# Boundaries can be megabytes (a district's outline): never load them along with an event.
NO_BOUNDARIES = ("area__boundary", "street__boundary", "grid__boundary", "grid__parent__boundary")

# The longest reason, note or topic a step keeps (the input serializers take their limits from here).
NOTE_MAX_LENGTH = 500


def setting(name, default):
    return getattr(settings, name, default)


# --- who may act ------------------------------------------------------------------------------

def officer_of(user) -> Officer | None:
    if user is None:
        return None
    try:
        return user.officer
    except (ObjectDoesNotExist, AttributeError):
        return None


def require_roles(actor, roles, message):
    if actor is not None and not has_role(actor, *roles):
        raise Forbidden(message)


def require_may_report(actor):
    """The refusal of a reporter whose roles may not report events: intake's, and the asynchronous path's
    before it stores anything (the roles come from core.refcache: no query)."""
    require_roles(actor, INTAKE_ROLES, _("您的角色无权上报事件。"))


def require_covers(actor, event: Event):
    """Users outside the event's areas are told it does not exist (no leaking of other streets)."""
    if actor is not None and not grid_selectors.user_covers_area(actor, event.area):
        raise NotFound(_("事件不存在。"))


def require_command(actor, event: Event, what: str):
    require_covers(actor, event)
    require_roles(actor, COMMAND_ROLES, _("只有指挥中心值班员或本街道执法队长可以%(what)s。") % {"what": what})


def require_assignee(actor, event: Event, what: str):
    require_covers(actor, event)
    if actor is None or getattr(actor, "is_superuser", False):
        return
    officer = officer_of(actor)
    if officer is None or officer.pk != event.officer_id:
        raise Forbidden(_("只有被派遣的执法队员本人可以%(what)s。") % {"what": what})


def by_command(what):
    """The check of a step the dispatcher or the street's team leader takes."""
    def check(actor, event):
        require_command(actor, event, what)
    return check


def by_assignee(what):
    """The check of a step the assigned officer takes."""
    def check(actor, event):
        require_assignee(actor, event, what)
    return check


# --- input ------------------------------------------------------------------------------------

def bad_text(value: str) -> str | None:
    """Why a string cannot be stored (NUL characters and lone surrogates break PostgreSQL), or None."""
    if "\x00" in value:
        return _("不能包含空字符（\\x00）。")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("包含无效字符。")
    return None


def clean_str(value, field, *, required=True, max_length=NOTE_MAX_LENGTH) -> str:
    value = "" if value is None else str(value).strip()
    problem = bad_text(value)
    if problem:
        raise ValidationFailed(fields={field: [problem]})
    if required and not value:
        raise ValidationFailed(fields={field: [_("此字段为必填项。")]})
    if len(value) > max_length:
        raise ValidationFailed(fields={field: [_("最多 %(max_length)s 个字符。") % {"max_length": max_length}]})
    return value


def required_reason(reason, field="reason"):
    reason = "" if reason is None else str(reason).strip()
    if not reason:
        raise ValidationFailed(fields={field: [_("请说明原因。")]})
    return clean_str(reason, field)


# --- a step: lock, check, change, trace -------------------------------------------------------

def lock(event) -> Event:
    """Lock the event row, then read it with its relations. Two statements on purpose: on PostgreSQL a
    SELECT … FOR UPDATE that waited for another transaction re-reads the locked row but not the joined
    ones, so a select_related officer could come back None beside a fresh officer_id. The read after the
    lock sees everything the other transaction committed."""
    pk = event.pk if isinstance(event, Event) else event
    try:
        if not Event.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True):
            raise Event.DoesNotExist
        return Event.objects.select_related("area", "street", "grid__parent", "team", "officer").defer(*NO_BOUNDARIES).get(pk=pk)
    except (Event.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("事件不存在。"))


def begin(actor, event, action: str, expected_version, check) -> Event:
    """Lock the row, then check in this order: may the actor see and do it (404/403), is the version the
    client saw current (412), does the transition table allow it from here (409)."""
    event = lock(event)
    check(actor, event)
    if expected_version is not None and int(expected_version) != event.version:
        raise PreconditionFailed(
            _("事件已被他人修改（您看到的是第 %(seen)s 版，当前为第 %(current)s 版），请刷新后重试。")
            % {"seen": expected_version, "current": event.version},
            code="stale_version",
        )
    allowed, _to = TRANSITIONS[action]
    if event.status not in allowed:
        raise Conflict(
            _("事件当前状态为“%(status)s”，不能执行“%(action)s”。") % {"status": Status(event.status).label, "action": Action(action).label},
            code="illegal_transition",
        )
    return event


def timeline_entry(event, actor, action, now, *, from_status="", to_status="", note="", data=None):
    """An unsaved timeline line (the sweep inserts a batch of them at once)."""
    return TimelineEntry(
        event=event, at=now, actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=audit.actor_label(actor), action=action, from_status=from_status, to_status=to_status,
        note=note or "", data=data or {},
    )


def add_timeline(event, actor, action, now, **fields) -> TimelineEntry:
    # One plain INSERT … RETURNING id, without Model.save's machinery (it follows every intake and every
    # step; no signal listens to timeline rows).
    (entry,) = bulk.insert_objects([timeline_entry(event, actor, action, now, **fields)])
    return entry


def trace(actor, event, action, now, *, audit_action: str, changes: dict, **timeline) -> TimelineEntry:
    """The two records every step on an event leaves in its transaction: the timeline line the desk reads
    (`timeline`: from_status, to_status, note, data) and the audit record of who changed what, at `now`.
    Intake, the transitions and the photos all leave theirs through here."""
    entry = add_timeline(event, actor, action, now, **timeline)
    audit.record_many(actor, audit_action, [(event, changes)], at=now)  # one written-out INSERT, no instance
    return entry


def finish(actor, event: Event, action: str, now, from_status: str, *, note="", data=None, changes=None,
           fields=()) -> Event:
    """Save the changed fields plus version, leave the traces, push on commit."""
    to_status = event.status
    event.version += 1
    event.updated_at = now
    event.save(update_fields=sorted({"status", "version", "updated_at", *fields}))
    delta = dict(changes or {})
    if from_status != to_status:
        delta["status"] = [from_status, to_status]
    if note:
        delta.setdefault("note", [None, note])
    trace(actor, event, action, now, audit_action=f"event.{action}", changes=delta,
          from_status=from_status, to_status=to_status, note=note, data=data)
    credit_facts.on_event_action(event, action, actor)  # complaints feed credit, in this transaction
    publish_change(event, "event.updated", action=action)
    return event


def publish_change(event, kind, *, written=False, **extra):
    """Publish `signals.event_changed` through the outbox, in this transaction: push, webhooks and
    dispatch follow the commit, even when this process dies right after it. `written`: the event holds
    every row it has (a create): the handlers get its row as it stands now, and do not read it back."""
    if written:
        from command_center import push

        extra.update(row=push.event_row(event), street_id=event.street_id, path=event.area.path)
    outbox.publish(signals.event_changed, {"kind": kind, "event_id": event.pk, "version": event.version, **extra})


def create_deadlines(event: Event, anchor, *, done_at: dict | None = None) -> list[Deadline]:
    """Deadline rows from the policy of (street, severity), each due at anchor + its minutes.

    `done_at`: {action: time} for actions already taken (a re-graded event keeps what it has done)."""
    policy_name, stages = selectors.policy_for(event.street, event.severity)
    done_at = done_at or {}
    rows = []
    for pos, st in enumerate(stages):
        due = anchor + timedelta(minutes=st["minutes"])
        met = done_at.get(st["met_by"])
        rows.append(Deadline(
            event=event, stage=st["stage"], position=pos, met_by=st["met_by"],
            escalate_to=st.get("escalate_to") or EscalationTarget.TEAM_LEADER, policy_name=policy_name[:100],
            due_at=due, met_at=met, breached_at=due if met and met > due else None,
        ))
    return bulk.insert_objects(rows)
