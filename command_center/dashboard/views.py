"""The dispatcher's dashboard (/command/), the big screen (/command/screen/) and their figures endpoint.

Thin: the page is a shell that the browser fills from the snapshot, the websocket and the REST API
(every action goes through the same /api/v1/events/ endpoints the other clients use)."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from command_center import submissions
from command_center.choices import Action, Severity, Source, Stage, Status
from command_center.dashboard import selectors
from command_center.push import TERMINAL_STATUSES
# Who may act on events from the drawer (the services check again: the page only hides the buttons).
from command_center.services.base import COMMAND_ROLES
from core import script_text
from core.api.permissions import roles_required
from core.roles import BUREAU_STAFF, DISPATCHER, TEAM_LEADER, has_role
from grids.choices import DutyStatus
from inspections.choices import VisitStatus

DASHBOARD_ROLES = (DISPATCHER, TEAM_LEADER, BUREAU_STAFF)


def _optional_url(name):
    """A URL another app may or may not provide yet (credit colours): None when it does not exist."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _page_config(request) -> dict:
    user = request.user
    return {
        "snapshotUrl": reverse("command-snapshot"),
        "figuresUrl": reverse("command-figures"),
        "eventsUrl": reverse("event-list"),
        "subjectFileUrl": reverse("subject-file", kwargs={"pk": 0}).replace("/0/", "/{id}/"),
        "areasUrl": reverse("areas-geojson"),
        "pointsUrl": reverse("subject-points"),
        "creditColorsUrl": _optional_url("credit-colors"),
        # Today's inspection visits (the map's layer): those that reach the officers, in the user's streets.
        "visitsUrl": reverse("inspection-list"),
        "wsPath": "/ws/command/",
        "canCommand": has_role(user, *COMMAND_ROLES),
        "tileUrl": settings.MAP_TILE_URL,
        "basemapUrl": reverse("map-basemap"),
        # Times on the page in the UI's language and the district's time zone, whatever the desk's browser says.
        "locale": get_language() or settings.LANGUAGE_CODE,
        "timeZone": settings.TIME_ZONE,
        "user": user.get_username(),
        "streets": selectors.streets_for(user),
        "teams": selectors.teams_for(user),
        "problemTypes": selectors.problem_types(),
        "terminal": list(TERMINAL_STATUSES),
        # The header's "dispatchable": on duty with a position no older than this (as the ranking counts).
        "positionFreshSeconds": getattr(settings, "COMMAND_CENTER_POSITION_FRESH_SECONDS", 300),
        "labels": {
            "severity": {k: str(v) for k, v in Severity.choices},
            "status": {k: str(v) for k, v in Status.choices},
            "source": {k: str(v) for k, v in Source.choices},
            "stage": {k: str(v) for k, v in Stage.choices},
            "action": {k: str(v) for k, v in Action.choices},
            "duty": {k: str(v) for k, v in DutyStatus.choices},
            "visitStatus": {k: str(v) for k, v in VisitStatus.choices},
        },
        "messages": script_text.pick(script_text.DESK),
    }


def _severities():
    """(value, label) of the four colours, highest first: the header counters of the desk and the screen."""
    return [(value, str(label)) for value, label in reversed(Severity.choices)]


def _require_dashboard_role(request):
    if not has_role(request.user, *DASHBOARD_ROLES):
        raise PermissionDenied


@login_required
def dashboard(request):
    _require_dashboard_role(request)
    config = _page_config(request)
    return render(request, "command_center/dashboard.html", {"config": config, "can_command": config["canCommand"],
                                                              "severities": _severities(),
                                                              "backlog": submissions.backlog(),
                                                              "hotspot_warnings": _hotspot_warnings(request.user)})


def _hotspot_warnings(user) -> list[dict]:
    """The open hot-area warnings of the user's areas for the desk's map (analytics'; live updates follow)."""
    from analytics.push import desk_warnings

    return desk_warnings(user)


@login_required
def screen(request):
    _require_dashboard_role(request)
    # The screen's panels come from the analytics figures (the same functions as /reports/ and the stats API).
    config = {**_page_config(request), "screenFiguresUrl": _optional_url("stats-screen")}
    return render(request, "command_center/screen.html", {"config": config, "severities": _severities()})


class FiguresView(APIView):
    """Today's figures for the user's areas: events by source and severity, on-time rate by stage, top
    problem types, open and overdue events, officers on duty (the dashboard header and the big screen)."""

    permission_classes = [roles_required(*DASHBOARD_ROLES)]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(selectors.figures_for(request.user))
