"""Password guessing: django-axes locks an account, or a client address, after repeated failed logins
(settings: "Security"). This module is the glue: which address a request comes from, the per-address
limit, audit records of failures and lock-outs, and the lock-out message on the login pages and the API.

Every HTTP entry point that checks a password passes its request to authenticate(): the login page and
the admin (Django's forms), the token endpoint (DRF's serializer). Axes sees only those.
"""
import ipaddress
import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_lockout_parameters
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AnonymousUser
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit

API_PREFIXES = ("/api/",)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT = N proxies the N-th address from
    the right of X-Forwarded-For (DRF's NUM_PROXIES rule). A header the client wrote alone is never read
    while N is 0. (django-ipware's proxy count means the proxies *listed in* the header, so its "1" is not
    DRF's "1": one rule here keeps the lock-out, the throttle and the audit log on the same address.)"""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0 or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",")]
    candidate = addresses[-min(count, len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_message() -> str:
    return _("登录失败次数过多，已暂时锁定，请 %(minutes)s 分钟后再试。") % {"minutes": lockout_minutes()}


def is_locked_out(request) -> bool:
    """Whether axes refused (or just locked) the login attempt made with this request."""
    return bool(getattr(request, "axes_locked_out", False))


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check, skipped when there is no request: authenticate() without one (the test client's
    login(), a shell) is not reachable over HTTP, and axes would raise there."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class AuditedLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler (counts shared by every process), with a limit of its own per address and
    an audit record for every failed login, lock-out and refused attempt."""

    def get_failures(self, request, credentials=None) -> int:
        counts = {}
        for parameter, attempts in zip(get_lockout_parameters(request, credentials),
                                       self.get_user_attempts(request, credentials)):
            counts[parameter] = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
        # Axes compares one number with AXES_FAILURE_LIMIT: shift the address's count so that it reaches
        # that limit at LOGIN_FAILURE_LIMIT_PER_ADDRESS.
        shift = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS - settings.AXES_FAILURE_LIMIT
        return max(counts.get("username", 0), counts.get("ip_address", 0) - shift)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        refused = request is not None and is_locked_out(request)  # the backend refused: already locked
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        username = (get_client_username(request, credentials) or "")[:150]
        account = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        path = request.META.get("PATH_INFO", "")

        def record(action, **changes):
            audit.record(AnonymousUser(), action, object_type="auth.user",
                         object_id=account.pk if account else "", object_repr=username,
                         changes={"path": [None, path], **{k: [None, v] for k, v in changes.items()}})

        if refused:
            record("auth.login_refused")
            return
        record("auth.login_failed", failures=request.axes_failures_since_start)
        if is_locked_out(request):
            record("auth.locked_out", locked_until=timezone.now() + settings.AXES_COOLOFF_TIME)


class _LockoutAwareMixin:
    """The login form says the account is locked (a form error on the page) instead of "wrong password"."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if self.request is not None and is_locked_out(self.request):
                raise forms.ValidationError(lockout_message(), code="locked_out")
            raise


class LoginForm(_LockoutAwareMixin, AuthenticationForm):
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": gettext_lazy("用户名或密码不正确。")}


class AdminLoginForm(_LockoutAwareMixin, AdminAuthenticationForm):
    pass


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a page keeps its own response (the login form showing the lock-out error)
    with status 429; the API answers JSON 429 with Retry-After."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith(API_PREFIXES) or not isinstance(original_response, HttpResponse):
        response = JsonResponse({"detail": lockout_message(), "code": "locked_out"}, status=429)
    else:
        response = original_response
        response.status_code = 429
    response["Retry-After"] = retry_after
    return response
