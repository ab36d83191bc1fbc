"""GeoReport v2 endpoints: thin. Each picks the format from the suffix, reads through
`command_center.open311.selectors`, writes through `command_center.services.intake.intake_event`, and answers
every error in the spec's error format (never an HTML page).

Authentication: reads are public, as the spec has them (and carry no personal data). POST requests needs
`api_key`: the DRF token of an active user whose role may report events (api_client, dispatcher, …);
a missing or unknown key, or a role that may not report, is 403.
"""
import functools
import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from command_center.choices import Source
from command_center.open311 import selectors
from command_center.open311.formats import FORMATS, error, respond
from command_center.services import base, intake
from core.exceptions import DomainError, Forbidden, ValidationFailed
from core.roles import has_role

logger = logging.getLogger(__name__)

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
# The spec's limit on a request's description (our intake alone would take 5,000).
DESCRIPTION_MAX = 4000
# Our intake's field names → the names the Open311 client sent.
FIELD_NAMES = {
    "lng": "long", "problem_type": "service_code", "address": "address_string",
    "reporter_name": "first_name/last_name", "reporter_phone": "phone",
}


def _describe(exc: DomainError) -> str:
    if exc.fields:
        parts = []
        for name, messages in exc.fields.items():
            text = " ".join(map(str, messages)) if isinstance(messages, (list, tuple)) else str(messages)
            parts.append(f"{FIELD_NAMES.get(name, name)}: {text}")
        return "; ".join(parts)
    return str(exc.message)


def endpoint(*methods):
    """Checks the format suffix (unknown → 404) and the method, maps domain errors to the spec's error
    format: 403 and 404 as they are, everything else (400, 409, 422…) as 400, the only other code the
    spec defines."""
    def wrap(view):
        @functools.wraps(view)
        def run(request, *args, fmt="xml", **kwargs):
            if fmt not in FORMATS:
                return error("xml", 404, _("不支持的格式 .%(fmt)s：请使用 .xml 或 .json。") % {"fmt": fmt[:20]})
            if request.method not in methods:
                response = error(fmt, 405, _("不支持 %(request_method)s 方法。") % {"request_method": request.method})
                response["Allow"] = ", ".join(methods)
                return response
            try:
                request.POST  # noqa: B018  (parsed here, so a body over the limits answers in our format)
            except RequestDataTooBig:
                return error(fmt, 413, _("请求体过大。"))
            except (TooManyFieldsSent, TooManyFilesSent):
                return error(fmt, 400, _("请求中的字段过多。"))
            # NUL characters cannot reach PostgreSQL (psycopg refuses them): a 400, not a 500.
            values = [*kwargs.values(), *request.GET.keys(), *request.POST.keys()]
            values += [v for q in (request.GET, request.POST) for vs in q.lists() for v in vs[1]]
            if any("\x00" in str(v) for v in values):
                return error(fmt, 400, _("参数不能包含空字符（\\x00）。"))
            try:
                return view(request, fmt, *args, **kwargs)
            except DomainError as exc:
                status = exc.status_code if exc.status_code in (403, 404) else 400
                return error(fmt, status, _describe(exc))
        return csrf_exempt(run)
    return wrap


@endpoint("GET")
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:root"))
    changeset = selectors.w3c(selectors.changeset())
    return respond(fmt, "discovery", {
        "changeset": changeset,
        "contact": _("区综合行政执法指挥中心"),
        "key_service": _("api_key 为 API 客户端账号（api_client 角色）的令牌，请向区指挥中心申请。"),
        "endpoints": [{
            "specification": SPEC_URL, "url": base, "changeset": changeset, "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    })


@endpoint("GET")
def service_list(request, fmt):
    return respond(fmt, "services", [selectors.service_row(pt) for pt in selectors.services()])


@endpoint("GET")
def service_definition(request, fmt, code):
    pt = selectors.service(code)
    return respond(fmt, "service_definition", {"service_code": pt.code, "attributes": []})


@endpoint("GET", "POST")
def requests_(request, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    rows = selectors.service_requests(request.GET)
    return respond(fmt, "service_requests", [selectors.request_row(e) for e in rows])


@endpoint("GET")
def request_detail(request, fmt, request_id):
    return respond(fmt, "service_requests", [selectors.request_row(selectors.service_request(request_id))])


def _client(api_key: str):
    api_key = (api_key or "").strip()
    if not api_key:
        raise Forbidden(_("缺少 api_key。"))
    token = Token.objects.select_related("user").filter(key=api_key[:40]).first() if len(api_key) <= 40 else None
    if token is None or not token.user.is_active:
        raise Forbidden(_("api_key 无效。"))
    if not has_role(token.user, *base.INTAKE_ROLES):
        raise Forbidden(_("该 api_key 的账号无权上报事件。"))
    return token.user


def _form(request):
    """POST's parameters: the form body, and the query string too (PyPI's open311 client sends them all,
    api_key included, in the query string); the body wins when both carry a field."""
    form = request.GET.copy()
    for name, values in request.POST.lists():
        form.setlist(name, values)
    return form


def _post_request(request, fmt):
    """POST requests (form-encoded, or in the query string). Mapped onto intake with source "platform"
    (another platform). An unknown or inactive service_code is 404, as the spec has it. There is no
    geocoder: an address_string without lat/long is refused (400). first_name/last_name and phone become
    the reporter (never shown by the public reads); email, device_id, account_id and attribute[…] are
    accepted and ignored. media_url (http/https) is kept as a photo link record (never fetched) and read
    back as the request's media_url."""
    form = _form(request)
    client = _client(form.get("api_key"))
    code = form.get("service_code", "").strip()
    if not code:
        raise ValidationFailed(fields={"service_code": [_("此字段为必填项。")]})
    pt = selectors.service(code)
    lat, lng = form.get("lat", "").strip(), form.get("long", "").strip()
    if not lat or not lng:
        if form.get("address_string", "").strip():
            raise ValidationFailed(fields={"lat": [_("需要 lat/long：本平台不支持按 address_string 定位。")]})
        raise ValidationFailed(fields={"lat": [_("需要 lat/long。")]})
    description = form.get("description", "").strip() or pt.name
    if len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(fields={"description": [_("最多 %(max_length)s 个字符。") % {"max_length": DESCRIPTION_MAX}]})
    media_url = form.get("media_url", "").strip()
    name = " ".join(p for p in (form.get("first_name", "").strip(), form.get("last_name", "").strip()) if p)
    data = {
        "source": Source.PLATFORM, "problem_type": pt.code, "description": description, "lat": lat, "lng": lng,
        "address": form.get("address_string", ""), "reporter_name": name, "reporter_phone": form.get("phone", ""),
    }
    event, _created = intake.intake_event(client, data, media_url=media_url,
                                          idempotency_key=request.headers.get("Idempotency-Key"))
    return respond(fmt, "service_requests", [
        {"service_request_id": str(event.pk), "service_notice": "", "account_id": None},
    ])


def not_found(request, rest=""):
    fmt = "json" if rest.endswith(".json") else "xml"
    return error(fmt, 404, _("接口不存在。"))
