"""Uploads streamed through the media service: accepted kinds, hostile input, dedupe.

Every refused upload must leave nothing behind: no object in the quarantine or evidence
bucket, no evidence row; only its ``evidence.rejected.v1`` event (outbox) says it happened.
"""

from __future__ import annotations

import pytest
import requests
from fixtures.media import hostile
from fixtures.media import service_support as ms
from platform_support import running_services

MiB = ms.MiB


@pytest.fixture(scope="module")
def media(settings):
    with ms.media_env(), running_services(settings, "media") as urls:
        yield urls["media"]


@pytest.fixture(scope="module")
def db(settings):
    view = ms.MediaDb(settings)
    yield view
    view.close()


VALID = [
    ("jpeg", "image", "image/jpeg", lambda: hostile.valid_jpeg()),
    ("png", "image", "image/png", lambda: hostile.valid_png(seed=1)),
    ("webp", "image", "image/webp", lambda: hostile.valid_webp(seed=2)),
    ("pdf", "document", "application/pdf", lambda: hostile.valid_pdf()),
    ("mp4", "video", "video/mp4", lambda: hostile.valid_mp4()),
    ("mov", "video", "video/quicktime", lambda: hostile.valid_mov()),
    ("webm", "video", "video/webm", lambda: hostile.valid_webm()),
]


@pytest.mark.parametrize("name,kind,mime,make", VALID, ids=[v[0] for v in VALID])
def test_valid_evidence_is_checked_stored_by_hash_and_announced(media, db, settings, name, kind, mime, make):
    sub, token = ms.applicant(settings)
    data = make()
    resp = ms.upload(media, token, data, kind, content_type=mime, filename=f"证明.{name}")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["kind"] == kind and body["mime"] == mime and body["size"] == len(data)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    assert body["sha256"] == sha and body["display_name"] == f"证明.{name}"
    (row,) = db.evidence_of(sub)
    assert row["status"] == "stored" and row["object_key"] == f"sha256/{sha[:2]}/{sha[2:4]}/{sha}"
    keys = ms.bucket_keys(settings)
    assert row["object_key"] in keys[settings.s3_evidence_bucket]
    assert not keys[settings.s3_quarantine_bucket], "quarantine must be empty once an upload is stored"
    (event,) = db.events("evidence.stored.v1", body["id"])
    assert event["data"]["sha256"] == sha and event["data"]["owner_sub"] == sub
    if kind != "document":
        assert len(event["data"]["phash"]) == 16 and event["data"]["phash_bands"]
        assert event["data"]["width"] and event["data"]["height"]
    if kind == "video":
        assert event["data"]["duration_s"] > 0


def _assert_nothing_left(settings, db, sub, before, code):
    assert db.evidence_of(sub) == [], "a refused upload must leave no evidence row"
    after = ms.bucket_keys(settings)
    assert after[settings.s3_quarantine_bucket] == set()
    assert after[settings.s3_evidence_bucket] == before[settings.s3_evidence_bucket]
    if code is not None:
        (event,) = db.events("evidence.rejected.v1", sub)
        assert event["data"]["code"] == code and event["data"]["message_zh"] and event["data"]["message_en"]


KIND_OF = {"image": "image", "video": "video", "application": "document"}


@pytest.mark.parametrize("case", hostile.cases(), ids=lambda c: c.name)
def test_hostile_upload_is_refused_and_leaves_nothing(media, db, settings, case):
    sub, token = ms.applicant(settings)
    before = ms.bucket_keys(settings)
    kind = KIND_OF.get((case.declared_mime or "image/jpeg").split("/")[0], "image")
    resp = ms.upload(media, token, case.make(), kind, content_type=case.declared_mime, filename=case.filename)
    assert resp.status_code in (413, 415, 422), resp.text
    body = resp.json()
    assert body["code"] == case.code and body["message_zh"] and body["message_en"]
    _assert_nothing_left(settings, db, sub, before, case.code)


def test_forged_content_type_is_refused(media, db, settings):
    """A PDF sent as image/jpeg, declared an image: content decides, the header is only compared."""
    sub, token = ms.applicant(settings)
    before = ms.bucket_keys(settings)
    resp = ms.upload(media, token, hostile.valid_pdf(), "image", content_type="image/jpeg", filename="photo.jpg")
    assert resp.status_code == 415 and resp.json()["code"] == "type_mismatch"
    # a real JPEG with a document Content-Type is refused too
    resp = ms.upload(media, token, hostile.valid_jpeg(seed=9), "image", content_type="application/pdf")
    assert resp.status_code == 415 and resp.json()["code"] == "type_mismatch"
    assert db.evidence_of(sub) == []
    assert len(db.events("evidence.rejected.v1", sub)) == 2
    after = ms.bucket_keys(settings)
    assert after[settings.s3_quarantine_bucket] == set()
    assert after[settings.s3_evidence_bucket] == before[settings.s3_evidence_bucket]


