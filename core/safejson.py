"""JSON from strangers, bounded: a size cap and a nesting cap checked before the parser runs.

Python's json parser recurses once per level, so 1,000 nested `[` (2 KB) raise RecursionError, and a
structure a little less deep parses but breaks whatever walks it next (serializers, json.dumps, the
audit log). The depth is counted over the bytes first, in C-speed regex passes; RecursionError is still
caught as a second guard (e.g. unbalanced brackets the count leaves to the parser).

Used by the DRF parser (core.api.parsers) and the websocket consumers (core.consumers).
"""
import json
import re

from django.conf import settings

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 64

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)  # brackets inside strings don't nest anything
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")
_EMPTY_PAIRS = re.compile(rb"\[\]|\{\}")


class JsonRejected(ValueError):
    """`kind`: "too_large", "too_deep" or "invalid"."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def max_bytes() -> int:
    return int(getattr(settings, "API_JSON_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_depth() -> int:
    return int(getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def deeper_than(data: bytes, limit: int) -> bool:
    """True when the brackets of `data` nest more than `limit` levels. Each pass removes the innermost
    empty pairs (one level off every branch), so `limit` passes empty any skeleton that is not deeper."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    skeleton = _NOT_BRACKETS.sub(b"", _STRINGS.sub(b"", data))
    for _ in range(limit):
        skeleton, removed = _EMPTY_PAIRS.subn(b"", skeleton)
        if not skeleton or not removed:
            return False  # balanced and shallow enough, or unbalanced: the parser says what is wrong
    return bool(skeleton)


def loads(data, *, limit_bytes: int | None = None, limit_depth: int | None = None, **kwargs):
    """json.loads with the caps; raises JsonRejected (never RecursionError) or json.JSONDecodeError."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    limit_bytes = max_bytes() if limit_bytes is None else limit_bytes
    limit_depth = max_depth() if limit_depth is None else limit_depth
    if len(raw) > limit_bytes:
        raise JsonRejected("too_large", f"body of {len(raw)} bytes, over the limit of {limit_bytes}")
    if deeper_than(raw, limit_depth):
        raise JsonRejected("too_deep", f"nested deeper than {limit_depth} levels")
    try:
        return json.loads(data, **kwargs)
    except RecursionError:
        raise JsonRejected("too_deep", f"nested deeper than {limit_depth} levels") from None
