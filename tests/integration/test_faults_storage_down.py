"""Object storage down: media's readiness says so, an upload fails cleanly (503, JSON error) and
leaves nothing (no evidence row, no stored event, no object); once storage is back on the same port
(moto keeps nothing, so the buckets are created again as the prepare job does) the retry succeeds."""

from __future__ import annotations

import time
import uuid

import pytest
from fixtures.media import hostile
from fixtures.media import service_support as ms
from platform_support import free_port, running_services

from gongyi.objectstore import ensure_buckets, make_object_client
from gongyi.runner import LocalServers


@pytest.fixture()
def own_storage(settings):
    servers = LocalServers()
    port = free_port()
    url = servers.start_s3(port)
    tag = uuid.uuid4().hex[:6]
    s = settings.with_overrides(s3_endpoint=url, s3_quarantine_bucket=f"fq-{tag}", s3_evidence_bucket=f"fe-{tag}")
    ensure_buckets(make_object_client(s), s.s3_quarantine_bucket, s.s3_evidence_bucket)
    yield s, servers, port
    servers.stop()


def test_upload_while_storage_is_down_fails_cleanly_and_succeeds_after(own_storage):
    s, servers, port = own_storage
    db = ms.MediaDb(s)
    sub, token = ms.applicant(s)
    image = hostile.valid_png(seed=int(time.time()) % 1000)
    try:
        with ms.media_env(), running_services(s, "media") as urls:
            media = urls["media"]
            assert ms.requests.get(f"{media}/api/media/readyz", timeout=10).status_code == 200
            servers.stop()
            servers.procs.clear()
            down_at = time.monotonic()
            ready = ms.requests.get(f"{media}/api/media/readyz", timeout=30)
            assert ready.status_code == 503, ready.text
            assert ready.json()["details"]["checks"]["object_store"].startswith("error")
            failed = ms.upload(media, token, image, "image", content_type="image/png", filename="证明.png")
            assert failed.status_code == 503, failed.text
            body = failed.json()
            assert body["code"] and body["message_zh"] and body["message_en"]
            assert db.evidence_of(sub) == [], "a failed upload left an evidence row"
            assert db.events("evidence.stored.v1", sub) == []

            servers.start_s3(port)
            ensure_buckets(make_object_client(s), s.s3_quarantine_bucket, s.s3_evidence_bucket)
            back_after = time.monotonic() - down_at
            assert ms.requests.get(f"{media}/api/media/readyz", timeout=10).status_code == 200
            assert ms.bucket_keys(s) == {s.s3_quarantine_bucket: set(), s.s3_evidence_bucket: set()}
            retry = ms.upload(media, token, image, "image", content_type="image/png", filename="证明.png")
            assert retry.status_code == 201, retry.text
            (row,) = db.evidence_of(sub)
            assert row["status"] == "stored" and row["object_key"] in ms.bucket_keys(s)[s.s3_evidence_bucket]
            assert len(db.events("evidence.stored.v1", sub)) == 1
    finally:
        db.close()
    print(f"\nstorage down {back_after:.1f} s: readiness 503, upload 503 `{body['code']}`, nothing stored; "
          f"after restart the retry stored {row['size']} bytes once")
