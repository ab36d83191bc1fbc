"""Photo writes: photos added to an event, a report's photos as intake's last step, result photos with the
resolution. Each is one transaction with the event row locked: the photos, their traces (timeline line,
audit record) and a push on commit; files written before a rollback are removed again. The uploads are
checked first, by command_center.photos."""
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from command_center import notes, selectors
from command_center.choices import FINAL_STATUSES, Action, PhotoKind, Status
from command_center.models import Event, EventPhoto
from command_center.photos import FIELD, CheckedPhoto, check_media_url, check_uploads, max_per_event
from command_center.services import base, transitions
from core import audit
from core.exceptions import Conflict, Forbidden, ValidationFailed
from core.roles import has_role

# Result photos belong to the handling: from signing for it to after it is reported.
RESULT_STATUSES = (Status.ACCEPTED, Status.ON_SITE, Status.RESOLVED, Status.UNDER_REVIEW, Status.DELIBERATION)


def _officer_id(user):
    officer = base.officer_of(user)
    return officer.pk if officer is not None else None


def _default_kind(actor, event: Event) -> str:
    officer_id = _officer_id(actor) if actor is not None else None
    return PhotoKind.RESULT if officer_id and officer_id == event.officer_id else PhotoKind.REPORT


def _check_may_add(actor, event: Event, kind: str):
    """Who may add which photos: the assigned officer (result or report), the dispatcher or the street's
    team leader (either), the client that reported the event (report). The event is already scoped."""
    if kind not in (PhotoKind.REPORT, PhotoKind.RESULT):
        raise ValidationFailed(fields={"kind": [_("必须是 report 或 result。")]})
    if event.status in FINAL_STATUSES:
        raise Conflict(_("事件已结束（%(status)s），不能再添加照片。") % {"status": Status(event.status).label},
                       code="event_final")
    if kind == PhotoKind.RESULT and event.status not in RESULT_STATUSES:
        raise Conflict(_("事件签收后才能上传处置照片。"), code="illegal_transition")
    if actor is None or getattr(actor, "is_superuser", False):
        return
    if has_role(actor, *base.COMMAND_ROLES):
        return
    if _officer_id(actor) is not None and _officer_id(actor) == event.officer_id:
        return
    if kind == PhotoKind.REPORT and event.client_id is not None and event.client_id == actor.pk:
        return
    raise Forbidden(_("只有处置队员、指挥中心值班员、本街道执法队长或上报方可以为该事件上传照片。"))


def _store(actor, event: Event, checked: list[CheckedPhoto], kind: str, now, saved: list[str]) -> list[EventPhoto]:
    rows = []
    label = audit.actor_label(actor)
    for photo in checked:
        row = EventPhoto(
            event=event, kind=kind, content_type=photo.content_type, size=len(photo.content), width=photo.width,
            height=photo.height, sha256=photo.sha256, original_name=photo.original_name,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None, uploaded_by_label=label,
            uploaded_at=now,
        )
        row.file.save(f"photo.{photo.extension}", ContentFile(photo.content), save=False)
        saved.append(row.file.name)
        row.save()
        rows.append(row)
    return rows


def _record(actor, event: Event, rows: list[EventPhoto], kind: str, now):
    """The traces (timeline line, audit record) and the push of one batch of photos."""
    if not rows:
        return
    note, note_data = notes.compose((gettext_lazy("%(kind)s %(n)d 张"), {"kind": PhotoKind(kind).label, "n": len(rows)}))
    base.trace(actor, event, Action.PHOTO, now, audit_action="event.photo_added", changes={"photos": [None, [
        {"id": r.pk, "kind": r.kind, "sha256": r.sha256, "size": r.size, "url": r.url} for r in rows
    ]]}, from_status=event.status, to_status=event.status, note=note, data={**note_data, "kind": kind, "photos": [r.pk for r in rows]})
    # Not a decision: the version (ETag) stays, so a dispatcher's If-Match does not go stale.
    base.publish_change(event, "event.updated", action=Action.PHOTO)


def _count(event: Event) -> int:
    return EventPhoto.objects.filter(event=event).exclude(kind=PhotoKind.MEDIA_URL).count()


def _check_room(event: Event, adding: int):
    have = _count(event)
    if have + adding > max_per_event():
        raise ValidationFailed(fields={FIELD: [
            _("每个事件最多 %(max)d 张照片，已有 %(have)d 张。") % {"max": max_per_event(), "have": have},
        ]})


def _attach(actor, event, checked, kind, now, saved):
    _check_room(event, len(checked))
    rows = _store(actor, event, checked, kind, now, saved)
    _record(actor, event, rows, kind, now)
    return rows


def _remove_files(names):
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # pragma: no cover - nothing more to undo
            pass


@contextmanager
def files_removed_on_failure():
    """Yields the list a write adds its stored files' names to; if the write fails, they are deleted (its
    transaction rolled back their rows)."""
    saved: list[str] = []
    try:
        yield saved
    except BaseException:
        _remove_files(saved)
        raise


def _atomic_with_files(work):
    """Run work(saved) in one transaction; if it fails, delete the files it wrote."""
    with files_removed_on_failure() as saved, transaction.atomic():
        return work(saved)


def add_photos(actor, event, files, *, kind: str | None = None) -> list[EventPhoto]:
    """POST /events/{id}/photos/: add photos to an event (kind defaults to result for the assigned
    officer, report for everyone else)."""
    if not files:
        raise ValidationFailed(fields={FIELD: [_("请选择要上传的照片。")]})
    checked = check_uploads(files)

    def work(saved):
        locked = base.lock(event)
        if actor is not None:
            base.require_covers(actor, locked)
        chosen = kind or _default_kind(actor, locked)
        _check_may_add(actor, locked, chosen)
        return _attach(actor, locked, checked, chosen, timezone.now(), saved)

    return _atomic_with_files(work)


def attach_report(client, event: Event, pictures: tuple[list[CheckedPhoto], str], saved: list[str]):
    """Intake's last step, in its transaction: the report photos and the media_url link, each with its traces."""
    checked, media_url = pictures
    if not (checked or media_url):
        return
    now = timezone.now()
    if checked:
        _attach(client, event, checked, PhotoKind.REPORT, now, saved)
    if media_url:
        add_media_link(client, event, media_url, now)
    selectors.forget_written(event)  # its timeline and photos grew: the answer reads them


def add_media_link(actor, event: Event, url: str, now=None) -> EventPhoto:
    """An Open311 client's media_url: kept as a link record, never fetched (we don't reach out to
    addresses a client names)."""
    now = now or timezone.now()
    row = EventPhoto.objects.create(
        event=event, kind=PhotoKind.MEDIA_URL, url=check_media_url(url),
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        uploaded_by_label=audit.actor_label(actor), uploaded_at=now,
    )
    _record(actor, event, [row], PhotoKind.MEDIA_URL, now)
    return row


def resolve_with_photos(actor, event, result: str, files=(), *, expected_version=None) -> Event:
    """The officer reports the handling with result photos: one transaction, or nothing at all."""
    checked = check_uploads(files) if files else []

    def work(saved):
        resolved = transitions.resolve(actor, event, result, expected_version=expected_version)
        if checked:
            _attach(actor, resolved, checked, PhotoKind.RESULT, timezone.now(), saved)
        return resolved

    return _atomic_with_files(work)
