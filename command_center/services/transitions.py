"""One service per step of an event's life (dispatch, accept, decline, arrive, resolve, close, reject,
merge, transfer, deliberate, the public note, the severity), and automatic dispatch, which takes the
dispatch step for the system (on intake's commit, and to the next candidate after a decline).

Each step locks the event row and checks it (`base.begin`), changes the event and its deadlines, moves
the officer's duty status when a task starts or ends, and finishes (`base.finish`): version, traces, push.
"""
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from command_center import dispatch as dispatching
from command_center import notes, signals
from command_center.choices import OPEN_STATUSES, SEVERITY_ORDER, Action, AssignmentStatus, DispatchMode, Severity, Status
from command_center.models import Assignment, Deadline, Event
from command_center.services import base, deliberation, escalation, review
from core import outbox
from core.exceptions import Conflict, ValidationFailed
from core.ids import MAX_ID
from grids import selectors as grid_selectors
from grids import services as grid_services
from grids.choices import DutyStatus
from grids.models import Department, Officer

# The longest a resolution's result, and a transfer's destination, may be (the serializers read them here).
RESULT_MAX_LENGTH = 5000
TRANSFER_TO_MAX_LENGTH = 100


def _meet(event: Event, action: str, now):
    """Stages met by `action`: met now; those already past due are marked breached too (late)."""
    open_ = Deadline.objects.filter(event=event, met_by=action, met_at__isnull=True, cancelled_at__isnull=True)
    open_.filter(due_at__lt=now, breached_at__isnull=True).update(breached_at=F("due_at"))
    return open_.update(met_at=now)


def _cancel_open(event: Event, now, *, keep_met_by=()):
    qs = Deadline.objects.filter(event=event, met_at__isnull=True, cancelled_at__isnull=True)
    if keep_met_by:
        qs = qs.exclude(met_by__in=keep_met_by)
    return qs.update(cancelled_at=now)


def _end_live_assignment(event: Event, status: str, now, reason="", actor=None):
    """End the event's live assignment (declined, released, done); its officer is free again, or busy
    with another task they signed for."""
    live = list(Assignment.objects.filter(event=event, status=AssignmentStatus.LIVE).values_list("officer_id", flat=True))
    ended = {"reason": reason[:500]} if reason else {}  # a finished task keeps the reason it was given with
    Assignment.objects.filter(event=event, status=AssignmentStatus.LIVE).update(status=status, ended_at=now, **ended)
    for officer_id in live:
        _officer_task_ended(officer_id, actor, event=event, cause=status)
        if status != AssignmentStatus.DONE:  # taken off them (or handed back): their phone drops the card
            _tell_officer(signals.TASK_WITHDRAWN, officer_id, event, cause=status)


def _tell_officer(kind: str, officer_id: int, event: Event, *, cause: str):
    """The officer's phone hears of it on commit, through the outbox (command_center.mobile.push)."""
    outbox.publish(signals.officer_task, {"kind": kind, "officer_id": officer_id, "event_id": event.pk, "cause": cause})


# Duty statuses an officer is in because of a task (the others, off duty / on a break / available, are
# the officer's own choice and a task ending does not change them).
TASK_STATUSES = (DutyStatus.EN_ROUTE, DutyStatus.ON_SCENE, DutyStatus.BUSY)


def _officer_task_ended(officer_id, actor, *, event: Event, cause: str):
    """Back to available, or busy while still holding another task they signed for."""
    current = Officer.objects.select_for_update().filter(pk=officer_id).values_list("duty_status", flat=True).first()
    other = Assignment.objects.filter(officer_id=officer_id, status=AssignmentStatus.LIVE,
                                      accepted_at__isnull=False).exclude(event=event).exists()
    if other:
        _set_duty_status(officer_id, DutyStatus.BUSY, actor, event=event, cause=cause)
    elif current in TASK_STATUSES:
        _set_duty_status(officer_id, DutyStatus.AVAILABLE, actor, event=event, cause=cause)


def _set_duty_status(officer_id, to: str, actor, *, event: Event, cause: str):
    """Grids owns the officer's row (its audit and its signal); the event and the step are why."""
    if officer_id is not None:  # the officer's row is locked after the event's, the order every service keeps
        grid_services.set_duty_status(actor, officer_id, to, why={"event": event.pk, "cause": cause})


