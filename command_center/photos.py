"""Event photos: checked uploads (here), their writes (command_center.services.photos), stored under MEDIA_ROOT, served only to those who may see the event.

- An upload is accepted when its *content* is a JPEG, PNG or WebP image (core.files.read_image: Pillow
  decides, restricted to those three decoders; a name ending in .exe or .svg is refused too), no larger than
  EVENT_PHOTO_MAX_BYTES and EVENT_PHOTO_MAX_PIXELS, and the event keeps at most EVENT_PHOTO_MAX_PER_EVENT
  uploads. Bad files → ValidationFailed on the `photos` field (400), naming the file.
- Kinds: report (with the report, at intake or later), result (with the handling, at resolve), and
  media_url: an Open311 client's link to its own picture, recorded as a link and never fetched.
- The writes (command_center.services.photos) are each one transaction with the event row locked:
  photos, a timeline line, an audit record, a push on commit. Files written before a rollback are
  removed again, so nothing is half-written.
- Photos are evidence: stored as uploaded (SHA-256 recorded), never edited or deleted here.
"""
from django.conf import settings
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from command_center import selectors
from command_center.models import EventPhoto
from core import files as core_files
from core.exceptions import Forbidden, NotFound, ValidationFailed
from core.ids import MAX_ID
from core.roles import ALL_ROLES, has_role

ALLOWED_EXTENSIONS = {"jpg", "jpeg", "jpe", "png", "webp"}
FIELD = "photos"


def max_bytes() -> int:
    return int(getattr(settings, "EVENT_PHOTO_MAX_BYTES", 8 * 1024 * 1024))


def max_per_event() -> int:
    return int(getattr(settings, "EVENT_PHOTO_MAX_PER_EVENT", 12))


def max_pixels() -> int:
    return int(getattr(settings, "EVENT_PHOTO_MAX_PIXELS", core_files.MAX_PIXELS))


class CheckedPhoto(core_files.CheckedImage):
    """An upload core.files accepted; `original_name` is what EventPhoto keeps of its name."""

    @property
    def original_name(self) -> str:
        return self.name


class Refused(ValueError):
    """Why one upload is not accepted (a message for the uploader)."""


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _messages() -> dict:
    """This API's wording of core.files' refusals (its limits named: the clients show them as they are)."""
    return {
        core_files.TOO_LARGE: _("文件过大（上限 %(limit)s）。") % {"limit": _megabytes(max_bytes())},
        core_files.WRONG_NAME: _("只支持 JPEG、PNG 或 WebP 图片。"),
        core_files.TOO_MANY_PIXELS: _("图片尺寸过大（上限 %(mp)s 百万像素）。") % {"mp": max_pixels() // 1_000_000},
        core_files.NOT_AN_IMAGE: _("不是有效的 JPEG、PNG 或 WebP 图片。"),
    }


def check_upload(upload) -> CheckedPhoto:
    """The upload as a CheckedPhoto, or Refused with the reason (in the user's language)."""
    messages = _messages()
    if not hasattr(upload, "read"):  # core.files would take a string as a data URL: uploads only here
        raise Refused(messages[core_files.NOT_AN_IMAGE])
    try:
        checked = core_files.read_image(upload, max_bytes=max_bytes(), max_pixels=max_pixels(),
                                        extensions=ALLOWED_EXTENSIONS, messages=messages)
    except core_files.NotAnImage as exc:
        raise Refused(str(exc))
    return CheckedPhoto(**vars(checked))


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


def check_report(files=(), media_url: str = "") -> tuple[list[CheckedPhoto], str]:
    """A report's pictures, checked before intake writes anything: the uploads and an Open311 media_url."""
    return (check_uploads(files) if files else []), (check_media_url(media_url) if media_url else "")


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
