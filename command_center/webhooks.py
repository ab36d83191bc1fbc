"""Webhooks for other platforms: an API client's subscriptions receive the changes live push sends.

On each committed change (the outbox topics `signals.event_changed` and `signals.sla_breached`, a sweep's
batch; run by a worker after the commit, core.outbox) the handler makes one `WebhookDelivery` per matching
subscription, once per outbox row however often the row is run —
active, of an active API client, wanting the kind, with areas (or, when it names none, the client's own
areas) holding the event's area, and the client allowed to see the event — and publishes them (`signals.webhook_deliveries`) through the
outbox, whose handler enqueues `command_center.tasks.deliver_webhook` for each after the commit.

A delivery is a POST of JSON `{"id", "kind", "sent_at", "event": event_row, ...}` (`action` for event
changes, `breach` for `sla.breached`) with the headers `X-Webhook-Id`, `X-Webhook-Timestamp` (unix
seconds) and `X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`. A 2xx
answer is success; anything else (or no answer within WEBHOOK_TIMEOUT_SECONDS) is a failure, retried
after WEBHOOK_BACKOFF_SECONDS[attempt - 1]; after the last one the delivery is `dead`. The log keeps the
status code and a short excerpt of a non-2xx answer, never the whole of it.

Addresses: a subscription's URL may not point at this machine or the intranet (core.egress: checked
when saved, and again when connecting, to the very address checked) unless WEBHOOK_ALLOWED_HOSTS /
WEBHOOK_ALLOWED_NETWORKS name it. A refused send is `dead` at once, `last_error` "refused: <why>".

Production: the task retries itself with Celery (`self.retry(countdown=…)`). The embedded default runs
tasks inline (eager), so a failure is only recorded with `next_attempt_at`, and `retry_due_webhooks`
(Celery beat) sends what is due. Each attempt is claimed by a conditional UPDATE on `attempts`, so a
Celery retry and the periodic sweep never send the same attempt twice.

Nothing here raises into the service that committed or the request that caused it.
"""
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from command_center import push, signals
from command_center.models import WEBHOOK_KINDS, Event, WebhookDelivery, WebhookSubscription
from core import egress, outbox, refcache
from core.roles import API_CLIENT, has_role
from grids import selectors as grid_selectors

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
KINDS = WEBHOOK_KINDS
DEFAULT_BACKOFF = (30, 120, 600, 3600, 6 * 3600)
MAX_ERROR_CHARS = 300
EXCERPT_BYTES = 200   # of a receiver's answer read at all
EXCERPT_CHARS = 120   # of it kept in the log
REFUSED_PREFIX = "refused: "  # last_error of a delivery whose address core.egress refused (status dead)


def backoff_seconds() -> tuple:
    return tuple(getattr(settings, "WEBHOOK_BACKOFF_SECONDS", DEFAULT_BACKOFF))


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5))


# --- signing ---------------------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, timestamp + "." + body): what receivers recompute."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


# --- matching and queueing -------------------------------------------------------------------------

def _subscribers(kind: str) -> list[tuple[WebhookSubscription, list | None, list[str]]]:
    """(subscription, the client's area paths, the subscription's area paths) of the active
    subscriptions wanting `kind`: the process's copy (core.refcache; a change to subscriptions or to
    users' roles and areas drops it)."""
    return refcache.get_keyed(refcache.WEBHOOKS, "subscribers", kind, _load_subscribers)


def _load_subscribers(kind: str) -> list[tuple[WebhookSubscription, list | None, list[str]]]:
    out = []
    subs = (WebhookSubscription.objects.filter(active=True, client__is_active=True)
            .select_related("client").prefetch_related("areas"))
    for sub in subs:
        if kind not in (sub.kinds or ()) or not has_role(sub.client, API_CLIENT):
            continue
        out.append((sub, grid_selectors.user_area_paths(sub.client), [a.path for a in sub.areas.all()]))
    return out


def _matching(subscribers, path: str) -> list[WebhookSubscription]:
    return [
        sub for sub, client_paths, areas in subscribers
        # the client may not see this event, whatever its subscription says
        if grid_selectors.paths_cover(client_paths, path) and grid_selectors.paths_cover(areas or None, path)
    ]


