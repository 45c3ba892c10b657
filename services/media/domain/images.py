"""Safe decoding of evidence images from a spooled file: bombs, truncation, size, phash.

Order matters: the pixel count comes from the header (``Image.open`` is lazy) and is
checked before a single pixel is decoded; then ``verify`` checks structure and CRCs, and a
fresh ``load`` decodes everything, which is what catches a truncated body.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from os import PathLike

from PIL import Image, ImageFile, ImageOps

from gongyi.errors import Issue

from .phash import hamming, phash_bands, phash_hex
from .quality import ImageRules, check_resolution
from .refusals import refusal, refuse

__all__ = ["ImageInfo", "inspect_image", "hamming", "phash_bands", "phash_hex", "PILLOW_FORMATS"]

PILLOW_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

# Errors Pillow raises for malformed input (struct errors surface as these too).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError)


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    width: int  # as displayed, after EXIF orientation
    height: int
    frames: int
    phash: str
    phash_bands: list[str]
    warnings: list[Issue] = field(default_factory=list)


def _open(path: str | PathLike[str], max_pixels: int) -> Image.Image:
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; our own header check
    # below is the real guard, the warning filter makes Pillow's a refusal as well.
    image = Image.open(path, formats=list(PILLOW_FORMATS))
    width, height = image.size
    if width <= 0 or height <= 0:
        refuse("corrupt_file", reason="empty_canvas")
    if width * height > max_pixels:
        image.close()
        refuse("decompression_bomb", width=width, height=height, max_pixels=max_pixels)
    return image


def inspect_image(
    path: str | PathLike[str],
    expected_mime: str | None = None,
    rules: ImageRules | None = None,
    bands: int = 4,
) -> ImageInfo:
    """Decode fully and describe; raises ``corrupt_file``, ``decompression_bomb``,
    ``type_mismatch`` (Pillow disagrees with the sniffer) or ``low_resolution``."""
    rules = rules or ImageRules()
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Someone in the process relaxed Pillow; truncated evidence must still be refused.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open(path, rules.max_pixels) as probe:
                fmt = probe.format or ""
                probe.verify()
            with _open(path, rules.max_pixels) as image:
                image.load()
                frames = int(getattr(image, "n_frames", 1))
                shown = ImageOps.exif_transpose(image)
                width, height = shown.size
                digest = phash_hex(shown)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise refusal("decompression_bomb", max_pixels=rules.max_pixels) from exc
    except Image.UnidentifiedImageError as exc:
        raise refusal("corrupt_file", reason="unidentified") from exc
    except _DECODE_ERRORS as exc:
        raise refusal("corrupt_file", reason=type(exc).__name__) from exc
    mime = PILLOW_FORMATS.get(fmt)
    if mime is None or (expected_mime is not None and mime != expected_mime):
        refuse("type_mismatch", expected=expected_mime, decoded=fmt)
    issues = check_resolution(width, height, rules.resolution)
    return ImageInfo(
        mime=mime,
        width=width,
        height=height,
        frames=frames,
        phash=digest,
        phash_bands=phash_bands(digest, bands),
        warnings=issues,
    )
