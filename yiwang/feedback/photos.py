"""Photos of feedback items: checked by their bytes, then re-encoded so nothing but pixels is kept.

A phone photo carries EXIF: the camera, the time and often the GPS position of where it was
taken, which may be the filer's home. Copying the file would keep all of it, so every photo is
decoded and written anew (JPEG, or PNG when it has transparency) without any metadata; the EXIF
orientation is applied to the pixels first, so the photo still shows the right way up.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from yiwang.lib import filetypes

MAX_BYTES = 5 * 1024 * 1024  # per photo, as uploaded
MAX_PHOTOS = 4  # per item
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MAX_SIDE = 2048  # longer side after re-encoding
KINDS = ("jpeg", "png", "webp")


class PhotoRefused(ValueError):  # noqa: N818 — named for what happened
    """A photo that cannot be taken; ``message`` says what to do, in the active language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str
    width: int
    height: int


def clean(data: bytes, *, name: str = "") -> CleanPhoto:
    """The photo re-encoded without metadata, or ``PhotoRefused`` naming the limit it broke."""
    label = name or _("the photo")
    if len(data) > MAX_BYTES:
        raise PhotoRefused(
            _("%(name)s is %(size).1f MB; a photo may be at most %(max)d MB.")
            % {"name": label, "size": len(data) / 1024 / 1024, "max": MAX_BYTES // 1024 // 1024}
        )
    if not data:
        raise PhotoRefused(_("%(name)s is empty.") % {"name": label})
    if filetypes.sniff(data[: filetypes.HEAD_SIZE]) not in KINDS:
        raise PhotoRefused(_("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": label})
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused(_("%(name)s has too many pixels; send a smaller photo.") % {"name": label})
            image.load()
            upright = ImageOps.exif_transpose(image)
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoRefused(_("%(name)s cannot be read as an image.") % {"name": label}) from exc
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    has_alpha = upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info)
    out = io.BytesIO()
    if has_alpha:
        pixels = upright.convert("RGBA")
        pixels.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        pixels = upright.convert("RGB")
        pixels.save(out, format="JPEG", quality=85)
        content_type = "image/jpeg"
    return CleanPhoto(
        content=out.getvalue(), content_type=content_type, width=pixels.width, height=pixels.height
    )
