"""If-Match on state-changing actions: the client names the version it acted on (the ETag `"<id>-v<n>"`
of its GET). Without the header the change is refused (428, RFC 6585): two people acting on what they
saw must not silently overwrite each other. An ETag of another version or another record, or one we
cannot read, fails the precondition (412)."""
import re

from core.exceptions import PreconditionFailed, PreconditionRequired

ETAG = re.compile(r'^(?:W/)?"(\d+)-v(\d+)"$')


def expected_version(request, object_id, *, missing: str, stale: str) -> int | None:
    """The version named by If-Match (None for "*": the client knowingly acts on whatever is current)."""
    raw = (request.headers.get("If-Match") or "").strip()
    if not raw:
        raise PreconditionRequired(missing, code="if_match_required")
    if raw == "*":
        return None
    for tag in raw.split(","):
        m = ETAG.match(tag.strip())
        if m and int(m.group(1)) == int(object_id):
            return int(m.group(2))
    raise PreconditionFailed(stale, code="stale_version")
