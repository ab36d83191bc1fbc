"""Asynchronous intake for machine feeds (AI cameras, IoT platforms, the 12345 bridge): accepted at once,
processed durably.

- `submit` / `submit_many`: `POST /api/v1/events/` with `Prefer: respond-async` (one report) and
  `POST /api/v1/event-submissions/` (up to EVENT_SUBMISSION_BULK_MAX): one INSERT of the raw bodies, the
  client and the Idempotency-Key, nothing else. A client whose roles may not report is refused (403) first,
  as the synchronous path does, from the per-process copy of the roles (core.refcache: no query); what
  needs the report located (the client's areas) is checked by the worker. Past EVENT_SUBMISSION_MAX_BACKLOG pending submissions the
  answer is 503 with Retry-After instead: nothing is accepted that the workers cannot keep up with.
- `work` (Celery beat's `process_event_submissions` every second, the embedded ticker in `make run`,
  or `manage.py process_event_submissions` processes): each submission goes through the same
  `services.intake.intake_event` as the synchronous path, in its own transaction, which also marks it
  done (with its event) or failed (with the errors the synchronous answer would have carried). Exactly
  once: a worker locks the row it takes (PostgreSQL `FOR UPDATE SKIP LOCKED`: another worker takes the
  next one instead of waiting; SQLite's IMMEDIATE transactions hold the one write lock for the whole
  step). In order per client: a worker only takes the oldest pending submission of a client, so a
  client's second report waits while its first is being processed.
"""
import hashlib
import json
import logging
import threading
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from command_center.choices import SubmissionStatus
from command_center.models import EventSubmission
from command_center.services import base, intake
from core.exceptions import DomainError, NotFound, Unprocessable, ValidationFailed
from core.ids import MAX_ID

logger = logging.getLogger(__name__)

KEY_SUFFIX_ROOM = 4  # a bulk item's key is "<Idempotency-Key>:<index>"


class Backlogged(DomainError):
    """Too many reports are waiting to be processed: try again later."""

    status_code = 503
    code = "backlog_full"

    def __init__(self, message="", *, retry_after=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


def _setting(name, default):
    return getattr(settings, name, default)


# --- accepting ----------------------------------------------------------------------------------

def body_hash(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                     default=str).encode()).hexdigest()


def submit(client, body, idempotency_key: str | None = None, *, language: str = "") -> tuple[EventSubmission, bool]:
    """Accept one report for later processing. Returns (submission, created): a retry with the same
    Idempotency-Key returns the first submission; the same key with another body is refused (422)."""
    base.require_may_report(client)  # at once, nothing stored; intake checks again in the worker
    if not isinstance(body, dict):
        raise ValidationFailed(_("请求体必须是一个 JSON 对象。"))
    key = base.clean_str(idempotency_key, "Idempotency-Key", required=False,
                         max_length=intake.IDEMPOTENCY_KEY_MAX_LENGTH)
    rows, created = _accept(client, [body], [key], language)
    return rows[0], created


def submit_many(client, bodies, idempotency_key: str | None = None, *, language: str = "") -> tuple[list, bool]:
    """Accept up to EVENT_SUBMISSION_BULK_MAX reports at once (one INSERT). With an Idempotency-Key, item
    i carries the key "<key>:<i>", so a retried batch returns the same submissions."""
    base.require_may_report(client)  # at once, nothing stored; intake checks again in the worker
    limit = int(_setting("EVENT_SUBMISSION_BULK_MAX", 500))
    if not isinstance(bodies, list) or not bodies:
        raise ValidationFailed(fields={"events": [_("必须是一个非空的事件列表。")]})
    if len(bodies) > limit:
        raise ValidationFailed(fields={"events": [
            _("一次最多提交 %(limit)s 条，本次 %(count)s 条：请分批提交。") % {"limit": limit, "count": len(bodies)}]})
    bad = [str(i) for i, b in enumerate(bodies) if not isinstance(b, dict)]
    if bad:
        raise ValidationFailed(fields={"events": [_("第 %(items)s 条不是 JSON 对象（从 0 起计）。") % {"items": ", ".join(bad[:10])}]})
    key = base.clean_str(idempotency_key, "Idempotency-Key", required=False,
                         max_length=intake.IDEMPOTENCY_KEY_MAX_LENGTH - KEY_SUFFIX_ROOM)
    keys = [f"{key}:{i}" for i in range(len(bodies))] if key else [""] * len(bodies)
    return _accept(client, bodies, keys, language)