def _resolver(actor, event):
    if event.status == Status.DELIBERATION:
        base.require_command(actor, event, _("登记议事结果"))
    else:
        base.require_assignee(actor, event, _("反馈处置结果"))


# --- the steps --------------------------------------------------------------------------------

def _officer_arg(actor, officer) -> Officer:
    """An Officer (or its id) the actor may see, or a field error."""
    if officer is None or officer == "":
        raise ValidationFailed(fields={"officer": [_("此字段为必填项。")]})
    officer_id = officer.pk if isinstance(officer, Officer) else officer
    qs = Officer.objects.all() if actor is None else grid_selectors.officers_for(actor)
    try:
        officer_id = int(officer_id)
    except (TypeError, ValueError):
        officer_id = None
    found = qs.filter(pk=officer_id).first() if officer_id and 0 < officer_id <= MAX_ID else None
    if found is None:
        raise ValidationFailed(fields={"officer": [_("执法队员不存在或不在您的辖区。")]})
    return found


def _dispatcher(actor, event):
    base.require_command(actor, event, _("派遣"))
    dispatching.check_may_dispatch(actor, event)  # central mode: the district center only (403)


def _check_pick(actor, event, officer, *, override: bool, reason: str, now) -> dict:
    """A person's pick against the ranking (the system picks from the ranking itself). An officer the
    ranking lists: nothing to say. One it leaves out: picked only with `override` and a reason, and
    only an officer of the event's street who is on duty (dispatching.OVERRIDABLE says what may be passed
    over). Returns what the timeline and the audit record of an override carry ({} otherwise)."""
    if actor is None:
        return {}
    found = dispatching.eligibility(event, officer, now=now)
    if found.eligible:
        return {}
    listed = "；".join(found.labels)
    if not found.same_street:
        raise ValidationFailed(fields={"officer": [
            _("只能派遣本街道的执法队员（该队员：%(why)s）。") % {"why": listed}]})
    if not found.overridable:
        raise Conflict(fields={"officer": [
            _("该队员不在岗（下班或休息），不能派遣（%(why)s）。") % {"why": listed}]}, code="officer_off_duty")
    if not override:
        raise Conflict(fields={"override": [
            _("该队员不在推荐候选人中：%(why)s。如确需派遣，请确认（override）并填写理由。") % {"why": listed}]},
            code="officer_not_eligible")
    if not reason:
        raise ValidationFailed(fields={"reason": [_("派遣推荐候选人以外的队员须填写理由。")]})
    return {"override": True, "excluded": [{"reason": r, "label": label} for r, label in zip(found.failed, found.labels)]}


