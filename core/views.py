from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render, resolve_url
from django.utils.translation import gettext as _
from django.views import defaults
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from core import audit_words
from core.audit_filters import AuditFilterForm
from core.exceptions import LockedOut, ValidationFailed
from core.login_guard import is_locked_out, lockout_message
from core.models import AuditLog
from core.roles import BUREAU_STAFF, has_role, user_roles


class ObtainTokenView(ObtainAuthToken):
    """POST username + password, get {"token": "..."} for `Authorization: Token ...`.

    Throttled per client address (AnonRateThrottle: 429 "throttled") and guarded by axes: after repeated
    failures the account or the address is locked for a while, 429 with code "locked_out" and Retry-After
    (core.login_guard)."""

    throttle_classes = [AnonRateThrottle]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # the capped JSON parser (DRF's view names its own)

    @extend_schema(
        request=inline_serializer("TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}),
        # 400 (wrong username or password: field errors) and 429 (code "locked_out": the account or the
        # address is locked for LOGIN_LOCKOUT_MINUTES, see Retry-After; or "throttled") are declared with
        # the shared error components by core.api.schema.
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
    )
    def post(self, request, *args, **kwargs):
        # The serializer's authenticate() gets this request (its context), so axes counts and refuses.
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if is_locked_out(request):
                raise LockedOut(lockout_message(), retry_after=int(settings.AXES_COOLOFF_TIME.total_seconds()))
            raise ValidationFailed(fields=serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


def landing_url(user) -> str:
    """Where a user lands after signing in: the page of the first of their roles that
    settings.LOGIN_REDIRECT_BY_ROLE names (officers: the phone page), else LOGIN_REDIRECT_URL. A
    superuser lands on the default (they hold every role)."""
    if not getattr(user, "is_superuser", False):
        roles = user_roles(user)
        for role, target in getattr(settings, "LOGIN_REDIRECT_BY_ROLE", {}).items():
            if role in roles:
                return resolve_url(target)
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Django's login; without an (allowed) ?next= the user lands on their role's page (`landing_url`)."""

    def get_default_redirect_url(self):
        return landing_url(self.request.user)


@login_required
def home(request):
    return render(request, "home.html")


@login_required
def audit_log(request):
    if not has_role(request.user, BUREAU_STAFF):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    qs = form.filter(AuditLog.objects.select_related("actor"))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", {"page": page, "form": form, "rows": audit_words.describe(page)})


def page_not_found(request, exception):
    """404 for a URL that matches nothing: JSON under /api/ and /open311/ (clients parse it), the
    usual page elsewhere."""
    if request.path.startswith(("/api/", "/open311/")):
        return JsonResponse({"detail": _("接口或对象不存在。"), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def favicon(request):
    """/favicon.ico, which browsers ask for before reading a page's <link rel="icon">: the vendored icon,
    cached for a day (pages link the SVG from static/img)."""
    from django.contrib.staticfiles import finders
    from django.http import FileResponse, Http404

    path = finders.find("img/favicon.ico")
    if not path:
        raise Http404
    response = FileResponse(open(path, "rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
