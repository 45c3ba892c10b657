"""Detect an evidence file's kind from its bytes, never from its name or declared header.

The service feeds the bounded head and tail windows kept by ``limits.Fingerprinter``:
parsers look for their magic at the start (browsers, PDF readers within 1 KiB) or their
directory at the end (ZIP's end-of-central-directory, PDF's ``%%EOF``), so foreign
signatures in those two windows are what make a polyglot dangerous.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import StrEnum

import filetype

from .refusals import refuse

HEAD_SIZE = 64 * 1024
TAIL_SIZE = 64 * 1024 + 22  # a ZIP end record (22 bytes) plus its longest comment


class Kind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    mime: str
    extension: str


ACCEPTED: dict[str, Sniffed] = {
    s.mime: s
    for s in (
        Sniffed(Kind.IMAGE, "image/jpeg", "jpg"),
        Sniffed(Kind.IMAGE, "image/png", "png"),
        Sniffed(Kind.IMAGE, "image/webp", "webp"),
        Sniffed(Kind.VIDEO, "video/mp4", "mp4"),
        Sniffed(Kind.VIDEO, "video/quicktime", "mov"),
        Sniffed(Kind.VIDEO, "video/webm", "webm"),
        Sniffed(Kind.DOCUMENT, "application/pdf", "pdf"),
    )
}

# Content types clients send for the same thing; anything else keeps its own kind mapping.
MIME_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/apng": "image/png",
    "video/x-m4v": "video/mp4",
    "application/x-pdf": "application/pdf",
}

# ISO BMFF brands (ftyp box) of plain MP4 video; 'qt  ' is QuickTime. HEIF/AVIF brands
# ('heic', 'mif1', 'avif') are deliberately absent: those are images we do not accept.
MP4_BRANDS = frozenset(
    {
        "isom",
        "iso2",
        "iso3",
        "iso4",
        "iso5",
        "iso6",
        "mp41",
        "mp42",
        "avc1",
        "dash",
        "M4V ",
        "M4VH",
        "M4VP",
        "mmp4",
        "MSNV",
        "f4v ",
        "XAVC",
        "3gp4",
        "3gp5",
        "3gp6",
    }
)
# QuickTime files from old cameras start with an atom other than ftyp.
LEGACY_MOV_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})

# Foreign formats whose presence inside an accepted file makes it a polyglot. Signatures
# are long enough (>= 5 bytes, or anchored) that random compressed data rarely matches.
# ``at_end`` patterns only mean something where a reader looks for them: the file's end.
_FOREIGN: list[tuple[str, re.Pattern[bytes], bool]] = [
    ("zip", re.compile(rb"PK\x03\x04[\x0a-\x3f]\x00"), False),
    ("zip", re.compile(rb"PK\x01\x02[\x00-\x3f][\x00-\x3f]"), False),
    ("zip", re.compile(rb"PK\x05\x06"), True),
    ("pdf", re.compile(rb"%PDF-\d\.\d"), False),
    ("pdf", re.compile(rb"%%EOF\s*$"), True),
    (
        "html",
        re.compile(rb"<(?:script|html|iframe|body|object|embed|svg|!doctype\s+html)[\s>/]", re.I),
        False,
    ),
    ("php", re.compile(rb"<\?php", re.I), False),
    ("rar", re.compile(rb"Rar!\x1a\x07"), False),
    ("7z", re.compile(rb"7z\xbc\xaf\x27\x1c"), False),
    ("elf", re.compile(rb"\x7fELF[\x01\x02][\x01\x02]\x01"), False),
    ("png", re.compile(rb"\x89PNG\r\n\x1a\n"), False),
]
# What a well-formed file of each type may legitimately carry.
_ALLOWED_INSIDE: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({"pdf", "png"}),  # incremental updates repeat %%EOF
    "video/mp4": frozenset({"png"}),  # cover art
    "video/quicktime": frozenset({"png"}),
    "video/webm": frozenset({"png"}),
}


def _iso_bmff(head: bytes) -> str | None:
    if len(head) < 12:
        return None
    box_type = head[4:8]
    if box_type == b"ftyp":
        size = struct.unpack(">I", head[:4])[0]
        if size < 16 or size > len(head) or (size - 16) % 4:
            return None
        major = head[8:12].decode("latin-1")
        brands = {head[i : i + 4].decode("latin-1") for i in range(16, size, 4)}
        if major == "qt  ":
            return "video/quicktime"
        if major in MP4_BRANDS or (brands & MP4_BRANDS and major not in {"heic", "heix", "mif1", "avif"}):
            return "video/mp4"
        if "qt  " in brands:
            return "video/quicktime"
        return None
    if box_type in LEGACY_MOV_ATOMS and struct.unpack(">I", head[:4])[0] >= 8:
        return "video/quicktime"
    return None


def _webm(head: bytes) -> bool:
    # EBML header whose DocType element (0x4282) says "webm"; Matroska (mkv) is not accepted.
    doctype = re.search(rb"\x42\x82(?:\x84|\x40\x04|\x20\x00\x04|\x10\x00\x00\x04)webm", head[:4096])
    return head.startswith(b"\x1a\x45\xdf\xa3") and doctype is not None


def _png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR"


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:16] in (b"VP8 ", b"VP8L", b"VP8X")


def detect_mime(head: bytes) -> str | None:
    """The accepted MIME type the bytes start with, or None; no polyglot check here."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG"):
        return "image/png" if _png(head) else None
    if head.startswith(b"RIFF"):
        return "image/webp" if _webp(head) else None
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if _webm(head) else None
    return _iso_bmff(head)