def _accept(client, bodies, keys, language) -> tuple[list, bool]:
    # The 202 path is this one INSERT: the role check before it reads cached roles; the area scope and
    # everything else is intake's, in the worker.
    hashes = [body_hash(b) if k else "" for b, k in zip(bodies, keys)]  # only a key's retry compares them
    rows = [EventSubmission(client=client, body=json.dumps(b), idempotency_key=k, body_hash=h, language=language[:16])
            for b, k, h in zip(bodies, keys, hashes)]
    if not any(keys):
        _make_room(len(rows))
        return EventSubmission.objects.bulk_create(rows), True
    for _attempt in range(2):
        existing = {}
        if _attempt:  # a retry (or a twin racing it) already wrote some: those are answered, not written again
            existing = {s.idempotency_key: s for s in EventSubmission.objects.filter(client=client, idempotency_key__in=keys)}
            for row in rows:
                first = existing.get(row.idempotency_key)
                if first is not None and first.body_hash != row.body_hash:
                    raise Unprocessable(_("该 Idempotency-Key 已用于另一内容不同的请求。"), code="idempotency_key_reused")
        new = [row for row in rows if row.idempotency_key not in existing]
        if not new:
            return [existing[row.idempotency_key] for row in rows], False
        _make_room(len(new))
        try:
            with transaction.atomic():
                made = {s.idempotency_key: s for s in EventSubmission.objects.bulk_create(new)}
        except IntegrityError:
            continue
        return [made.get(row.idempotency_key) or existing[row.idempotency_key] for row in rows], True
    raise IntegrityError("idempotency key raced twice")  # core.api.errors: 409, retry


# --- backpressure ---------------------------------------------------------------------------------

def backlog() -> int:
    """Submissions accepted and not processed yet (the desk's counter, the 503 threshold)."""
    return EventSubmission.objects.filter(status=SubmissionStatus.PENDING).count()


_estimate_lock = threading.Lock()
_estimate = {"at": float("-inf"), "count": 0}


def _make_room(n: int):
    """503 (Retry-After) when accepting n more would pass EVENT_SUBMISSION_MAX_BACKLOG. The count is
    read at most every EVENT_SUBMISSION_BACKLOG_CHECK_SECONDS per process (plus what this process accepted
    since), and on every request once it is within a fifth of the limit: cheap far from it, exact near it."""
    limit = int(_setting("EVENT_SUBMISSION_MAX_BACKLOG", 10000))
    now = time.monotonic()
    with _estimate_lock:
        fresh = now - _estimate["at"] < float(_setting("EVENT_SUBMISSION_BACKLOG_CHECK_SECONDS", 1.0))
        count = _estimate["count"] if fresh and _estimate["count"] + n <= limit * 0.8 else None
    if count is None:
        count = backlog()
        with _estimate_lock:
            _estimate.update(at=now, count=count)
    if count + n > limit:
        raise Backlogged(_("待处理的上报已达上限（%(limit)s 条），请稍后重试。") % {"limit": limit},
                         retry_after=int(_setting("EVENT_SUBMISSION_RETRY_AFTER_SECONDS", 5)))
    with _estimate_lock:
        _estimate["count"] += n


def forget_backlog_estimate():
    """Tests and a changed limit: the next submission reads the backlog afresh."""
    with _estimate_lock:
        _estimate.update(at=float("-inf"), count=0)


# --- reading --------------------------------------------------------------------------------------

