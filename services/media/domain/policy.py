"""One call's evidence policy and the post-upload inspection that applies it.

The service streams the body through ``LimitedReader`` + ``Fingerprinter`` into a spool
file, then calls ``inspect_spooled``; only if that returns does the object get stored and
``evidence.stored.v1`` published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from os import PathLike

from gongyi.errors import Issue

from .fingerprints import EvidenceFingerprint, build_fingerprint
from .images import ImageInfo, inspect_image
from .limits import Fingerprinter, SizeLimits
from .pdfs import inspect_pdf
from .quality import ImageRules, VideoRules
from .refusals import refuse
from .sniff import Kind, Sniffed, sniff
from .videos import VideoInfo, inspect_video

_PDF_END = re.compile(rb"%%EOF\s*$")


@dataclass(frozen=True)
class EvidencePolicy:
    limits: SizeLimits = field(default_factory=SizeLimits)
    images: ImageRules = field(default_factory=ImageRules)
    videos: VideoRules = field(default_factory=VideoRules)
    phash_bands: int = 4


@dataclass(frozen=True)
class Inspection:
    sniffed: Sniffed
    fingerprint: EvidenceFingerprint
    warnings: list[Issue]


def check_pdf_end(tail: bytes) -> None:
    """A PDF's trailer ends with ``%%EOF``; a cut upload loses it (``corrupt_file``)."""
    if not _PDF_END.search(tail[-1024:]):
        refuse("corrupt_file", reason="pdf_without_eof")


def inspect_spooled(
    path: str | PathLike[str],
    fingerprinter: Fingerprinter,
    policy: EvidencePolicy | None = None,
    *,
    declared_kind: str | None = None,
    declared_mime: str | None = None,
) -> Inspection:
    """Sniff, enforce the kind's size limit, decode and fingerprint a fully spooled upload."""
    policy = policy or EvidencePolicy()
    sniffed = sniff(
        fingerprinter.head,
        fingerprinter.tail,
        declared_kind=declared_kind,
        declared_mime=declared_mime,
        size=fingerprinter.size,
    )
    limit = policy.limits.for_kind(sniffed.kind)
    if fingerprinter.size > limit:
        refuse("too_large", limit_bytes=limit)
    media: ImageInfo | VideoInfo | None = None
    if sniffed.kind is Kind.IMAGE:
        media = inspect_image(path, sniffed.mime, policy.images, policy.phash_bands)
    elif sniffed.kind is Kind.VIDEO:
        media = inspect_video(path, sniffed.mime, policy.videos, policy.phash_bands)
    else:
        check_pdf_end(fingerprinter.tail or fingerprinter.head)
        inspect_pdf(path)
    return Inspection(
        sniffed=sniffed,
        fingerprint=build_fingerprint(fingerprinter, sniffed, media),
        warnings=list(media.warnings) if media else [],
    )
