"""Every API error is JSON: field errors as {"field": ["message"]}, others as {"detail", "code"}."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        if exc.fields:
            body = {k: v if isinstance(v, list) else [str(v)] for k, v in exc.fields.items()}
        else:
            body = {"detail": str(exc.message), "code": exc.code}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            body = {"detail": " ".join(str(m) for m in exc.messages), "code": "invalid"}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # A constraint caught what validation missed (e.g. a concurrent duplicate): a conflict, not a crash.
        return Response({"detail": "与已有记录冲突。", "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
