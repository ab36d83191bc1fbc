"""Dispatch modes (who picks), the dispatch rules bureau staff set, and the dispatchers' sign-on (see
command_center.dispatch)."""
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from command_center.choices import DispatchMode, Severity
from command_center.models import DispatcherShift, DispatchRule, Event
from core import audit
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.roles import BUREAU_STAFF, DISPATCHER, TEAM_LEADER, has_role
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.models import Area

# --- dispatch modes -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModeDecision:
    configured: str | None       # the rule's mode (None: no rule, the event waits in the queue)
    effective: str | None        # what happens now: automatic after a fallback
    next_on_decline: bool        # a decline goes to the next candidate
    rule_id: int | None = None
    fallback: str = ""           # why effective differs from configured (for the timeline: a lazy msgid)

    def as_dict(self) -> dict:
        return {"configured": self.configured, "effective": self.effective, "next_on_decline": self.next_on_decline,
                "rule": self.rule_id, "fallback": str(self.fallback) if self.fallback else None}


def rule_for(street_id, severity: str) -> DispatchRule | None:
    """The street's rule for the severity, else the district default, else None."""
    rules = {r.street_id: r for r in DispatchRule.objects.filter(
        Q(street__isnull=True) | Q(street_id=street_id) if street_id else Q(street__isnull=True), severity=severity)}
    return rules.get(street_id) if street_id in rules else rules.get(None)


def _signed_on(now):
    return DispatcherShift.objects.filter(ended_at__isnull=True, started_at__lte=now, ends_at__gt=now,
                                          user__is_active=True)


def street_desk_signed_on(event: Event, now=None) -> bool:
    """Someone of the street's own desk is signed on: a dispatcher or team leader bound to the event's
    street or an area inside it that holds the event (district-level staff are the central desk)."""
    now = now or timezone.now()
    inside_street = event.area.ancestor_ids[1:]
    return _signed_on(now).filter(user__groups__name__in=(DISPATCHER, TEAM_LEADER),
                                  user__area_memberships__area_id__in=inside_street).exists()


def district_desk_signed_on(event: Event, now=None) -> bool:
    """A dispatcher of the district command center (bound to the district itself) is signed on."""
    now = now or timezone.now()
    root = event.area.ancestor_ids[0] if event.area.ancestor_ids else event.area_id
    return _signed_on(now).filter(
        Q(user__is_superuser=True) | Q(user__groups__name=DISPATCHER, user__area_memberships__area_id=root),
    ).exists()


def mode_for(event: Event, *, now=None) -> ModeDecision:
    now = now or timezone.now()
    rule = rule_for(event.street_id, event.severity)
    if rule is None:
        return ModeDecision(configured=None, effective=None, next_on_decline=False)
    mode, fallback = rule.mode, ""
    if mode == DispatchMode.MANUAL and not street_desk_signed_on(event, now):
        mode, fallback = DispatchMode.AUTOMATIC, gettext_lazy("街道派遣模式下本街道无值班员签到在岗，转为自动派遣")
    elif mode == DispatchMode.CENTRAL and not district_desk_signed_on(event, now):
        mode, fallback = DispatchMode.AUTOMATIC, gettext_lazy("区级统一派遣模式下区指挥中心无值班员签到在岗，转为自动派遣")
    return ModeDecision(configured=rule.mode, effective=mode, rule_id=rule.pk, fallback=fallback,
                        next_on_decline=mode == DispatchMode.AUTOMATIC or rule.next_on_decline)


def is_district_dispatcher(user) -> bool:
    return getattr(user, "is_superuser", False) or (
        has_role(user, DISPATCHER) and grid_selectors.user_area_paths(user) is None)


def check_may_dispatch(actor, event: Event):
    """Central mode: only the district command center's dispatchers pick (the system may too)."""
    if actor is None or is_district_dispatcher(actor):
        return
    rule = rule_for(event.street_id, event.severity)
    if rule is not None and rule.mode == DispatchMode.CENTRAL:
        raise Forbidden(_("该街道此等级事件由区指挥中心统一派遣，只有区指挥中心值班员可以派遣。"), code="central_dispatch")


