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
from core import script_text


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
        "messages": script_text.pick(script_text.PHONE),
    }
    return render(request, "command_center/mobile.html", {
        "officer": officer, "tasks": rows, "config": config,
        "photo_max_mb": f"{photos.max_bytes() / (1024 * 1024):g}",
    })
