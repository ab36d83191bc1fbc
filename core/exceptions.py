"""Domain errors raised by services and selectors; core.api.errors maps them to HTTP in one place."""


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message="", *, fields=None, code=None):
        super().__init__(message or self.__class__.__doc__ or "")
        self.message = message or (self.__class__.__doc__ or "").strip()
        self.fields = fields or {}
        if code:
            self.code = code

    def body(self) -> dict:
        """The JSON an API answers for this error (core.api.errors; asynchronous intake stores it too):
        field messages as {"field": ["message"]}, otherwise {"detail", "code"}."""
        if self.fields:
            return {k: v if isinstance(v, list) else [str(v)] for k, v in self.fields.items()}
        return {"detail": str(self.message), "code": self.code}

    def __str__(self):
        if self.fields:
            return f"{self.message} " + "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                                  for k, v in self.fields.items())
        return str(self.message)


class ValidationFailed(DomainError):
    """The input is not valid."""

    status_code = 400
    code = "invalid"


class NotFound(DomainError):
    """Not found."""

    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    """You may not do this."""

    status_code = 403
    code = "permission_denied"


class Conflict(DomainError):
    """This conflicts with the current state."""

    status_code = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    """The record changed since you read it."""

    status_code = 412
    code = "precondition_failed"


class PreconditionRequired(DomainError):
    """This change must name the version it was made from (If-Match)."""

    status_code = 428
    code = "precondition_required"


class LockedOut(DomainError):
    """Too many failed logins: locked for a while."""

    status_code = 429
    code = "locked_out"

    def __init__(self, message="", *, retry_after=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unprocessable(DomainError):
    """The request is well-formed but cannot be processed."""

    status_code = 422
    code = "unprocessable"
