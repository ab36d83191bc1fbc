"""Every API error is JSON: field errors as {"field": ["message"]}, others as {"detail", "code"}."""
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError

logger = logging.getLogger(__name__)


def busy_retry_after() -> str:
    """Seconds a client should wait before retrying when the database is busy or unreachable."""
    return "2"


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        response = Response(exc.body(), status=exc.status_code)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            body = {"detail": " ".join(str(m) for m in exc.messages), "code": "invalid"}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # A constraint caught what validation missed (e.g. a concurrent duplicate): a conflict, not a crash.
        return Response({"detail": _("与已有记录冲突。"), "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, OperationalError):
        # The database could not serve this request: SQLite's write lock held past its busy timeout under a
        # burst, PostgreSQL out of connections or restarting. The transaction rolled back, nothing was
        # written: a retryable 503, not a crash.
        logger.warning("database unavailable for %s: %s", getattr(context.get("request"), "path", "?"), exc)
        response = Response({"detail": _("系统繁忙，请稍后重试。"), "code": "busy"},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = busy_retry_after()
        return response
    if isinstance(exc, (DataError, OverflowError)):
        # A value the database can't hold (a number beyond bigint, a string beyond its column) that
        # validation let through: the input is wrong, the server is fine.
        return Response({"detail": _("输入的值超出允许范围。"), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):
        # PostgreSQL refuses NUL in text (psycopg raises before sending the query, so the transaction
        # is intact). A view that passes a raw parameter to a query would otherwise answer 500.
        return Response({"detail": _("请求中含有不允许的空字符（NUL）。"), "code": "invalid"},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):  # as DRF's handler does, but here, so the code below sees the APIException
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError) and isinstance(response.data, list):
        # raise ValidationError("…") outside a serializer (a view, a filter such as DRF's search refusing a
        # NUL) answers a bare list: give it the documented {"detail", "code"} shape.
        codes = exc.get_codes()
        code = codes[0] if isinstance(codes, list) and codes and isinstance(codes[0], str) else "invalid"
        response.data = {"detail": " ".join(str(m) for m in response.data), "code": code}
    elif response is not None and isinstance(exc, exceptions.APIException) and isinstance(response.data, dict) \
            and set(response.data) == {"detail"}:
        # DRF's own errors (401/403/404/405/406/413/415/429, parse errors) say only "detail": add the
        # machine-readable code, so every non-field error has the one documented shape.
        codes = exc.get_codes()
        response.data["code"] = codes if isinstance(codes, str) else exc.default_code
    return response