# --- dispatch rules (bureau staff) ---------------------------------------------------------------

def rules_for(user):
    """Rules the user may see: the district defaults and those of streets in the user's areas."""
    qs = DispatchRule.objects.select_related("street", "updated_by").defer("street__boundary")
    condition = grid_selectors.scope_q(user, "street__path")
    return qs if condition is None else qs.filter(Q(street__isnull=True) | condition)


def check_rule(actor, *, severity, mode, street: Area | None, next_on_decline):
    """May the actor set this rule, and is it valid? (Forbidden / ValidationFailed.)"""
    if actor is not None and not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以设置派遣规则。"))
    errors = {}
    if severity not in Severity.values:
        errors["severity"] = [_("必须是 %(v)s 之一。") % {"v": ", ".join(Severity.values)}]
    if mode not in DispatchMode.values:
        errors["mode"] = [_("必须是 %(v)s 之一。") % {"v": ", ".join(DispatchMode.values)}]
    if not isinstance(next_on_decline, bool):
        errors["next_on_decline"] = [_("必须是 true 或 false。")]
    # Coverage first: an area outside the actor's areas is answered like one that does not exist.
    if street is not None and actor is not None and not grid_selectors.user_covers_area(actor, street):
        errors["street"] = [_("镇街不存在或不在您的辖区。")]
    elif street is not None and street.kind != AreaKind.STREET:
        errors["street"] = [_("只能为镇街设置派遣规则。")]
    if errors:
        raise ValidationFailed(fields=errors)
    if street is None and actor is not None and grid_selectors.user_area_paths(actor) is not None:
        raise Forbidden(_("只有全区账号可以设置全区默认派遣规则。"))


def _rule_values(rule):
    return {"mode": rule.mode, "next_on_decline": rule.next_on_decline}


@transaction.atomic
def create_rule(actor, *, severity, mode, street: Area | None = None, next_on_decline=False) -> DispatchRule:
    """A new rule for (street, severity); street None = the district default. One per pair (409)."""
    check_rule(actor, severity=severity, mode=mode, street=street, next_on_decline=next_on_decline)
    user = actor if getattr(actor, "is_authenticated", False) else None
    existing = DispatchRule.objects.filter(street=street, severity=severity).first()
    if existing is not None:
        raise Conflict(_("该镇街此等级已有派遣规则（#%(id)s），请直接修改它。") % {"id": existing.pk}, code="rule_exists")
    try:
        with transaction.atomic():
            rule = DispatchRule.objects.create(street=street, severity=severity, mode=mode,
                                               next_on_decline=next_on_decline, updated_by=user)
    except IntegrityError:
        raise Conflict(_("该镇街此等级已有派遣规则，请直接修改它。"), code="rule_exists")
    audit.record(actor, "dispatch_rule.created", rule, changes={
        "street": [None, street.pk if street else None], "severity": [None, severity],
        **{k: [None, v] for k, v in _rule_values(rule).items()}})
    return rule


@transaction.atomic
def update_rule(actor, rule, *, mode=None, next_on_decline=None) -> DispatchRule:
    """Change a rule's mode and/or decline behaviour (street and severity are its identity)."""
    rule_id = rule.pk if isinstance(rule, DispatchRule) else rule
    rule = (DispatchRule.objects.select_for_update(of=("self",)).select_related("street")
            .defer("street__boundary").filter(pk=rule_id).first())
    if rule is None or (actor is not None and rule.street_id and not grid_selectors.user_covers_area(actor, rule.street)):
        raise NotFound(_("派遣规则不存在。"))
    before = _rule_values(rule)
    rule.mode = rule.mode if mode is None else mode
    rule.next_on_decline = rule.next_on_decline if next_on_decline is None else next_on_decline
    check_rule(actor, severity=rule.severity, mode=rule.mode, street=rule.street, next_on_decline=rule.next_on_decline)
    rule.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    rule.save(update_fields=["mode", "next_on_decline", "updated_by", "updated_at"])
    audit.record(actor, "dispatch_rule.updated", rule, changes=audit.diff(before, _rule_values(rule)))
    return rule


