import struct

import pytest
from media_support import fingerprint, hostile

from gongyi.errors import UnsupportedMediaType
from services.media.domain.refusals import MediaRefused
from services.media.domain.sniff import Kind, detect_mime, foreign_signatures, sniff


def ftyp(major: bytes, *brands: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(brands)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    ("make", "mime", "kind"),
    [
        (lambda: hostile.valid_jpeg(64, 64), "image/jpeg", Kind.IMAGE),
        (lambda: hostile.valid_png(64, 64), "image/png", Kind.IMAGE),
        (lambda: hostile.valid_webp(64, 64), "image/webp", Kind.IMAGE),
        (hostile.valid_pdf, "application/pdf", Kind.DOCUMENT),
        (lambda: hostile.valid_mp4(2, 64, 64), "video/mp4", Kind.VIDEO),
        (lambda: hostile.valid_mov(2, 64, 64), "video/quicktime", Kind.VIDEO),
        (lambda: hostile.valid_webm(2, 64, 64), "video/webm", Kind.VIDEO),
    ],
)
def test_accepted_types_are_recognised_by_content(make, mime, kind):
    data = make()
    fp = fingerprint(data)
    result = sniff(fp.head, fp.tail, size=fp.size)
    assert (result.mime, result.kind) == (mime, kind)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (ftyp(b"qt  ", b"qt  "), "video/quicktime"),
        (ftyp(b"isom", b"isom", b"avc1"), "video/mp4"),
        (ftyp(b"mp42", b"mp42"), "video/mp4"),
        (ftyp(b"XXXX", b"iso5", b"dash"), "video/mp4"),
        (ftyp(b"heic", b"mif1", b"heic"), None),  # HEIF image: not accepted
        (ftyp(b"avif", b"avif", b"mif1", b"isom"), None),
        (b"\x00\x00\x00\x10wide\x00\x00\x00\x00mdat", "video/quicktime"),  # legacy QuickTime
        (b"RIFF\x00\x00\x00\x00AVI LIST", None),  # RIFF but not WebP
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dXXXX", None),  # PNG magic without IHDR
    ],
)
def test_container_brands(head, expected):
    assert detect_mime(head) == expected


def test_empty_file_is_refused():
    with pytest.raises(MediaRefused) as info:
        sniff(b"", size=0)
    assert info.value.code == "empty_file"
    assert info.value.status == 422


def test_unknown_type_names_what_it_was():
    with pytest.raises(UnsupportedMediaType) as info:
        sniff(hostile.gif_image())
    assert info.value.code == "unknown_type"
    assert info.value.details["detected"] == "image/gif"
    assert info.value.status == 415


def test_file_name_and_declared_subtype_do_not_decide_the_type():
    png = hostile.valid_png(64, 64)
    # A PNG renamed .jpg and sent as image/jpeg: same kind, stored as what it really is.
    assert sniff(png, declared_mime="image/jpeg", declared_kind="image").mime == "image/png"


@pytest.mark.parametrize(
    ("declared_kind", "declared_mime"),
    [
        ("video", None),
        ("document", None),
        (None, "video/mp4"),
        (None, "application/pdf"),
        (None, "text/html"),
    ],
)
def test_declared_kind_differing_from_content_is_type_mismatch(declared_kind, declared_mime):
    with pytest.raises(UnsupportedMediaType) as info:
        sniff(hostile.valid_jpeg(64, 64), declared_kind=declared_kind, declared_mime=declared_mime)
    assert info.value.code == "type_mismatch"


def test_octet_stream_declares_nothing():
    assert sniff(hostile.valid_pdf(), declared_mime="application/octet-stream").kind is Kind.DOCUMENT


@pytest.mark.parametrize(
    ("make", "found"),
    [
        (hostile.polyglot_jpeg_zip, "zip"),
        (hostile.polyglot_jpeg_pdf, "pdf"),
        (hostile.polyglot_jpeg_html, "html"),
        (hostile.polyglot_png_pdf_header, "pdf"),
        (hostile.pdf_with_jpeg_header, "pdf"),
    ],
)
def test_polyglots_are_refused(make, found):
    fp = fingerprint(make())
    with pytest.raises(UnsupportedMediaType) as info:
        sniff(fp.head, fp.tail, size=fp.size)
    assert info.value.code == "polyglot"
    assert found in info.value.details["also_found"]


def test_zip_end_record_is_found_past_a_large_body():
    # The payload sits beyond the head window: only the bounded tail can see it.
    jpeg = hostile.valid_jpeg(64, 64)
    data = jpeg + b"\x00" * 300_000 + b"PK\x05\x06" + b"\x00" * 18
    fp = fingerprint(data)
    assert "zip" not in foreign_signatures("image/jpeg", fp.head)
    with pytest.raises(UnsupportedMediaType) as info:
        sniff(fp.head, fp.tail, size=fp.size)
    assert info.value.details["also_found"] == ["zip"]


def test_own_magic_in_a_small_file_is_not_a_second_format():
    png = hostile.valid_png(8, 8)
    fp = fingerprint(png)
    assert fp.tail == png[1:]
    assert sniff(fp.head, fp.tail, size=fp.size).mime == "image/png"


def test_pdf_may_carry_its_own_incremental_updates():
    pdf = hostile.valid_pdf()
    updated = pdf + b"%PDF-1.4 comment\nxref\n0 0\ntrailer\n<< >>\nstartxref\n0\n%%EOF\n"
    assert sniff(updated).mime == "application/pdf"
