"""The SLA policies bureau staff set: the stages of each (street, severity), and the district defaults."""
from django.db import transaction
from django.utils.translation import gettext as _

from command_center import sla
from command_center.choices import Severity
from command_center.models import SlaPolicy
from command_center.services import base
from core import audit
from core.exceptions import ValidationFailed
from core.roles import BUREAU_STAFF
from grids import selectors as grid_selectors
from grids.choices import AreaKind
from grids.models import Area


def check_policy(actor, *, severity: str, stages, street: Area | None = None) -> list[dict]:
    """May the actor set this policy, and is it valid? Returns the normalised stages."""
    base.require_roles(actor, (BUREAU_STAFF,), _("只有区综合执法局工作人员可以设置时限策略。"))
    errors = {}
    if severity not in Severity.values:
        errors["severity"] = [_("必须是 %(values)s 之一。") % {"values": ", ".join(Severity.values)}]
    if street is not None and street.kind != AreaKind.STREET:
        errors["street"] = [_("只能为镇街设置时限策略。")]
    if street is not None and actor is not None and not grid_selectors.user_covers_area(actor, street):
        errors["street"] = [_("该镇街不在您的辖区内。")]
    if street is None and actor is not None and grid_selectors.user_area_paths(actor) is not None:
        errors["street"] = [_("只有全区账号可以设置全区默认策略。")]
    try:
        stages = sla.validate_stages(stages)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return stages


@transaction.atomic
def save_policy(actor, *, severity: str, stages, name: str = "", street: Area | None = None) -> SlaPolicy:
    """Create or replace the policy of (street, severity); street None = the district default.
    Events already open keep their deadlines."""
    stages = check_policy(actor, severity=severity, stages=stages, street=street)
    name = base.clean_str(name, "name", required=False, max_length=100) or "%s %s" % (
        street.name if street else _("全区"), Severity(severity).label)
    policy = SlaPolicy.objects.select_for_update().filter(street=street, severity=severity).first()
    before = {"name": policy.name, "stages": policy.stages} if policy else {"name": None, "stages": None}
    if policy is None:
        policy = SlaPolicy.objects.create(street=street, severity=severity, name=name, stages=stages)
    else:
        policy.name, policy.stages = name, stages
        policy.save(update_fields=["name", "stages", "updated_at"])
    audit.record(actor, "sla_policy.saved", policy, changes=audit.diff(before, {"name": name, "stages": stages}))
    return policy


def install_default_policies(actor=None) -> int:
    """The district defaults from the presets, for any severity that has none. Returns how many."""
    made = 0
    for severity, preset_code in sla.DEFAULT_PRESET_BY_SEVERITY.items():
        if not SlaPolicy.objects.filter(street__isnull=True, severity=severity).exists():
            preset = sla.PRESETS[preset_code]
            save_policy(None if actor is None else actor, severity=severity, stages=preset["stages"], name=preset["name"])
            made += 1
    return made

