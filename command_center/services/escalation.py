"""Escalation: who an event goes up to (the next rank, the team leader, the district), the escalate step,
and the queue's escalation when automatic dispatch finds nobody. The SLA sweep escalates through
`target_for` too."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center.choices import ESCALATION_LEVEL, LEVEL_TARGET, Action, EscalationTarget
from command_center.dispatch import min_rank_for
from command_center.models import Escalation, Event
from command_center.services import base
from core.exceptions import Forbidden
from core.roles import has_role
from grids.models import Area, Officer


def target_for(event: Event, target: str, cache: dict | None = None):
    """(target, level, officer, team, area): the next rank falls back to the team leader when the team
    has nobody higher, the team leader to the district when the event has no team or street. `cache`
    (a dict the caller keeps) spares a sweep the same lookups for every breach of a batch."""
    cache = {} if cache is None else cache
    officer = team = area = None
    if target == EscalationTarget.NEXT_RANK:
        # Above the one holding it, or (unassigned) above the rank that normally handles this severity.
        above = event.officer.rank if event.officer_id else min_rank_for(event.severity)
        if event.team_id:
            key = ("next_rank", event.team_id, above, event.officer_id)
            if key not in cache:
                cache[key] = (Officer.objects.select_related("team").filter(team_id=event.team_id, rank__gt=above)
                              .exclude(pk=event.officer_id or 0).order_by("rank", "id").first())
            officer = cache[key]
        if officer is None:
            target = EscalationTarget.TEAM_LEADER
        else:
            team = officer.team
    if target == EscalationTarget.TEAM_LEADER:
        if event.team_id or event.street_id:
            team, area = event.team, event.street
        else:
            target = EscalationTarget.DISTRICT
    if target == EscalationTarget.DISTRICT:
        root_id = event.area.ancestor_ids[0] if event.area.ancestor_ids else event.area_id
        if ("root", root_id) not in cache:
            cache[("root", root_id)] = Area.objects.defer("boundary").filter(pk=root_id).first()
        area = cache[("root", root_id)]
    return target, ESCALATION_LEVEL[target], officer, team, area


def _may_escalate(actor, event):
    base.require_covers(actor, event)
    officer = base.officer_of(actor)
    if not (actor is None or has_role(actor, *base.COMMAND_ROLES) or (officer is not None and officer.pk == event.officer_id)):
        raise Forbidden(_("只有指挥中心值班员、本街道执法队长或处置队员可以升级事件。"))


def raise_to(event: Event, target: str, now, *, actor=None, reason="", breach=None) -> Escalation:
    target, level, officer, team, area = target_for(event, target)
    esc = Escalation.objects.create(
        event=event, breach=breach, at=now, actor=actor if getattr(actor, "is_authenticated", False) else None,
        target=target, level=level, target_officer=officer, target_team=team, target_area=area, reason=reason[:500],
    )
    event.escalation_level = max(event.escalation_level, level)
    return esc


def escalation_data(esc: Escalation) -> dict:
    return target_data(esc.target, esc.level, esc.target_officer, esc.target_team, esc.target_area)


def target_data(target, level, officer, team, area) -> dict:
    return {
        "target": target, "level": level, "officer": officer.pk if officer else None,
        "team": team.code if team else None, "area": area.code if area else None,
    }


@transaction.atomic
def escalate(actor, event, reason: str, *, expected_version=None) -> Event:
    """Raise the event one step: next rank → team leader → district (the assigned officer may ask too)."""
    event = base.begin(actor, event, Action.ESCALATE, expected_version, _may_escalate)
    reason = base.required_reason(reason)
    now = timezone.now()
    before = event.escalation_level
    esc = raise_to(event, LEVEL_TARGET[min(before + 1, 3)], now, actor=actor, reason=reason)
    return base.finish(actor, event, Action.ESCALATE, now, event.status, note=reason, data=escalation_data(esc),
                       changes={"escalation_level": [before, event.escalation_level]}, fields=("escalation_level",))




def no_candidate_left(event: Event, now, note: str, *, central=False, data=None) -> Event:
    """Automatic dispatch found nobody: the event stays in (or goes back to) the dispatchers' queue, and
    is escalated to whoever picks there (the team leader, or the district center in central mode)."""
    before = event.escalation_level
    esc = raise_to(event, EscalationTarget.DISTRICT if central else EscalationTarget.TEAM_LEADER, now, reason=note)
    return base.finish(None, event, Action.ESCALATE, now, event.status, note=note,
                       data={**(data or {}), "queue": True, "escalation": escalation_data(esc)},
                       changes={"escalation_level": [before, event.escalation_level]}, fields=("escalation_level",))

