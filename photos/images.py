"""From an uploaded file to the images we serve: checked from its bytes, decoded once, turned
upright, stripped of every piece of metadata and re-encoded as JPEG at a few widths.

Nothing the client sent is ever stored: polyglots (a JPEG that is also HTML, a PNG with a
script in a text chunk) die in the re-encoding, and so does EXIF (GPS above all), XMP, ICC and
comments. The pixel count is checked from the header, before any pixel is decoded, so a small
file declaring a huge picture (a decompression bomb) costs nothing."""

import io
import struct
import zlib
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from core.exceptions import (
    PhotoAnimated,
    PhotoCorrupt,
    PhotoTooLarge,
    PhotoTooManyPixels,
    PhotoUnsupportedFormat,
)

# Pillow's names; Image.open recognises them from the bytes alone (never the name or the
# Content-Type the client sent).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# Widths of the smaller renditions; one wider than the picture is not made (no upscaling).
RENDITION_WIDTHS = (320, 720, 1280)
ORIGINAL = "original"
JPEG_QUALITY = 85
# JPEG cannot encode a side over 65,535 pixels; a very thin picture is no photo anyway.
MAX_SIDE = 16_384
CONTENT_TYPE = "image/jpeg"
EXTENSION = "jpg"

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    content: bytes


@dataclass(frozen=True)
class RenderedPhoto:
    width: int
    height: int
    renditions: list[Rendition]  # smallest first, ORIGINAL last


def image_render(*, source: IO[bytes], size: int) -> RenderedPhoto:
    """The renditions of an uploaded image of `size` bytes. Raises PhotoTooLarge (bytes),
    PhotoUnsupportedFormat (not JPEG, PNG or WebP), PhotoTooManyPixels (checked before
    decoding), PhotoAnimated, or PhotoCorrupt (truncated or broken)."""
    if size > settings.PHOTO_MAX_BYTES:
        raise PhotoTooLarge(
            f"image: {size} bytes is over the limit of {settings.PHOTO_MAX_BYTES} bytes."
        )
    source.seek(0)
    try:
        # Reads the header only; Pillow also refuses pictures over twice its own bomb limit.
        with Image.open(source, formats=ACCEPTED_FORMATS) as image:
            _check_header(image)
            # Decodes the pixels, then rotates.
            upright = ImageOps.exif_transpose(image)
            picture = _to_srgb(upright)
            return RenderedPhoto(
                width=picture.width, height=picture.height, renditions=_renditions(picture)
            )
    except UnidentifiedImageError as exc:
        raise PhotoUnsupportedFormat() from exc
    except Image.DecompressionBombError as exc:
        raise PhotoTooManyPixels() from exc
    # What Pillow raises on truncated or malformed data, by decoder (SyntaxError: PNG chunks).
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        raise PhotoCorrupt() from exc


def _check_header(image: Image.Image) -> None:
    width, height = image.size
    if width * height > settings.PHOTO_MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise PhotoTooManyPixels(
            f"image: {width} x {height} pixels is over the limit of "
            f"{settings.PHOTO_MAX_PIXELS} pixels ({MAX_SIDE} on a side)."
        )
    # MPO (phones' JPEG with a depth map or preview after the picture) is a still image.
    if getattr(image, "is_animated", False) and image.format != "MPO":
        raise PhotoAnimated()


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB: colour profiles applied (then dropped), transparency flattened on
    white (JPEG has none)."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
            if converted is not None:  # None only when converting in place
                image = converted
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: read the pixels as sRGB, as browsers do
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB") if image.mode != "RGB" else image


def _renditions(picture: Image.Image) -> list[Rendition]:
    made = [_encode(ORIGINAL, picture)]
    current = picture
    # Each from the next larger one: far cheaper than from the original, and as sharp.
    for width in sorted(RENDITION_WIDTHS, reverse=True):
        if width >= picture.width:
            continue
        height = max(1, round(picture.height * width / picture.width))
        current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        made.append(_encode(str(width), current))
    return sorted(made, key=lambda rendition: (rendition.name == ORIGINAL, rendition.width))


def _encode(name: str, image: Image.Image) -> Rendition:
    # Pillow carries some metadata (a JPEG comment) from `info` into the file: start empty.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, progressive=True)
    return Rendition(name=name, width=image.width, height=image.height, content=buffer.getvalue())
