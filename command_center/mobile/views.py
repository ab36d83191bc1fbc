"""The officers' phone page (/m/): server-rendered; its buttons call the same REST API as every other
client (session + CSRF), so the services' checks and refusals are the ones shown here. New tasks,
reassignments and withdrawals arrive over `/ws/officer/` (command_center.mobile.push); a new card is
fetched from `/m/tasks/<id>/`, the same markup the page renders."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center import photos
from command_center.choices import Stage
from command_center.mobile import selectors
from core import script_text
from grids.choices import DutyStatus


def _officer(request):
    """The signed-in officer, or 403: the page acts as the assigned officer and nobody else (other roles,
    and officer accounts without an officer record, are refused)."""
    officer = selectors.officer_of(request.user)
    if officer is None:
        raise PermissionDenied(_("手机任务页仅供执法队员使用。"))
    return officer


def _cards(rows):
    """What each card shows beyond the event's fields."""
    for event in rows:
        d = event.next_deadline
        event.deadline_label = (Stage(d.stage).label if d.stage in Stage.values else d.stage) if d else ""
        event.where = " · ".join(x for x in (event.address, event.grid and event.grid.name,
                                               event.street and event.street.name) if x)
        event.photo_urls = [reverse("event-photo", kwargs={"pk": event.pk, "photo_id": p.pk}) for p in event.report_photos]
    return rows


@login_required
def tasks(request):
    """The signed-in officer's live tasks, their duty status and what they finished today."""
    officer = _officer(request)
    rows = _cards(selectors.tasks_for(request.user, officer))
    config = {
        "officer": officer.pk,
        "positionUrl": reverse("officer-position", kwargs={"pk": officer.pk}),
        "eventsUrl": reverse("event-list"),
        "taskUrl": reverse("mobile-task", kwargs={"pk": 0}),  # …/0/ → the task's id
        "socketPath": "/ws/officer/",
        "serverNow": timezone.now().isoformat(),
        "pingSeconds": getattr(settings, "MOBILE_PING_SECONDS", 15),
        "refreshSeconds": getattr(settings, "MOBILE_REFRESH_SECONDS", 30),
        "maxPhotos": photos.max_per_event(),
        "dutyLabels": {value: str(label) for value, label in DutyStatus.choices},
        "messages": script_text.pick(script_text.PHONE),
    }
    return render(request, "command_center/mobile.html", {
        "officer": officer, "tasks": rows, "config": config,
        "done_today": selectors.completed_today(request.user, officer),
        "photo_max_mb": f"{photos.max_bytes() / (1024 * 1024):g}",
    })


@login_required
def task(request, pk):
    """One card of the officer's live tasks (what the page fetches when the stream announces it); 404 for
    a task that is not, or no longer, theirs."""
    officer = _officer(request)
    rows = _cards(selectors.tasks_for(request.user, officer, event_id=pk))
    if not rows:
        raise Http404(_("任务不存在或已不属于您。"))
    return render(request, "command_center/mobile_task.html", {
        "event": rows[0], "photo_max_mb": f"{photos.max_bytes() / (1024 * 1024):g}",
    })