@transaction.atomic
def dispatch(actor, event, officer, *, expected_version=None, reason="", reassign=False, override=False,
             data=None) -> Event:
    """Give the event to an officer. An event someone already holds changes hands only when the caller
    says so (`reassign`): two dispatchers picking for a new event at once must not silently replace
    each other's pick (the second gets 409). Reassigning releases the previous officer's assignment.
    The event row is locked first, and a partial unique index allows one live assignment per event.
    An officer the ranking leaves out is picked only with `override` and a reason (`_check_pick`)."""
    event = base.begin(actor, event, Action.DISPATCH, expected_version, _dispatcher)
    officer = _officer_arg(actor, officer)
    reason = base.clean_str(reason, "reason", required=False)
    if officer.pk == event.officer_id:
        raise Conflict(_("该事件已派给此队员。"), code="already_assigned")
    if event.officer_id and not reassign:
        raise Conflict(_("该事件已派给%(name)s；如需改派，请选择“改派”（reassign）。")
            % {"name": event.officer.name}, code="already_dispatched")
    if Assignment.objects.filter(event=event, officer=officer).exists():
        raise Conflict(_("该队员已处理过此事件（同一事件不重复派给同一人）。"), code="officer_had_event")
    now = timezone.now()
    overridden = _check_pick(actor, event, officer, override=override, reason=reason, now=now)
    before = {"officer": event.officer_id, "status": event.status}
    if event.officer_id:
        _end_live_assignment(event, AssignmentStatus.RELEASED, now, reason or _("改派"), actor=actor)
    try:
        with transaction.atomic():
            Assignment.objects.create(event=event, officer=officer, assigned_at=now, reason=reason[:500],
                                      assigned_by=actor if getattr(actor, "is_authenticated", False) else None)
    except IntegrityError:  # the index's answer when a writer got past the row lock (it cannot, but the DB decides)
        raise Conflict(_("该事件已有进行中的派遣。"), code="already_dispatched")
    _tell_officer(signals.TASK_REASSIGNED if before["officer"] else signals.TASK_ASSIGNED, officer.pk, event,
                  cause=Action.DISPATCH)
    from_status = event.status
    event.status = Status.DISPATCHED
    event.officer = officer
    event.dispatched_at = now
    _meet(event, Action.DISPATCH, now)
    # The officer's duty status stays as it is until they sign for it (accept → en route).
    changes, note = {"officer": [before["officer"], officer.pk]}, reason
    if overridden:
        changes["override"] = [None, {"reason": reason, "excluded": [x["reason"] for x in overridden["excluded"]]}]
        note = _("%(reason)s（指定推荐候选人以外的队员：%(why)s）") % {
            "reason": reason, "why": "；".join(x["label"] for x in overridden["excluded"])}
    return base.finish(actor, event, Action.DISPATCH, now, from_status, note=note[:500],
                       data={"officer": officer.pk, "officer_name": officer.name, "previous_officer": before["officer"],
                         **overridden, **(data or {})},
                       changes=changes, fields=("officer", "dispatched_at"))



@transaction.atomic
def accept(actor, event, *, expected_version=None) -> Event:
    """The assigned officer signs for it (meets "sign for" / "respond" stages)."""
    event = base.begin(actor, event, Action.ACCEPT, expected_version, base.by_assignee(_("签收")))
    now = timezone.now()
    Assignment.objects.filter(event=event, status=AssignmentStatus.LIVE).update(accepted_at=now)
    from_status, event.status = event.status, Status.ACCEPTED
    event.accepted_at = event.accepted_at or now
    _meet(event, Action.ACCEPT, now)
    _set_duty_status(event.officer_id, DutyStatus.EN_ROUTE, actor, event=event, cause=Action.ACCEPT)  # signing for it = setting out
    return base.finish(actor, event, Action.ACCEPT, now, from_status, data={"officer": event.officer_id}, fields=("accepted_at",))


@transaction.atomic
def decline(actor, event, reason: str, *, expected_version=None) -> Event:
    """The assigned officer hands it back with a reason; the event waits for the next officer (the
    SLA clock keeps running: the citizen is still waiting)."""
    event = base.begin(actor, event, Action.DECLINE, expected_version, base.by_assignee(_("退回")))
    reason = base.required_reason(reason)
    now = timezone.now()
    officer_id = event.officer_id
    _end_live_assignment(event, AssignmentStatus.DECLINED, now, reason, actor=actor)
    from_status, event.status = event.status, Status.NEW
    event.officer = None
    event = base.finish(actor, event, Action.DECLINE, now, from_status, note=reason, data={"officer": officer_id},
                        changes={"officer": [officer_id, None]}, fields=("officer",))
    return after_decline(event, now, declined_by=officer_id)  # the next candidate, when the rule says so


@transaction.atomic
def arrive(actor, event, *, expected_version=None) -> Event:
    event = base.begin(actor, event, Action.ARRIVE, expected_version, base.by_assignee(_("到场")))
    now = timezone.now()
    from_status, event.status = event.status, Status.ON_SITE
    event.arrived_at = now
    _meet(event, Action.ARRIVE, now)
    _set_duty_status(event.officer_id, DutyStatus.ON_SCENE, actor, event=event, cause=Action.ARRIVE)
    return base.finish(actor, event, Action.ARRIVE, now, from_status, data={"officer": event.officer_id}, fields=("arrived_at",))


