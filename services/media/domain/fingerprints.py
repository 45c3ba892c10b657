"""What the ``evidence.stored.v1`` event says about a stored file, and how it is named.

Object keys derive only from the content hash: the user's file name never reaches the
object store (no path traversal, no overwrite of someone else's object), and identical
content lands on the same key, which makes storing idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from .images import ImageInfo
from .limits import Fingerprinter
from .refusals import refuse
from .sniff import Kind, Sniffed
from .videos import VideoInfo

_SHA256 = re.compile(r"[0-9a-f]{64}")
# Characters that are path separators or special on common file systems and shells.
_RESERVED = re.compile(r'[/\\:*?"<>|]')
DISPLAY_NAME_MAX = 120


@dataclass(frozen=True)
class EvidenceFingerprint:
    sha256: str
    size: int
    kind: str
    mime: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    phash: str | None = None
    phash_bands: list[str] = field(default_factory=list)
    normalised_link: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_fingerprint(
    fingerprinter: Fingerprinter,
    sniffed: Sniffed,
    media: ImageInfo | VideoInfo | None = None,
    normalised_link: str | None = None,
) -> EvidenceFingerprint:
    """Assemble the event payload from the streaming pass and the decoder's findings."""
    return EvidenceFingerprint(
        sha256=fingerprinter.sha256,
        size=fingerprinter.size,
        kind=Kind(sniffed.kind).value,
        mime=sniffed.mime,
        width=media.width if media else None,
        height=media.height if media else None,
        duration_s=media.duration_s if isinstance(media, VideoInfo) else None,
        phash=media.phash if media else None,
        phash_bands=list(media.phash_bands) if media else [],
        normalised_link=normalised_link,
    )


def evidence_object_key(sha256: str) -> str:
    """``sha256/ab/cd/<64 hex>``: two fan-out levels keep listings small."""
    digest = sha256.strip().lower() if isinstance(sha256, str) else ""
    if not _SHA256.fullmatch(digest):
        refuse("invalid_hash")
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


def _display_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "  # ideographic and no-break spaces read as spaces
    return "" if category[0] == "C" or category in ("Zl", "Zp") else ch


def safe_display_name(filename: str | None, max_length: int = DISPLAY_NAME_MAX) -> str:
    """A name fit to show (and to put in Content-Disposition), never to open a file with.

    Keeps the last path component only, drops control and format characters (including
    bidi overrides that make "gpj.exe" read as "exe.jpg"), replaces reserved characters,
    strips leading dots and trims to ``max_length`` characters keeping the extension.
    """
    text = unicodedata.normalize("NFC", filename or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(_display_char(ch) for ch in text)
    text = _RESERVED.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip().lstrip(".").strip()
    if not text or set(text) <= {"_", " ", "."}:
        return "untitled"
    if len(text) > max_length:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and 0 < len(ext) <= 10:
            text = stem[: max_length - len(ext) - 1].rstrip() + "." + ext
        else:
            text = text[:max_length].rstrip()
    return text