def get_for(user, pk) -> EventSubmission:
    """A submission for its client (or staff); anyone else is told it does not exist."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    sub = EventSubmission.objects.filter(pk=pk).first() if pk and 0 < pk <= MAX_ID else None
    if sub is None or (sub.client_id != user.pk and not (user.is_staff or user.is_superuser)):
        raise NotFound(_("该提交不存在。"))
    return sub


# --- processing -----------------------------------------------------------------------------------

def _claim(now):
    """The oldest pending submission that is the oldest pending one of its client, locked; None when
    there is none (or every one is being processed by another worker)."""
    firsts = (EventSubmission.objects.filter(status=SubmissionStatus.PENDING).order_by()
              .values("client_id").annotate(first=Min("id")).values("first"))
    return (EventSubmission.objects.filter(id__in=firsts, status=SubmissionStatus.PENDING, available_at__lte=now)
            .select_related("client").select_for_update(skip_locked=True, of=("self",)).order_by("id").first())


def process_next(now=None) -> bool:
    """Process one submission, in one transaction with the intake it runs; False when none is ready."""
    claimed_id = None
    try:
        with transaction.atomic():
            sub = _claim(now or timezone.now())
            if sub is None:
                return False
            claimed_id = sub.pk
            _process(sub)
        return True
    except OperationalError:
        raise  # busy: the caller retries with backoff
    except Exception as exc:  # noqa: BLE001 — a bug must not stop the queue: retried later, then failed
        if claimed_id is None:
            raise
        logger.exception("event submission %s failed", claimed_id)
        _note_failure(claimed_id, exc)
        return True


def _process(sub: EventSubmission):
    with translation.override(sub.language or settings.LANGUAGE_CODE):
        try:
            with transaction.atomic():
                event, _created = intake.intake_event(sub.client, sub.payload, idempotency_key=sub.idempotency_key or None)
        except DomainError as exc:
            sub.status, sub.error_status, sub.errors = SubmissionStatus.FAILED, exc.status_code, exc.body()
        except DataError:  # a value the database can't hold: as core.api.errors answers it
            sub.status, sub.error_status = SubmissionStatus.FAILED, 400
            sub.errors = {"detail": _("输入的值超出允许范围。"), "code": "invalid"}
        else:
            sub.status, sub.event = SubmissionStatus.DONE, event
    sub.processed_at = timezone.now()
    sub.attempts += 1
    sub.save(update_fields=["status", "event", "error_status", "errors", "processed_at", "attempts"])


def _note_failure(pk, exc):
    """An unexpected error: retried after a backoff (its client's later submissions wait, to keep the
    order), failed for good after EVENT_SUBMISSION_MAX_ATTEMPTS."""
    waits = tuple(_setting("EVENT_SUBMISSION_RETRY_BACKOFF_SECONDS", (5, 30, 120))) or (60,)
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
    with transaction.atomic():
        sub = EventSubmission.objects.select_for_update().filter(pk=pk, status=SubmissionStatus.PENDING).first()
        if sub is None:
            return
        sub.attempts += 1
        sub.last_error = error
        if sub.attempts >= int(_setting("EVENT_SUBMISSION_MAX_ATTEMPTS", 5)):
            sub.status, sub.error_status, sub.processed_at = SubmissionStatus.FAILED, 500, timezone.now()
            sub.errors = {"detail": _("处理失败，请联系管理员。"), "code": "error"}
        else:
            sub.available_at = timezone.now() + timedelta(seconds=waits[min(sub.attempts, len(waits)) - 1])
        sub.save(update_fields=["attempts", "last_error", "status", "error_status", "processed_at", "errors",
                                "available_at"])


def with_busy_retries(func, *, sleep=time.sleep):
    """Run func(); on a busy or locked database (OperationalError) try again after each of
    EVENT_SUBMISSION_BUSY_BACKOFF_SECONDS, then give up (raise: the next tick tries again)."""
    waits = tuple(_setting("EVENT_SUBMISSION_BUSY_BACKOFF_SECONDS", (0.05, 0.1, 0.2, 0.4, 0.8)))
    for wait in (*waits, None):
        try:
            return func()
        except OperationalError:
            if wait is None:
                raise
            logger.warning("event submissions: database busy, retrying in %.2f s", wait)
            connection.close_if_unusable_or_obsolete()
            sleep(wait)


def work(seconds: float | None = None) -> int:
    """Process submissions until none is ready or `seconds` have passed (default
    EVENT_SUBMISSION_WORK_SECONDS); returns how many were processed."""
    seconds = float(_setting("EVENT_SUBMISSION_WORK_SECONDS", 0.9)) if seconds is None else seconds
    end = time.monotonic() + seconds
    done = 0
    while time.monotonic() < end and with_busy_retries(process_next):
        done += 1
    return done
