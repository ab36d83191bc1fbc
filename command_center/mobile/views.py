"""The officers' phone page (/m/): server-rendered; its buttons call the same REST API as every other
client (session + CSRF), so the services' checks and refusals are the ones shown here."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center import photos
from command_center.choices import Stage
from command_center.mobile import selectors


def _messages() -> dict:
    """Strings the page's script shows, translated here (the script has no catalog of its own)."""
    return {
        "left": _("剩余"), "late": _("已超时"), "noDeadline": _("无时限"),
        "working": _("提交中…"), "done": _("已提交"), "failed": _("操作失败"),
        "network": _("网络异常，请重试。"), "reasonRequired": _("请填写退回原因。"),
        "resultRequired": _("请填写处置结果。"), "tooMany": _("照片过多"),
        "gpsOff": _("本机不支持定位"), "gpsDenied": _("定位未授权，请在浏览器设置中允许定位"),
        "gpsWaiting": _("正在定位…"), "gpsSent": _("位置已上报"), "gpsFailed": _("位置上报失败"),
        "confirmDecline": _("确认退回该任务？"),
    }


@login_required
def tasks(request):
    """The signed-in officer's live tasks. Other roles (and officer accounts without an officer record)
    get 403: the page acts as the assigned officer and nobody else."""
    officer = selectors.officer_of(request.user)
    if officer is None:
        raise PermissionDenied(_("手机任务页仅供执法队员使用。"))
    rows = selectors.tasks_for(request.user, officer)
    for event in rows:
        d = event.next_deadline
        event.deadline_label = (Stage(d.stage).label if d.stage in Stage.values else d.stage) if d else ""
        event.where = " · ".join(x for x in (event.address, event.grid and event.grid.name,
                                               event.street and event.street.name) if x)
        event.photo_urls = [reverse("event-photo", kwargs={"pk": event.pk, "photo_id": p.pk}) for p in event.report_photos]
    config = {
        "officer": officer.pk,
        "positionUrl": reverse("officer-position", kwargs={"pk": officer.pk}),
        "eventsUrl": reverse("event-list"),
        "serverNow": timezone.now().isoformat(),
        "pingSeconds": getattr(settings, "MOBILE_PING_SECONDS", 15),
        "refreshSeconds": getattr(settings, "MOBILE_REFRESH_SECONDS", 30),
        "maxPhotos": photos.max_per_event(),
        "messages": _messages(),
    }
    return render(request, "command_center/mobile.html", {
        "officer": officer, "tasks": rows, "config": config,
        "photo_max_mb": f"{photos.max_bytes() / (1024 * 1024):g}",
    })
