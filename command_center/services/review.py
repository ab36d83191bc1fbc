"""The team leader's review (审核) of handled events, and the rules saying which events need it.

A handled event whose (street, severity) rule asks for review goes from the officer's `resolve` to
under_review instead of resolved; the street's team leader (or bureau staff) then approves it (closed) or
returns it for rework (退回重办) to the officer who handled it, with a reason: the officer holds the task
again and the handling deadline starts afresh. Events no rule asks to review are closed by the
dispatcher's evaluation as before (resolved → closed).
"""
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center import selectors
from command_center.choices import CITIZEN_SOURCES, Action, AssignmentStatus, EscalationTarget, Severity, Stage, Status
from command_center.models import Assignment, Deadline, Event, ReviewRule
from command_center.services import base
from core import audit
from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.roles import BUREAU_STAFF, TEAM_LEADER, has_role
from grids import selectors as grid_selectors
from grids.choices import AreaKind, DutyStatus
from grids.models import Area

REVIEW_ROLES = (TEAM_LEADER, BUREAU_STAFF)
# The district defaults (install_default_rules): orange and red events always, the others when a
# citizen reported them.
DEFAULT_RULES = {Severity.RED: ReviewRule.Review.ALL, Severity.ORANGE: ReviewRule.Review.ALL,
                 Severity.YELLOW: ReviewRule.Review.CITIZEN, Severity.BLUE: ReviewRule.Review.CITIZEN}


# --- which events need review -----------------------------------------------------------------

def rule_for(street_id, severity) -> ReviewRule | None:
    """The street's own rule for the severity, else the district default, else None (one query)."""
    where = Q(street__isnull=True) if street_id is None else Q(street_id=street_id) | Q(street__isnull=True)
    return (ReviewRule.objects.filter(where, severity=severity)
            .order_by(F("street_id").asc(nulls_last=True), "id").first())


def requires_review(event: Event) -> bool:
    rule = rule_for(event.street_id, event.severity)
    if rule is None or rule.review == ReviewRule.Review.NONE:
        return False
    return rule.review == ReviewRule.Review.ALL or event.source in CITIZEN_SOURCES


def check_rule(actor, *, severity, review, street: Area | None):
    """May the actor set this rule, and is it valid? (Forbidden / ValidationFailed.)"""
    if actor is not None and not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以设置审核规则。"))
    errors = {}
    if severity not in Severity.values:
        errors["severity"] = [_("必须是 %(v)s 之一。") % {"v": ", ".join(Severity.values)}]
    if review not in ReviewRule.Review.values:
        errors["review"] = [_("必须是 %(v)s 之一。") % {"v": ", ".join(ReviewRule.Review.values)}]
    if street is not None and actor is not None and not grid_selectors.user_covers_area(actor, street):
        errors["street"] = [_("镇街不存在或不在您的辖区。")]
    elif street is not None and street.kind != AreaKind.STREET:
        errors["street"] = [_("只能为镇街设置审核规则。")]
    if errors:
        raise ValidationFailed(fields=errors)
    if street is None and actor is not None and grid_selectors.user_area_paths(actor) is not None:
        raise Forbidden(_("只有全区账号可以设置全区默认审核规则。"))


@transaction.atomic
def save_rule(actor, *, severity, review, street: Area | None = None) -> ReviewRule:
    """Create or change the rule of (street, severity); street None = the district default. Audited."""
    check_rule(actor, severity=severity, review=review, street=street)
    user = actor if getattr(actor, "is_authenticated", False) else None
    rule = ReviewRule.objects.select_for_update().filter(street=street, severity=severity).first()
    before = rule.review if rule else None
    if rule is None:
        try:
            with transaction.atomic():
                rule = ReviewRule.objects.create(street=street, severity=severity, review=review, updated_by=user)
        except IntegrityError:
            raise Conflict(_("该镇街此等级已有审核规则，请刷新后修改。"), code="rule_exists")
    else:
        rule.review, rule.updated_by = review, user
        rule.save(update_fields=["review", "updated_by", "updated_at"])
    audit.record(actor, "review_rule.saved", rule, changes={
        "street": [None, street.pk if street else None] if before is None else [street.pk if street else None] * 2,
        "severity": [None, severity] if before is None else [severity, severity], "review": [before, review]})
    return rule


def install_default_rules(actor=None) -> int:
    """The district defaults, for severities that have none (the demo starts from them; bureau staff
    change them in the admin). Returns how many were made."""
    made = 0
    for severity, review in DEFAULT_RULES.items():
        if not ReviewRule.objects.filter(street__isnull=True, severity=severity).exists():
            save_rule(actor, severity=severity, review=review)
            made += 1
    return made