def foreign_signatures(mime: str, head: bytes, tail: bytes = b"") -> list[str]:
    """Names of other formats found in the head (past the file's own magic) or the tail.

    Without a tail the head is taken to hold the file's end too (small files, or a caller
    that only has the head), so end-anchored signatures are looked for there.
    """
    allowed = _ALLOWED_INSIDE.get(mime, frozenset())
    end = tail or head
    found: list[str] = []
    for name, pattern, at_end in _FOREIGN:
        if name in allowed or name in found:
            continue
        hit = pattern.search(end) if at_end else (pattern.search(head, 1) or pattern.search(tail))
        if hit:
            found.append(name)
    return found


def _declared_kind_of_mime(declared_mime: str) -> Kind | None:
    mime = declared_mime.split(";", 1)[0].strip().lower()
    mime = MIME_ALIASES.get(mime, mime)
    if mime in ACCEPTED:
        return ACCEPTED[mime].kind
    major = mime.split("/", 1)[0]
    if major == "image":
        return Kind.IMAGE
    if major == "video":
        return Kind.VIDEO
    if mime in ("", "application/octet-stream", "binary/octet-stream"):
        return None  # says nothing
    return Kind.DOCUMENT if major in ("application", "text") else None


def sniff(
    head: bytes,
    tail: bytes = b"",
    *,
    declared_kind: str | None = None,
    declared_mime: str | None = None,
    size: int | None = None,
) -> Sniffed:
    """Classify by content and refuse what must not be stored.

    ``head``: the first bytes (``HEAD_SIZE`` is plenty); ``tail``: the last bytes, when the
    whole file has been read. ``declared_kind``/``declared_mime`` come from the client and
    are only compared, never trusted: a declared kind (or the kind implied by the declared
    Content-Type) that differs from the content is ``type_mismatch``. A different subtype
    of the same kind (a PNG sent as image/jpeg, a common renaming accident) is accepted and
    stored under the sniffed type.
    """
    if size == 0 or not head:
        refuse("empty_file")
    mime = detect_mime(head)
    if mime is None:
        guess = filetype.guess(head)
        refuse("unknown_type", detected=guess.mime if guess else None)
    found = foreign_signatures(mime, head, tail)
    if found:
        refuse("polyglot", detected=mime, also_found=found)
    sniffed = ACCEPTED[mime]
    if declared_kind is not None and declared_kind.strip().lower() != sniffed.kind.value:
        refuse("type_mismatch", declared_kind=declared_kind, detected=mime)
    if declared_mime:
        implied = _declared_kind_of_mime(declared_mime)
        if implied is not None and implied != sniffed.kind:
            refuse("type_mismatch", declared_mime=declared_mime, detected=mime)
    return sniffed