@transaction.atomic
def resolve(actor, event, result: str, *, expected_version=None) -> Event:
    """The officer reports the handling (meets "handle" / "report"); from deliberation, the dispatcher
    or team leader records the deliberation's outcome. Where the street's review rule asks for it, the
    event then waits for the team leader's review (under_review) instead of the evaluation."""
    event = base.begin(actor, event, Action.RESOLVE, expected_version, _resolver)
    result = base.clean_str(result, "result", max_length=RESULT_MAX_LENGTH)
    now = timezone.now()
    from_status = event.status
    event.status = Status.UNDER_REVIEW if review.requires_review(event) else Status.RESOLVED
    if from_status == Status.DELIBERATION:
        deliberation.settle_by_resolve(actor, event, now, result)
    event.result = result
    event.resolved_at = now
    _end_live_assignment(event, AssignmentStatus.DONE, now, actor=actor)
    _meet(event, Action.RESOLVE, now)
    _cancel_open(event, now, keep_met_by=(Action.CLOSE,))
    return base.finish(actor, event, Action.RESOLVE, now, from_status, note=result, fields=("result", "resolved_at"))


@transaction.atomic
def close(actor, event, satisfaction=None, *, expected_version=None, note="") -> Event:
    """Evaluation and closure; satisfaction 1–5 when the reporter gave one (machine-detected events
    have nobody to ask)."""
    event = base.begin(actor, event, Action.CLOSE, expected_version, base.by_command(_("办结")))
    if satisfaction is not None:
        if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
            raise ValidationFailed(fields={"satisfaction": [_("满意度必须是 1 到 5 的整数。")]})
    note = base.clean_str(note, "note", required=False)
    now = timezone.now()
    from_status, event.status = event.status, Status.CLOSED
    event.satisfaction = satisfaction
    event.closed_at = now
    _meet(event, Action.CLOSE, now)
    _cancel_open(event, now)
    return base.finish(actor, event, Action.CLOSE, now, from_status, note=note, data={"satisfaction": satisfaction},
                       changes={"satisfaction": [None, satisfaction]}, fields=("satisfaction", "closed_at"))


def _leave_flow(event, now, reason, actor):
    """Rejected, merged or transferred: the officer is released (their status change audited as the
    actor's) and the clock stops."""
    if event.officer_id:
        _end_live_assignment(event, AssignmentStatus.RELEASED, now, reason, actor=actor)
    event.officer = None
    _cancel_open(event, now)


@transaction.atomic
def reject(actor, event, reason: str, *, expected_version=None) -> Event:
    """Not our business (不予受理), with the reason."""
    event = base.begin(actor, event, Action.REJECT, expected_version, base.by_command(_("不予受理")))
    reason = base.required_reason(reason)
    now = timezone.now()
    officer_id = event.officer_id
    from_status, event.status = event.status, Status.REJECTED
    _leave_flow(event, now, reason, actor)
    return base.finish(actor, event, Action.REJECT, now, from_status, note=reason,
                       changes={"officer": [officer_id, None]} if officer_id else None, fields=("officer",))


@transaction.atomic
def merge(actor, event, into, *, expected_version=None, reason="") -> Event:
    """A duplicate: merged into another open event of the same areas; its timeline says so too."""
    event = base.begin(actor, event, Action.MERGE, expected_version, base.by_command(_("合并事件")))
    reason = base.clean_str(reason, "reason", required=False)
    into_id = into.pk if isinstance(into, Event) else into
    if into_id is None:
        raise ValidationFailed(fields={"into": [_("此字段为必填项。")]})
    try:
        into_id = int(into_id)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"into": [_("必须是事件ID。")]})
    if not 0 < into_id <= MAX_ID:
        raise ValidationFailed(fields={"into": [_("目标事件不存在。")]})
    if into_id == event.pk:
        raise ValidationFailed(fields={"into": [_("不能合并到自身。")]})
    target = Event.objects.select_related("area").defer("area__boundary").filter(pk=into_id).first()
    if target is None or (actor is not None and not grid_selectors.user_covers_area(actor, target.area)):
        raise ValidationFailed(fields={"into": [_("目标事件不存在。")]})
    if target.status not in OPEN_STATUSES and target.status not in (Status.RESOLVED, Status.UNDER_REVIEW):
        raise Conflict(_("目标事件状态为“%(status)s”，不能再合并。")
            % {"status": Status(target.status).label}, code="merge_target_closed")
    now = timezone.now()
    from_status, event.status = event.status, Status.DUPLICATE
    event.merged_into = target
    officer_id = event.officer_id
    _leave_flow(event, now, reason or _("合并至 #%(id)s") % {"id": target.pk}, actor)
    base.add_timeline(target, actor, Action.MERGE, now, note=reason, data={"merged": event.pk})
    return base.finish(actor, event, Action.MERGE, now, from_status, note=reason, data={"into": target.pk},
                       changes={"merged_into": [None, target.pk], **({"officer": [officer_id, None]} if officer_id else {})},
                       fields=("merged_into", "officer"))