def subscriptions_for(kind: str, event: Event) -> list[WebhookSubscription]:
    """Active subscriptions wanting `kind` whose areas hold the event and whose client may see it."""
    return _matching(_subscribers(kind), event.area.path)


def queue(kind: str, event_id, body: dict, *, source: str = "") -> list[WebhookDelivery]:
    """Deliveries for one change, and their tasks enqueued on commit."""
    return queue_many(kind, [(event_id, body)], source=source)


def queue_many(kind: str, changes, *, source: str = "") -> list[WebhookDelivery]:
    """Deliveries for many changes [(event id, body), …] of one kind (subscriptions and events looked up
    once), and their tasks enqueued on commit. `source`: the outbox row's key; each delivery is then made
    once per (subscription, row, change) however often this runs, and a run again re-enqueues those of
    them never attempted (the runner died between making them and enqueuing them)."""
    subscribers = _subscribers(kind)
    if not subscribers:
        return []
    events = push.event_queryset(Event.objects.select_related("area"), "area__path").in_bulk(
        {event_id for event_id, _body in changes})
    rows = []
    for n, (event_id, body) in enumerate(changes):
        event = events.get(event_id)
        subs = _matching(subscribers, event.area.path) if event is not None else ()
        if subs:
            payload = {"kind": kind, **body, "event": push.event_row(event)}
            key = f"{source}/{n}" if source else ""
            rows += [WebhookDelivery(subscription=sub, kind=kind, event_id=event.pk, payload=payload, source_key=key)
                     for sub in subs]
    if not rows:
        return []
    with transaction.atomic():
        if source:
            WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
            made = list(WebhookDelivery.objects.filter(
                subscription__in={r.subscription_id for r in rows}, source_key__in={r.source_key for r in rows}))
            unsent = [d for d in made if d.status == Status.PENDING and d.attempts == 0]
        else:
            made = unsent = WebhookDelivery.objects.bulk_create(rows)  # ids come back (PostgreSQL; SQLite ≥ 3.35)
        if unsent:
            outbox.publish(signals.webhook_deliveries, {"delivery_ids": [d.pk for d in unsent]})
    return made


def queue_breaches(breaches, *, source: str = "") -> list[WebhookDelivery]:
    """Deliveries for a sweep's batch of breaches ([{"breach_id", "event_id", "stage"}, …])."""
    return queue_many(push.SLA_BREACHED, [
        (b["event_id"], {"breach": {"id": b["breach_id"], "stage": b["stage"]}}) for b in breaches
    ], source=source)


def on_event_changed(payload, message):
    """Outbox handler (run by a worker): the deliveries of one event change. Raises on failure, so the
    outbox retries it."""
    kind, action = payload.get("kind"), payload.get("action")
    if kind == push.EVENT_UPDATED and action in push.ASSIGNMENT_ACTIONS:
        kind = push.ASSIGNMENT_CHANGED
    return queue(kind or push.EVENT_UPDATED, payload["event_id"], {"action": action}, source=message.key)


def on_sla_breached(payload, message):
    """Outbox handler (run by a worker, off the SLA clock's path): a sweep's batch of breaches."""
    return queue_breaches(payload.get("breaches") or (), source=message.key)


def connect():
    """Called from CommandCenterConfig.ready(): matching runs in a worker (deferred), not in the request."""
    outbox.register(signals.event_changed, "command_center.webhooks.event", on_event_changed, deferred=True)
    outbox.register(signals.sla_breached, "command_center.webhooks.sla_breached", on_sla_breached, deferred=True)


# --- sending ---------------------------------------------------------------------------------------

@dataclass
class Outcome:
    delivery_id: int
    sent: bool               # an attempt was made (False: not found, finished, or claimed by someone else)
    status: str | None = None
    retry_in: int | None = None  # seconds until the next attempt, when one is due
    attempt: int = 0


def _excerpt(data: bytes) -> str:
    """The start of a receiver's answer, as one short line: the log is not a window onto other hosts."""
    text = data[:EXCERPT_BYTES].decode("utf-8", "replace")
    return "".join(c if c.isprintable() else " " for c in text)[:EXCERPT_CHARS]