def test_oversize_stream_stops_at_the_limit(media, db, settings):
    """A chunked body that never ends is cut one byte past the image limit (2 MiB here)."""
    sub, token = ms.applicant(settings)
    before = ms.bucket_keys(settings)
    head = hostile.valid_jpeg()
    sent = {"bytes": 0}

    def body():
        yield head
        sent["bytes"] += len(head)
        for _ in range(6 * 16):  # 6 MiB more in 64 KiB pieces
            sent["bytes"] += 65536
            yield b"\0" * 65536

    resp = ms.upload(media, token, body(), "image", content_type="image/jpeg")
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"
    assert resp.json()["details"]["limit_bytes"] == 2 * MiB
    _assert_nothing_left(settings, db, sub, before, "too_large")


def test_path_characters_in_the_file_name_reach_neither_storage_nor_display(media, db, settings):
    sub, token = ms.applicant(settings)
    accepted = 0
    for i, name in enumerate(hostile.HOSTILE_FILENAMES):
        resp = ms.upload(media, token, hostile.valid_jpeg(seed=20 + i), "image", "image/jpeg", filename=name)
        if any((ord(c) < 32 and c not in "\t\n\r") or 0x7f <= ord(c) <= 0x9f for c in name):
            # control characters are refused in every text, a query's included (gongyi/limits.py)
            assert resp.status_code == 422 and resp.json()["code"] == "invalid_query", (name, resp.text)
            continue
        accepted += 1
        assert resp.status_code == 201, (name, resp.text)
        shown = resp.json()["display_name"]
        assert "/" not in shown and "\\" not in shown and ".." not in shown[:2] and len(shown) <= 120
        assert not any(ord(c) < 32 or c == "\u202e" for c in shown)
    rows = db.evidence_of(sub)
    assert len(rows) == accepted
    assert all(r["object_key"].startswith("sha256/") and r["object_key"].count("/") == 3 for r in rows)
    keys = ms.bucket_keys(settings)
    assert not any("etc" in k or "passwd" in k or "script" in k for b in keys.values() for k in b)


def test_the_same_bytes_are_stored_once(media, db, settings):
    data = hostile.valid_png(seed=42)
    first_sub, first = ms.applicant(settings)
    second_sub, second = ms.applicant(settings)
    a = ms.upload(media, first, data, "image", "image/png")
    b = ms.upload(media, second, data, "image", "image/png", filename="again.png")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    (ra,), (rb,) = db.evidence_of(first_sub), db.evidence_of(second_sub)
    assert ra["object_key"] == rb["object_key"]
    keys = ms.bucket_keys(settings)[settings.s3_evidence_bucket]
    assert [k for k in keys if k.endswith(ra["sha256"])] == [ra["object_key"]]


def test_a_content_length_body_is_streamed_too(media, db, settings):
    """requests sends bytes with Content-Length (werkzeug's LimitedStream) and generators chunked."""
    sub, token = ms.applicant(settings)
    data = hostile.valid_jpeg(seed=77)

    def chunks():
        for i in range(0, len(data), 10_000):
            yield data[i : i + 10_000]

    assert ms.upload(media, token, data, "image", "image/jpeg").status_code == 201
    resp = ms.upload(media, token, chunks(), "image", "image/jpeg")
    assert resp.status_code == 201, resp.text
    assert {r["sha256"] for r in db.evidence_of(sub)} == {resp.json()["sha256"]}


def test_an_upload_needs_a_body_and_an_applicant(media, settings):
    sub, token = ms.applicant(settings)
    import requests

    resp = requests.post(f"{media}/api/media/evidence", params={"kind": "image"}, timeout=10)
    assert resp.status_code == 401
    resp = ms.upload(media, token, b"", "image")
    assert resp.status_code == 422 and resp.json()["code"] == "empty_file"


def test_an_image_under_1280x720_is_stored_with_a_low_resolution_warning(media, db, settings):
    sub, token = ms.applicant(settings)
    resp = ms.upload(media, token, hostile.valid_jpeg(1000, 600, seed=7), "image", content_type="image/jpeg",
                     filename="现场照片.jpg")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["width"], body["height"]) == (1000, 600)
    [warned] = body["warnings"]
    assert warned["code"] == "low_resolution" and warned["message_zh"].startswith("分辨率过低")
    assert warned["message_en"] and warned["details"]["min_long_side"] == 1280
    # the owner sees it again on the evidence itself, and the stored event carries it
    again = requests.get(f"{media}/api/media/evidence/{body['id']}", headers={"Authorization": f"Bearer {token}"},
                         timeout=10)
    assert again.status_code == 200 and again.json()["warnings"] == body["warnings"]
    (event,) = db.events("evidence.stored.v1", body["id"])
    assert [w["code"] for w in event["data"]["warnings"]] == ["low_resolution"]
    # exactly 1280 x 720 meets the rule: no warning
    ok = ms.upload(media, token, hostile.valid_jpeg(1280, 720, seed=8), "image", content_type="image/jpeg")
    assert ok.status_code == 201 and ok.json()["warnings"] == []
