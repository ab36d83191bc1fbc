"""The command center's words for the audit page (core.audit_words): its action codes and object kinds.
Registered from CommandCenterConfig.ready()."""
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from command_center.choices import Action, PhotoKind, Stage
from core import audit_words

# event.<action> for every step on an event (command_center.services.base.finish), in the step's words.
EVENT_ACTIONS = {f"event.{value}": format_lazy(_("事件：{action}"), action=label) for value, label in Action.choices}


def _photo_links(value, event_id):
    """An `event.photo_added` record's photos: thumbnails linking to the photo (stored on this platform),
    or the external link an Open311 client gave (never fetched, so shown as a link only)."""
    links = []
    for p in value if isinstance(value, list) else []:
        if not isinstance(p, dict):
            continue
        label = f"{PhotoKind(p['kind']).label if p.get('kind') in PhotoKind.values else p.get('kind', '')} #{p.get('id', '')}"
        if p.get("kind") == PhotoKind.MEDIA_URL:
            links.append({"label": label, "url": p.get("url") or "", "thumb": None})
        elif str(p.get("id", "")).isdigit() and str(event_id).isdigit():
            url = reverse("event-photo", kwargs={"pk": int(event_id), "photo_id": int(p["id"])})
            links.append({"label": label, "url": url, "thumb": url})
    return links


def register():
    from command_center.models import DispatcherShift, DispatchRule, Event, SlaPolicy

    audit_words.register_actions({
        "deliberation.opened": _("提交红茶议事会"), "deliberation.meeting": _("记录议事会议"),
        "deliberation.concluded": _("议事形成结论"),
        **EVENT_ACTIONS,
        "event.created": _("事件：受理上报"),
        "event.photo_added": _("事件：上传照片"),
        "event.sla_breached": _("事件：环节超时"),
        "dispatch_rule.created": _("新建派遣规则"),
        "dispatch_rule.updated": _("修改派遣规则"),
        "dispatcher.signed_on": _("值班员签到"),
        "dispatcher.signed_off": _("值班员签退"),
        "sla_policy.saved": _("保存时限策略"),
        "demo.large_loaded": _("载入调度台压力数据"),
    })
    audit_words.register_object("command_center.event", model=Event, fields={"note": _("说明"), "photos": _("照片"),
                                                                             "deadline": _("时限"), "stage": _("环节")},
                                values={"stage": dict(Stage.choices)}, render={"photos": _photo_links})
    audit_words.register_object("command_center.dispatchrule", model=DispatchRule)
    audit_words.register_object("command_center.dispatchershift", model=DispatcherShift)
    audit_words.register_object("command_center.slapolicy", model=SlaPolicy, fields={"stages": _("时限环节")})
