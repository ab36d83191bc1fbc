"""Files that are records (evidence, inspection photos, signatures): what a record keeps about its file
(SHA-256, size, name; the record adds who and when) and the check that an image is what it claims.

- `digest(upload)`: SHA-256 and size of an uploaded file, read in chunks, the file rewound.
- `read_image(upload_or_data_url, max_bytes=…)`: a JPEG/PNG/WebP image's bytes, from an uploaded file or
  from a data URL (the phone's canvas, older clients), checked by *content* with Pillow restricted to
  those three decoders, with its SHA-256; `NotAnImage` (a message for the sender) otherwise. Used by
  inspections' checklist photos and the command center's event photos: a caller whose API words a refusal
  its own way passes `messages` (by reason: TOO_LARGE, …), its own limits and accepted name endings.
Stored under MEDIA_ROOT, which no web server publishes: views serve a file after checking the asker.
"""
import base64
import binascii
import hashlib
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

# Pillow format → (MIME type, the extension the file is stored under).
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 50_000_000

# Why an image is refused: NotAnImage.reason, and the keys of read_image's `messages`.
TOO_LARGE, TOO_MANY_PIXELS, EMPTY, NOT_AN_IMAGE, WRONG_NAME = (
    "too_large", "too_many_pixels", "empty", "not_an_image", "wrong_name")


class NotAnImage(ValueError):
    """Why an image is refused (a message for the sender, in their language; `reason` one of the above,
    or "" for a source that is no file at all)."""

    def __init__(self, message, reason=""):
        super().__init__(message)
        self.reason = reason


def _refused(messages, reason, default) -> NotAnImage:
    return NotAnImage(str((messages or {}).get(reason) or default), reason)


@dataclass
class CheckedImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str
    size: int
    name: str


def digest(upload) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of an uploaded file, read in chunks; the file is rewound."""
    sha, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        sha.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return sha.hexdigest(), size


def _content_of(source, max_bytes: int, extensions, messages) -> tuple[bytes, str]:
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "") or "").replace("\x00", "")[-255:]
        if (getattr(source, "size", None) or 0) > max_bytes:
            raise _refused(messages, TOO_LARGE, _("图片过大。"))
        ending = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extensions is not None and ending and ending not in extensions:
            raise _refused(messages, WRONG_NAME, _("文件名的扩展名不是图片格式。"))
        content = source.read(max_bytes + 1)
    elif isinstance(source, str) and source:
        name = ""
        raw = source.split(",", 1)[1] if source.startswith("data:") and "," in source else source
        if len(raw) > max_bytes * 4 // 3 + 8:
            raise _refused(messages, TOO_LARGE, _("图片过大。"))
        try:
            content = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise NotAnImage(_("图片编码无效。"))
    else:
        raise NotAnImage(_("请提供图片文件（或 data URL）。"))
    if not content:
        raise _refused(messages, EMPTY, _("文件为空。"))
    if len(content) > max_bytes:
        raise _refused(messages, TOO_LARGE, _("图片过大。"))
    return content, name


def read_image(source, *, max_bytes: int, formats=tuple(IMAGE_FORMATS), max_pixels: int = MAX_PIXELS,
               extensions=None, messages=None) -> CheckedImage:
    """The image of an uploaded file or a data URL, checked by content; NotAnImage when it is not one
    of `formats` (Pillow names), too large or broken. `extensions`: the name endings an uploaded file
    may have (None: any; the content decides the format either way). `messages`: {reason: message} for
    the refusals the caller words its own way (the others keep the wording here)."""
    from PIL import Image

    content, name = _content_of(source, max_bytes, extensions, messages)
    try:
        # Pillow refuses a decompression bomb itself (DecompressionBombError, far above max_pixels,
        # which is checked from the header before any pixel is decoded).
        with Image.open(io.BytesIO(content), formats=list(formats)) as image:
            fmt, (width, height) = image.format, image.size
            if width * height > max_pixels:
                raise _refused(messages, TOO_MANY_PIXELS, _("图片尺寸过大。"))
            image.verify()  # structure and checksums, without decoding every pixel
    except NotAnImage:
        raise
    except Image.DecompressionBombError:
        raise _refused(messages, TOO_MANY_PIXELS, _("图片尺寸过大。"))
    except Exception:  # noqa: BLE001 — Pillow raises many kinds for a file that is not a valid image
        raise _refused(messages, NOT_AN_IMAGE, _("不是有效的 %(kinds)s 图片。") % {"kinds": "、".join(
            "JPEG" if f == "JPEG" else f.replace("WEBP", "WebP") for f in formats)})
    content_type, extension = IMAGE_FORMATS[fmt]
    return CheckedImage(content=content, content_type=content_type, extension=extension, width=width, height=height,
                        sha256=hashlib.sha256(content).hexdigest(), size=len(content), name=name)
