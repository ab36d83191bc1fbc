"""SLA presets from the articles and the rules a policy's stages must follow.

Minutes count from intake (the citizen's wait), so "1510" reads: signed for within 1 minute of the
report, on site within 5, handled within 10. Each stage names the action that meets it (`met_by`)
and where the event goes when it is missed (`escalate_to`).
"""
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed

from command_center.choices import MET_BY_ACTIONS, EscalationTarget, Severity, Stage


def _stage(stage, minutes, met_by, escalate_to):
    return {"stage": stage, "minutes": minutes, "met_by": met_by, "escalate_to": escalate_to}


NEXT, LEADER, DISTRICT = EscalationTarget.NEXT_RANK.value, EscalationTarget.TEAM_LEADER.value, EscalationTarget.DISTRICT.value

PRESETS = {
    # 青山湖 (orange and red events): sign for on the phone 1 / arrive 5 / simple events handled and reported 10.
    "1510": {
        "name": "1510（1分钟签收、5分钟到场、10分钟处置）",
        "stages": [
            _stage(Stage.SIGN_FOR.value, 1, "accept", NEXT),
            _stage(Stage.ARRIVE.value, 5, "arrive", LEADER),
            _stage(Stage.HANDLE.value, 10, "resolve", DISTRICT),
        ],
    },
    # 翠苑: respond 1 / link up 3 / arrive 5 / report the handling 8.
    "1358": {
        "name": "1358（1分钟响应、3分钟联动、5分钟到场、8分钟反馈）",
        "stages": [
            _stage(Stage.RESPOND.value, 1, "accept", NEXT),
            _stage(Stage.LINK_UP.value, 3, "accept", LEADER),
            _stage(Stage.ARRIVE.value, 5, "arrive", LEADER),
            _stage(Stage.REPORT.value, 8, "resolve", DISTRICT),
        ],
    },
    # 余杭: respond 1 / set out 3 / handle 15. No separate "set out" action yet: signing for it counts.
    "1315": {
        "name": "1315（1分钟响应、3分钟出发、15分钟处置）",
        "stages": [
            _stage(Stage.RESPOND.value, 1, "accept", NEXT),
            _stage(Stage.SET_OUT.value, 3, "accept", LEADER),
            _stage(Stage.HANDLE.value, 15, "resolve", DISTRICT),
        ],
    },
    # 河庄: 20-minute fast response (on site within 20 minutes).
    "20": {
        "name": "20分钟快速响应",
        "stages": [_stage(Stage.ARRIVE.value, 20, "arrive", LEADER)],
    },
}

# The district defaults a fresh install starts with (bureau staff change them; streets may override).
DEFAULT_PRESET_BY_SEVERITY = {
    Severity.RED.value: "1510",
    Severity.ORANGE.value: "1510",
    Severity.YELLOW.value: "1315",
    Severity.BLUE.value: "20",
}

MAX_STAGE_MINUTES = 60 * 24 * 30


def validate_stages(stages, field="stages") -> list[dict]:
    """Normalised stages, or ValidationFailed naming the first problem of each bad stage."""
    if not isinstance(stages, list) or not stages:
        raise ValidationFailed(fields={field: [_("至少需要一个时限环节。")]})
    out, errors, seen, last = [], [], set(), 0
    for i, raw in enumerate(stages, start=1):
        if not isinstance(raw, dict):
            errors.append(_("第%(n)s个环节格式错误。") % {"n": i})
            continue
        stage = str(raw.get("stage") or "").strip()
        met_by = raw.get("met_by")
        escalate_to = raw.get("escalate_to") or LEADER
        minutes = raw.get("minutes")
        if not stage or len(stage) > 16:
            errors.append(_("第%(n)s个环节缺少环节编码（最多16个字符）。") % {"n": i})
        elif stage in seen:
            errors.append(_("环节 %(stage)s 重复。") % {"stage": stage})
        if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not (0 < minutes <= MAX_STAGE_MINUTES):
            errors.append(_("第%(n)s个环节的分钟数必须是大于0的数字。") % {"n": i})
        elif minutes < last:
            errors.append(_("第%(n)s个环节的时限早于上一环节（分钟数从受理起算，不能递减）。") % {"n": i})
        else:
            last = minutes
        if met_by not in MET_BY_ACTIONS:
            errors.append(_("第%(n)s个环节的完成动作必须是 %(met_by_actions)s 之一。")
                % {"n": i, "met_by_actions": ', '.join(MET_BY_ACTIONS)})
        if escalate_to not in EscalationTarget.values:
            errors.append(_("第%(n)s个环节的升级对象必须是 %(values)s 之一。")
                % {"n": i, "values": ', '.join(EscalationTarget.values)})
        seen.add(stage)
        out.append(_stage(stage, minutes, met_by, escalate_to))
    if errors:
        raise ValidationFailed(fields={field: errors})
    return out
