"""Who and where a request comes from, for audit records, without services reading `request`."""
import contextvars

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)
