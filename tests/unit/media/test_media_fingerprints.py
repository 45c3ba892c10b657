import hashlib
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from media_support import fingerprint, hostile, spool

from services.media.domain.fingerprints import (
    EvidenceFingerprint,
    build_fingerprint,
    evidence_object_key,
    safe_display_name,
)
from services.media.domain.images import inspect_image
from services.media.domain.refusals import MediaRefused
from services.media.domain.sniff import sniff


def test_object_key_derives_only_from_the_hash():
    digest = hashlib.sha256(b"evidence").hexdigest()
    assert evidence_object_key(digest) == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    assert evidence_object_key(digest.upper()) == evidence_object_key(digest)


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "g" * 64, "0" * 63, "0" * 65, None])
def test_object_key_refuses_anything_but_a_sha256(bad):
    with pytest.raises(MediaRefused) as info:
        evidence_object_key(bad)
    assert info.value.code == "invalid_hash"


@pytest.mark.parametrize("name", hostile.HOSTILE_FILENAMES)
def test_hostile_file_names_become_harmless_display_names(name):
    shown = safe_display_name(name)
    assert shown and len(shown) <= 120
    assert not re.search(r"[/\\\x00-\x1f\x7f<>:\"|?*\u202e]", shown)
    assert not shown.startswith(".")


@given(st.text(max_size=300))
def test_display_names_are_always_safe(name):
    shown = safe_display_name(name)
    assert 0 < len(shown) <= 120
    assert "/" not in shown and "\\" not in shown
    assert all(ch == " " or ch.isprintable() for ch in shown)


def test_display_name_examples():
    assert safe_display_name("../../etc/passwd") == "passwd"
    assert safe_display_name("C:\\Users\\x\\活动照片 1.JPG") == "活动照片 1.JPG"
    assert safe_display_name("photo\u202egpj.exe") == "photogpj.exe"
    assert safe_display_name("  ") == "untitled"
    long = safe_display_name("报" * 300 + ".pdf")
    assert long.endswith(".pdf") and len(long) == 120


def test_fingerprint_of_an_image_goes_into_the_event(tmp_path):
    data = hostile.valid_jpeg()
    fp = fingerprint(data)
    sniffed = sniff(fp.head, fp.tail, size=fp.size)
    info = inspect_image(spool(tmp_path, data), sniffed.mime)
    event = build_fingerprint(fp, sniffed, info, normalised_link="https://example.com/a")
    assert event == EvidenceFingerprint(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        kind="image",
        mime="image/jpeg",
        width=1280,
        height=720,
        duration_s=None,
        phash=info.phash,
        phash_bands=info.phash_bands,
        normalised_link="https://example.com/a",
    )
    assert json.loads(json.dumps(event.to_dict()))["phash_bands"] == info.phash_bands


def test_fingerprint_of_a_document_has_no_media_fields():
    fp = fingerprint(hostile.valid_pdf())
    event = build_fingerprint(fp, sniff(fp.head, fp.tail, size=fp.size))
    assert (event.kind, event.width, event.phash, event.phash_bands) == ("document", None, None, [])