@transaction.atomic
def transfer(actor, event, to: str, reason: str, *, expected_version=None) -> Event:
    """Handed to a department (by its code: it becomes the responsible one) or another platform (a name)."""
    event = base.begin(actor, event, Action.TRANSFER, expected_version, base.by_command(_("转办")))
    to = base.clean_str(to, "to", max_length=TRANSFER_TO_MAX_LENGTH)
    reason = base.required_reason(reason)
    now = timezone.now()
    department = Department.objects.filter(code=to).first()
    changes = {"transferred_to": [event.transferred_to, to]}
    if department is not None:
        changes["department"] = [event.department_id, department.pk]
        event.department = department
    from_status, event.status = event.status, Status.TRANSFERRED
    event.transferred_to = department.name if department else to
    officer_id = event.officer_id
    _leave_flow(event, now, reason, actor)
    if officer_id:
        changes["officer"] = [officer_id, None]
    return base.finish(actor, event, Action.TRANSFER, now, from_status, note=reason,
                       data={"to": to, "department": department.code if department else None},
                       changes=changes, fields=("transferred_to", "department", "officer"))


@transaction.atomic
def deliberate(actor, event, topic: str, *, expected_version=None, participants=None) -> Event:
    """What enforcement cannot settle goes to co-governance deliberation (红茶议事会): a record with the
    topic and who takes part (services.deliberation adds its meetings and its consensus). Its meetings
    take days, so the event's timed stages stop; the consensus (or `resolve`) records the outcome."""
    event = base.begin(actor, event, Action.DELIBERATE, expected_version, base.by_command(_("提交议事")))
    topic = base.required_reason(topic, "topic")
    participants = deliberation.clean_people(participants, "participants")
    now = timezone.now()
    from_status, event.status = event.status, Status.DELIBERATION
    _cancel_open(event, now)
    record = deliberation.open_record(actor, event, now, topic=topic, participants=participants, from_status=from_status)
    return base.finish(actor, event, Action.DELIBERATE, now, from_status, note=topic,
                       data={"deliberation": record.pk, "participants": participants})


@transaction.atomic
def set_public_note(actor, event, note: str, *, expected_version=None) -> Event:
    """A note the public may read (Open311 status_notes, which other platforms republish), written on
    purpose by the dispatcher or the street's team leader. It stands until the event's next step, whose
    fixed public phrase replaces it; other timeline notes are never published."""
    event = base.begin(actor, event, Action.PUBLIC_NOTE, expected_version, base.by_command(_("发布公开说明")))
    note = base.clean_str(note, "note")
    return base.finish(actor, event, Action.PUBLIC_NOTE, timezone.now(), event.status, note=note)



@transaction.atomic
def set_severity(actor, event, severity: str, reason: str, *, expected_version=None) -> Event:
    """Raise or lower the colour, with a reason. The clock follows the new colour's policy: unmet stages
    of the old policy are cancelled, the new policy's stages are due from now (the team learns the new
    urgency now), and a stage whose action was already taken is created as met at that time."""
    event = base.begin(actor, event, Action.SEVERITY, expected_version, base.by_command(_("调整事件等级")))
    if severity not in Severity.values:
        raise ValidationFailed(fields={"severity": [_("必须是 %(values)s 之一。") % {"values": ", ".join(Severity.values)}]})
    reason = base.required_reason(reason)
    if severity == event.severity:
        raise Conflict(_("等级未变化。"), code="severity_unchanged")
    now = timezone.now()
    before = event.severity
    event.severity = severity
    # Unmet ones stop; met and fired ones stay as history but leave the live set (the new policy may
    # reuse their stage names).
    Deadline.objects.filter(event=event, cancelled_at__isnull=True).update(cancelled_at=now)
    done = {Action.DISPATCH: event.dispatched_at, Action.ACCEPT: event.accepted_at, Action.ARRIVE: event.arrived_at}
    created = base.create_deadlines(event, now, done_at={k.value: v for k, v in done.items() if v})
    direction = "raised" if SEVERITY_ORDER[severity] > SEVERITY_ORDER[before] else "lowered"
    return base.finish(actor, event, Action.SEVERITY, now, event.status, note=reason,
                       data={"from": before, "to": severity, "direction": direction,
                         "deadlines": [[d.stage, d.due_at.isoformat()] for d in created]},
                       changes={"severity": [before, severity]}, fields=("severity",))