def install_default_rules(actor=None) -> int:
    """District defaults the demo starts from, for severities that have none: red and orange events are
    assigned at once (minutes count: 1510 gives one minute to sign for), yellow and blue go to the
    street's desk. Returns how many were made."""
    defaults = {"red": DispatchMode.AUTOMATIC, "orange": DispatchMode.AUTOMATIC,
                "yellow": DispatchMode.MANUAL, "blue": DispatchMode.MANUAL}
    made = 0
    for severity, mode in defaults.items():
        if not DispatchRule.objects.filter(street__isnull=True, severity=severity).exists():
            create_rule(actor, severity=severity, mode=mode)
            made += 1
    return made


# --- the dispatchers' sign-on --------------------------------------------------------------------

def _require_desk(actor):
    if not has_role(actor, DISPATCHER, TEAM_LEADER):
        raise Forbidden(_("只有指挥中心值班员或执法队长可以签到值班。"))


def current_shift(user, now=None) -> DispatcherShift | None:
    now = now or timezone.now()
    return _signed_on(now).filter(user=user).first()


@transaction.atomic
def sign_on(actor, *, hours=None) -> DispatcherShift:
    """Start a shift at the desk, for `hours` (1–24; COMMAND_CENTER_SHIFT_HOURS, 12, by default)."""
    _require_desk(actor)
    default = getattr(settings, "COMMAND_CENTER_SHIFT_HOURS", 12)
    try:
        hours = default if hours in (None, "") else float(hours)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"hours": [_("必须是数字。")]})
    if not (isinstance(hours, (int, float)) and math.isfinite(hours) and 0.5 <= hours <= 24):
        raise ValidationFailed(fields={"hours": [_("值班时长须在 0.5 到 24 小时之间。")]})
    now = timezone.now()
    open_ = DispatcherShift.objects.select_for_update().filter(user=actor, ended_at__isnull=True).first()
    if open_ is not None:
        if open_.ends_at > now:
            raise Conflict(_("您已签到值班（至 %(t)s）。") % {"t": f"{timezone.localtime(open_.ends_at):%H:%M}"},
                           code="already_signed_on")
        open_.ended_at = open_.ends_at  # lapsed without a sign-off: it ended when planned
        open_.save(update_fields=["ended_at"])
    try:
        with transaction.atomic():
            shift = DispatcherShift.objects.create(user=actor, started_at=now, ends_at=now + timedelta(hours=hours))
    except IntegrityError:  # a double click that raced this one
        raise Conflict(_("您已签到值班。"), code="already_signed_on")
    audit.record(actor, "dispatcher.signed_on", shift, changes={"ends_at": [None, shift.ends_at.isoformat()]})
    return shift


@transaction.atomic
def sign_off(actor) -> DispatcherShift:
    _require_desk(actor)
    now = timezone.now()
    shift = DispatcherShift.objects.select_for_update().filter(user=actor, ended_at__isnull=True, ends_at__gt=now).first()
    if shift is None:
        raise Conflict(_("您当前未签到值班。"), code="not_signed_on")
    shift.ended_at = now
    shift.save(update_fields=["ended_at"])
    audit.record(actor, "dispatcher.signed_off", shift, changes={"ended_at": [None, now.isoformat()]})
    return shift


def shifts_for(user, now=None):
    """Shifts signed on now by desk users of the asking user's areas (and the user's own)."""
    now = now or timezone.now()
    qs = _signed_on(now).select_related("user")
    condition = grid_selectors.scope_q(user, "user__area_memberships__area__path")
    if condition is not None:
        qs = qs.filter(condition | Q(user=user))
    return qs.distinct().order_by("started_at", "id")
