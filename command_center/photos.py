"""Event photos: checked uploads, stored under MEDIA_ROOT, served only to those who may see the event.

- An upload is accepted when its *content* is a JPEG, PNG or WebP image (Pillow decides, restricted to
  those three decoders; a name ending in .exe or .svg is refused too), no larger than
  EVENT_PHOTO_MAX_BYTES and EVENT_PHOTO_MAX_PIXELS, and the event keeps at most EVENT_PHOTO_MAX_PER_EVENT
  uploads. Bad files → ValidationFailed on the `photos` field (400), naming the file.
- Kinds: report (with the report, at intake or later), result (with the handling, at resolve), and
  media_url: an Open311 client's link to its own picture, recorded as a link and never fetched.
- Every write is one transaction with the event row locked: photos, a timeline line, an audit record,
  a push on commit. Files written before a rollback are removed again, so nothing is half-written.
- Photos are evidence: stored as uploaded (SHA-256 recorded), never edited or deleted here.
"""
import hashlib
import io
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center import selectors
from command_center.choices import FINAL_STATUSES, Action, PhotoKind, Status
from command_center.models import Event, EventPhoto
from command_center.services import base, transitions
from core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from core.ids import MAX_ID
from core.roles import ALL_ROLES, has_role

# Pillow format → (MIME type, file extension we store it under).
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
ALLOWED_EXTENSIONS = {"jpg", "jpeg", "jpe", "png", "webp"}
FIELD = "photos"
# Result photos belong to the handling: from signing for it to after it is reported.
RESULT_STATUSES = (Status.ACCEPTED, Status.ON_SITE, Status.RESOLVED, Status.DELIBERATION)


def max_bytes() -> int:
    return int(getattr(settings, "EVENT_PHOTO_MAX_BYTES", 8 * 1024 * 1024))


def max_per_event() -> int:
    return int(getattr(settings, "EVENT_PHOTO_MAX_PER_EVENT", 12))


def max_pixels() -> int:
    return int(getattr(settings, "EVENT_PHOTO_MAX_PIXELS", 50_000_000))


@dataclass
class CheckedPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str
    original_name: str


class Refused(ValueError):
    """Why one upload is not accepted (a message for the uploader)."""


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def check_upload(upload) -> CheckedPhoto:
    """The upload as a CheckedPhoto, or Refused with the reason (in the user's language)."""
    name = str(getattr(upload, "name", "") or "").replace("\x00", "")[-255:]
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes():
        raise Refused(_("文件过大（上限 %(limit)s）。") % {"limit": _megabytes(max_bytes())})
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension and extension not in ALLOWED_EXTENSIONS:
        raise Refused(_("只支持 JPEG、PNG 或 WebP 图片。"))
    content = upload.read(max_bytes() + 1)
    if not content:
        raise Refused(_("文件为空。"))
    if len(content) > max_bytes():
        raise Refused(_("文件过大（上限 %(limit)s）。") % {"limit": _megabytes(max_bytes())})
    from PIL import Image

    too_many_pixels = _("图片尺寸过大（上限 %(mp)s 百万像素）。") % {"mp": max_pixels() // 1_000_000}
    try:
        # Pillow refuses a decompression bomb itself (DecompressionBombError, far above our own limit,
        # which is checked from the header before any pixel is decoded).
        with Image.open(io.BytesIO(content), formats=list(FORMATS)) as image:
            fmt, (width, height) = image.format, image.size
            if width * height > max_pixels():
                raise Refused(too_many_pixels)
            image.verify()  # structure and checksums, without decoding every pixel
    except Refused:
        raise
    except Image.DecompressionBombError:
        raise Refused(too_many_pixels)
    except Exception:  # noqa: BLE001 — Pillow raises many kinds for a file that is not a valid image
        raise Refused(_("不是有效的 JPEG、PNG 或 WebP 图片。"))
    content_type, ext = FORMATS[fmt]
    return CheckedPhoto(content=content, content_type=content_type, extension=ext, width=width, height=height,
                        sha256=hashlib.sha256(content).hexdigest(), original_name=name)


def check_uploads(files) -> list[CheckedPhoto]:
    """Check every file; all the problems at once, each naming its file, as errors of the photos field."""
    files = list(files or ())
    if len(files) > max_per_event():
        raise ValidationFailed(fields={FIELD: [_("一次最多上传 %(n)d 张照片。") % {"n": max_per_event()}]})
    checked, errors = [], []
    for index, upload in enumerate(files, start=1):
        try:
            checked.append(check_upload(upload))
        except Refused as exc:
            label = str(getattr(upload, "name", "") or "").replace("\x00", "")[:100] or _("第 %(n)d 个文件") % {"n": index}
            errors.append(f"{label}：{exc}")
    if errors:
        raise ValidationFailed(fields={FIELD: errors})
    return checked


def check_media_url(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except Exception:  # noqa: BLE001 — Django's ValidationError, or a value it cannot even parse
        raise ValidationFailed(fields={"media_url": [_("必须是 http(s) 网址。")]})
    if len(url) > 1000:
        raise ValidationFailed(fields={"media_url": [_("最多 1000 个字符。")]})
    return url


# --- writes -----------------------------------------------------------------------------------

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
    label = base.actor_label(actor)
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
    note = _("%(kind)s %(n)d 张") % {"kind": PhotoKind(kind).label, "n": len(rows)}
    base.trace(actor, event, Action.PHOTO, now, audit_action="event.photo_added", changes={"photos": [None, [
        {"id": r.pk, "kind": r.kind, "sha256": r.sha256, "size": r.size, "url": r.url} for r in rows
    ]]}, from_status=event.status, to_status=event.status, note=note, data={"kind": kind, "photos": [r.pk for r in rows]})
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


def check_report(files=(), media_url: str = "") -> tuple[list[CheckedPhoto], str]:
    """A report's pictures, checked before intake writes anything: the uploads and an Open311 media_url."""
    return (check_uploads(files) if files else []), (check_media_url(media_url) if media_url else "")


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
        uploaded_by_label=base.actor_label(actor), uploaded_at=now,
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


# --- reads ------------------------------------------------------------------------------------

def get_photo_for(user, event_id, photo_id) -> EventPhoto:
    """A stored photo the user may see: a role of the product, and the event in the user's areas
    (another street's event answers 404, as its details do)."""
    if not has_role(user, *ALL_ROLES):
        raise Forbidden(_("您的角色无权查看事件照片。"))
    event = selectors.get_event_for(user, event_id)
    try:
        photo_id = int(photo_id)
        if not 0 < photo_id <= MAX_ID:
            raise ValueError(photo_id)
        photo = EventPhoto.objects.get(pk=photo_id, event=event)
    except (EventPhoto.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("照片不存在。"))
    if not photo.file:
        raise NotFound(_("该照片是外部链接，请直接访问其地址。"))
    return photo


def open_photo(photo: EventPhoto):
    try:
        return photo.file.open("rb")
    except (FileNotFoundError, OSError):
        raise NotFound(_("照片文件不存在。"))