# --- the review ---------------------------------------------------------------------------------

def _reviewer(what):
    """Only the team leader of the event's street, or bureau staff: others 403, other streets 404."""
    def check(actor, event):
        base.require_covers(actor, event)
        base.require_roles(actor, REVIEW_ROLES, _("只有本街道执法队长或区综合执法局工作人员可以%(what)s。") % {"what": what})
    return check


@transaction.atomic
def approve(actor, event, *, expected_version=None, note="", satisfaction=None) -> Event:
    """The review passes: the event is closed (meets the close stage), with the reporter's satisfaction
    when one was given."""
    event = base.begin(actor, event, Action.APPROVE, expected_version, _reviewer(_("审核通过")))
    if satisfaction is not None and (isinstance(satisfaction, bool) or not isinstance(satisfaction, int)
                                     or not 1 <= satisfaction <= 5):
        raise ValidationFailed(fields={"satisfaction": [_("满意度必须是 1 到 5 的整数。")]})
    note = base.clean_str(note, "note", required=False)
    now = timezone.now()
    from_status, event.status = event.status, Status.CLOSED
    event.closed_at = now
    event.satisfaction = satisfaction
    _meet_close(event, now)
    return base.finish(actor, event, Action.APPROVE, now, from_status, note=note,
                       data={"satisfaction": satisfaction},
                       changes={"satisfaction": [None, satisfaction]}, fields=("closed_at", "satisfaction"))


def _meet_close(event, now):
    open_ = Deadline.objects.filter(event=event, met_at__isnull=True, cancelled_at__isnull=True)
    open_.filter(met_by=Action.CLOSE, due_at__lt=now, breached_at__isnull=True).update(breached_at=F("due_at"))
    open_.filter(met_by=Action.CLOSE).update(met_at=now)
    open_.update(cancelled_at=now)


def handle_minutes(event) -> int:
    """How long the rework may take: the policy's handling stage (the one met by `resolve`), counted
    from intake; else the setting EVENT_REWORK_MINUTES (default 120)."""
    _name, stages = selectors.policy_for(event.street, event.severity)
    minutes = [st["minutes"] for st in stages if st["met_by"] == Action.RESOLVE]
    return max(minutes) if minutes else int(getattr(settings, "EVENT_REWORK_MINUTES", 120))


def restart_handling(event, now) -> Deadline:
    """The handling starts again (returned for rework, re-opened by a deliberation): the stages met by
    `resolve` leave the live set (kept as history) and a fresh one is due from now."""
    Deadline.objects.filter(event=event, met_by=Action.RESOLVE, cancelled_at__isnull=True).update(cancelled_at=now)
    return Deadline.objects.create(
        event=event, stage=Stage.REWORK, position=99, met_by=Action.RESOLVE, escalate_to=EscalationTarget.TEAM_LEADER,
        policy_name=_("重新处置")[:100], due_at=now + timedelta(minutes=handle_minutes(event)))


@transaction.atomic
def return_for_rework(actor, event, reason: str, *, expected_version=None) -> Event:
    """Returned for rework (退回重办): the officer who handled it holds the task again (signed for, to go
    back on site), the reason shows on their phone, and the handling deadline starts from now."""
    event = base.begin(actor, event, Action.RETURN, expected_version, _reviewer(_("退回重办")))
    reason = base.required_reason(reason)
    assignment = (Assignment.objects.select_related("officer").filter(event=event, status=AssignmentStatus.DONE)
                  .order_by("-ended_at", "-id").first())
    if assignment is None:  # resolved from deliberation: nobody handled it on site
        raise Conflict(_("该事件没有处置队员可退回，请重新派遣。"), code="no_officer_to_return")
    now = timezone.now()
    Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.LIVE, ended_at=None, accepted_at=now,
                                                       reason=reason[:500])
    due = restart_handling(event, now)
    from_status, event.status = event.status, Status.ACCEPTED
    before_officer = event.officer_id
    event.officer = assignment.officer
    event.return_reason = reason
    from command_center.services.transitions import _set_duty_status

    _set_duty_status(assignment.officer_id, DutyStatus.EN_ROUTE, actor, event=event, cause=Action.RETURN)
    return base.finish(actor, event, Action.RETURN, now, from_status, note=reason,
                       data={"officer": assignment.officer_id, "officer_name": assignment.officer.name,
                             "due_at": due.due_at.isoformat()},
                       changes={"officer": [before_officer, assignment.officer_id], "return_reason": [None, reason]},
                       fields=("officer", "return_reason"))