def _post(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    """POST through core.egress (an address it refuses is never connected to: AddressRefused); returns the
    status code and an excerpt of the answer, of which at most EXCERPT_BYTES are read."""
    with egress.client(timeout_seconds()) as client, \
            client.stream("POST", url, content=body, headers={**headers, "Accept-Encoding": "identity"}) as response:
        head = b""
        for chunk in response.iter_raw():  # raw: nothing is decompressed, so a small read stays small
            head += chunk
            if len(head) >= EXCERPT_BYTES:
                break
        return response.status_code, _excerpt(head)


def deliver(delivery_id, attempts_before=None) -> Outcome:
    """Make one attempt at a delivery. `attempts_before`: the attempt count the caller expects (a Celery
    retry passes it, so an attempt the periodic sweep already made is not repeated). Never raises."""
    try:
        return _deliver(delivery_id, attempts_before)
    except Exception:  # noqa: BLE001
        logger.exception("webhooks: delivery %s", delivery_id)
        return Outcome(delivery_id, sent=False)


def _deliver(delivery_id, attempts_before) -> Outcome:
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status not in (Status.PENDING, Status.FAILED):
        return Outcome(delivery_id, sent=False, status=delivery.status if delivery else None)
    seen = delivery.attempts if attempts_before is None else attempts_before
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, attempts=seen, status__in=(Status.PENDING, Status.FAILED),
    ).update(attempts=seen + 1, next_attempt_at=None)
    if not claimed:
        return Outcome(delivery_id, sent=False, status=delivery.status)
    attempt = seen + 1
    sub = delivery.subscription
    now = timezone.now()
    body = json.dumps({"id": delivery.pk, **delivery.payload, "kind": delivery.kind, "sent_at": now.isoformat()},
                      ensure_ascii=False, separators=(",", ":"), default=str).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "enforcement-center-webhooks/1",
        "X-Webhook-Id": str(delivery.pk),
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": sign(sub.secret, timestamp, body),
    }
    code, error, refused = None, "", False
    try:
        code, excerpt = _post(sub.url, body, headers)
        if not 200 <= code < 300:
            error = f"HTTP {code}: {excerpt}"
    except egress.AddressRefused as exc:
        error, refused = f"{REFUSED_PREFIX}{exc.reason}", True
    except Exception as exc:  # noqa: BLE001 — timeouts, refused connections, bad URLs: all failures
        error = f"{type(exc).__name__}: {exc}"
    fields = {"last_status_code": code, "last_error": error[:MAX_ERROR_CHARS]}
    retry_in = None
    if not error:
        fields.update(status=Status.SUCCEEDED, delivered_at=timezone.now(), next_attempt_at=None)
    elif refused:
        # Not retried: the address will not become allowed by waiting (the allow-list is a setting).
        logger.warning("webhooks: delivery %s refused: %s", delivery.pk, error)
        fields.update(status=Status.DEAD, next_attempt_at=None)
    else:
        waits = backoff_seconds()
        if attempt <= len(waits):
            retry_in = int(waits[attempt - 1])
            fields.update(status=Status.FAILED, next_attempt_at=timezone.now() + timedelta(seconds=retry_in))
        else:
            fields.update(status=Status.DEAD, next_attempt_at=None)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return Outcome(delivery.pk, sent=True, status=fields["status"], retry_in=retry_in, attempt=attempt)


def retry_due(now=None, grace_seconds=None, limit=500) -> int:
    """Send the failed deliveries whose next attempt is due (the embedded default's retries, and a safety
    net in production for retries a lost worker dropped: there only those overdue by `grace_seconds`).
    Returns the number of attempts made."""
    now = now or timezone.now()
    if grace_seconds is None:
        grace_seconds = 0 if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) else 300
    due = (WebhookDelivery.objects.filter(status=Status.FAILED,
                                          next_attempt_at__lte=now - timedelta(seconds=grace_seconds))
           .order_by("next_attempt_at").values_list("pk", "attempts")[:limit])
    return sum(1 for pk, attempts in list(due) if deliver(pk, attempts_before=attempts).sent)