# --- automatic dispatch: the dispatch step, taken by the system -----------------------------------

def assign_best(event: Event, decision: dispatching.ModeDecision, now, *, note: str, data: dict | None = None) -> Event:
    """Inside the caller's transaction (event row locked): give the event to the best candidate, or,
    with nobody left, send it back to the dispatchers' queue with an escalation line saying so."""
    candidate = dispatching.best(event, now=now)
    data = {"mode": decision.as_dict(), **(data or {})}
    parts = [(decision.fallback, None), (note, None)]
    if candidate is None:
        # Never silently dry: the line says who was left out and why ("3 人定位超过 5 分钟未更新").
        left_out = dispatching.ranking(event, now=now)
        data["excluded"] = left_out.excluded
        why = "，".join(_("%(n)s 人%(label)s") % {"n": n, "label": left_out.labels[r]} for r, n in left_out.excluded.items())
        last = ((gettext_lazy("无符合条件的候选队员（%(why)s），事件退回派遣队列"), {"why": why}) if why
                else (gettext_lazy("无符合条件的候选队员，事件退回派遣队列"), None))
        text, note_data = notes.compose(*parts, last)
        return escalation.no_candidate_left(event, now, text, central=decision.configured == DispatchMode.CENTRAL,
                                            data={**data, **note_data})
    text, note_data = notes.compose(*parts, (gettext_lazy("第 1 名候选人：%(name)s（%(reasons)s）"),
                                             {"name": candidate.name, "reasons": "，".join(candidate.reasons)}))
    return dispatch(None, event, candidate.officer_id, reason=text[:500],
                    data={**data, **note_data, "candidate": candidate.as_dict()})


def auto_dispatch(event_id) -> Event | None:
    """On intake's commit: in automatic mode (as configured, or as the fallback of manual/central), the
    best candidate gets the event. Does nothing for an event someone already took or that left the flow."""
    with transaction.atomic():
        try:
            event = (Event.objects.select_for_update(of=("self",)).select_related("area")
                     .defer("area__boundary").get(pk=event_id))
        except Event.DoesNotExist:
            return None
        if event.status != Status.NEW or event.officer_id:
            return None
        now = timezone.now()
        decision = dispatching.mode_for(event, now=now)
        if decision.effective != DispatchMode.AUTOMATIC:
            return None
        return assign_best(event, decision, now, note=gettext_lazy("受理后自动派遣"), data={"trigger": "intake"})


def after_decline(event: Event, now, declined_by: int | None) -> Event:
    """Inside decline's transaction: in automatic mode (or when the rule says so) the next candidate gets
    it (the declining officer is out: an officer never holds one event twice)."""
    decision = dispatching.mode_for(event, now=now)
    if not decision.next_on_decline:
        return event
    return assign_best(event, decision, now, note=gettext_lazy("队员退回后自动派给下一候选人"),
                       data={"trigger": "decline", "declined_by": declined_by})


def on_event_created(payload, message):
    """Outbox handler (run by a worker after intake's commit; inline in the embedded default). Idempotent:
    an event already dispatched, or out of the flow, is left alone."""
    auto_dispatch(payload["event_id"])


def connect():
    """Called from CommandCenterConfig.ready(): a row only for creates (decided at publish, no query).
    (The kind keeps its first name: rows already written carry it.)"""
    outbox.register(signals.event_changed, "command_center.dispatch.auto", on_event_created, deferred=True,
                    wants=lambda payload: payload.get("kind") == "event.created")
