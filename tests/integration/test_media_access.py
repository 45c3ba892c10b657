"""Who may read evidence, built from other services' events; deletion rules; the purge job;
presigned uploads; intake's RPC.

The producers' events (intake's forward, review's assignments, publish's list) are published
here with kombu to each producer's exchange, exactly as their outbox relays do.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from fixtures.media import hostile
from fixtures.media import service_support as ms
from kombu import Connection
from platform_support import Client, running_services, sample_form, wait_until
from sqlalchemy.orm import sessionmaker

from gongyi.db import UnitOfWork, make_engine
from gongyi.events.envelope import CONTENT_TYPE, encode, make_event
from gongyi.events.relay import event_exchange
from gongyi.http.auth import issue_token
from gongyi.objectstore import make_object_client
from services.media import handlers
from services.media.config import load_media_config
from services.media.storage.objects import EvidenceObjects


@pytest.fixture(scope="module")
def media(settings):
    with ms.media_env(), running_services(settings, "media") as urls:
        yield urls["media"]


@pytest.fixture(scope="module")
def db(settings):
    view = ms.MediaDb(settings)
    yield view
    view.close()


def publish(amqp_uri: str, source: str, event_type: str, subject: str, data: dict) -> None:
    event = make_event(source_service=source, type=event_type, subject=subject, data=data)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(
            encode(event), exchange=event_exchange(source), routing_key=event_type, content_type=CONTENT_TYPE,
            content_encoding="utf-8", delivery_mode=2, declare=[event_exchange(source)],
        )


def forward(settings, app_id: str, unit: str, image_ids: list[str], shot_ids: list[str] = ()) -> None:
    form = sample_form(unit=unit)
    form["image_evidence_ids"] = image_ids
    form["media_reports"] = [{"title": "报道", "outlet": "人民网", "published_on": "2024-01-02",
                              "url": "https://example.com/a", "screenshot_evidence_id": s} for s in shot_ids]
    publish(settings.amqp_uri, "intake", "application.forwarded.v1", f"application/{app_id}", {
        "application_id": app_id, "call_id": "2024-national", "call_version": 1, "state": "forwarded",
        "unit_code": unit, "project_name": form["project_name"], "category": "education",
        "applicant_name": "北京阳光公益基金会", "applicant_type": "social_organisation", "batch_id": str(uuid.uuid4()),
        "unit_opinion": "同意", "submitted_at": "2024-02-01T10:00:00+08:00",
        "forwarded_at": "2024-02-02T10:00:00+08:00", "form": form})


def published_list(app_id: str, evidence_ids: list[str]) -> dict:
    return {"notice_id": str(uuid.uuid4()), "call_id": "2024-national", "call_name": "2024", "title": "名单",
            "published_at": "2024-06-01T10:00:00+08:00",
            "notice_period": {"opens_at": None, "ends_at": None}, "scores_published": False,
            "entries": [{"application_id": app_id, "rank": 1, "project_name": "项目", "organisation": "机构",
                         "category": "education", "province": "北京市", "unit_code": "cac-beijing",
                         "summary": "摘要", "evidence_ids": evidence_ids}]}


def _status(base: str, token: str | None, evidence_id: str, suffix: str = "") -> int:
    return Client(base, token).get(f"/api/media/evidence/{evidence_id}{suffix}").status_code


def test_access_follows_forwarding_assignment_and_publication(media, db, settings):
    owner_sub, owner = ms.applicant(settings)
    _, stranger = ms.applicant(settings)
    unit = f"unit-{uuid.uuid4().hex[:6]}"
    unit_tok = issue_token(settings, "unit", f"u-{unit}", unit=unit)
    other_unit = issue_token(settings, "unit", "u-other", unit="cac-elsewhere")
    expert_id = f"e-{uuid.uuid4().hex[:6]}"
    expert = issue_token(settings, "expert", f"x-{expert_id}", expert=expert_id)
    staff = issue_token(settings, "staff", "staff-1")
    data = hostile.valid_jpeg(seed=101)
    evidence_id = ms.upload(media, owner, data, "image", "image/jpeg", filename="现场.jpg").json()["id"]

    assert _status(media, owner, evidence_id) == 200 and _status(media, staff, evidence_id) == 200
    for tok in (stranger, unit_tok, expert, None):
        assert _status(media, tok, evidence_id) == 404
        assert _status(media, tok, evidence_id, "/download") == 404

    # the owner's download link: attachment, sniffed type, the same bytes
    link = Client(media, owner).get(f"/api/media/evidence/{evidence_id}/download").json()
    got = requests.get(link["url"], timeout=10)
    assert got.status_code == 200 and got.content == data
    assert got.headers["Content-Type"] == "image/jpeg"
    assert got.headers["Content-Disposition"].startswith("attachment;")

    app_id = str(uuid.uuid4())
    forward(settings, app_id, unit, [evidence_id])
    wait_until(lambda: _status(media, unit_tok, evidence_id) == 200, message="unit access after forwarding")
    assert _status(media, other_unit, evidence_id) == 404 and _status(media, expert, evidence_id) == 404
    # attached evidence cannot be deleted
    resp = Client(media, owner).request("DELETE", f"/api/media/evidence/{evidence_id}")
    assert resp.status_code == 409 and resp.json()["code"] == "evidence_attached"

    made = {"application_id": app_id, "call_id": "2024-national", "expert_id": expert_id, "reason": "matched"}
    publish(settings.amqp_uri, "review", "assignment.made.v1", f"application/{app_id}", made)
    wait_until(lambda: _status(media, expert, evidence_id, "/download") == 200, message="expert access")
    publish(settings.amqp_uri, "review", "assignment.removed.v1", f"application/{app_id}", made)
    wait_until(lambda: _status(media, expert, evidence_id) == 404, message="expert access removed")

    listed = published_list(app_id, [evidence_id])
    publish(settings.amqp_uri, "publish", "list.published.v1", f"notice/{app_id}", listed)
    wait_until(lambda: _status(media, None, evidence_id) == 200, message="public after publication")
    assert _status(media, stranger, evidence_id, "/download") == 200


def test_media_report_needs_an_owned_screenshot_and_follows_it(media, db, settings):
    owner_sub, owner = ms.applicant(settings)
    _, other = ms.applicant(settings)
    shot = ms.upload(media, owner, hostile.valid_png(seed=55), "image", "image/png").json()["id"]
    report = {"url": "https://m.example.com/news/1?utm_source=wx#top", "outlet": "人民网", "title": "报道",
              "published_on": "2024-01-05", "screenshot_evidence_id": shot}
    resp = Client(media, other).post("/api/media/media-reports", json=report)
    assert resp.status_code == 422 and resp.json()["details"]["issues"][0]["code"] == "screenshot_not_found"
    bad = Client(media, owner).post("/api/media/media-reports", json={**report, "url": "http://127.0.0.1/x"})
    assert bad.status_code == 422 and bad.json()["details"]["issues"][0]["code"] == "invalid_link"
    resp = Client(media, owner).post("/api/media/media-reports", json=report)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["kind"] == "media_report" and body["normalised_link"] == "https://example.com/news/1"
    (event,) = db.events("evidence.stored.v1", body["id"])
    assert event["data"]["normalised_link"] == "https://example.com/news/1" and event["data"]["outlet"] == "人民网"
    assert Client(media, owner).get(f"/api/media/evidence/{body['id']}/download").json()["code"] == "no_file"
    # forwarding the form (which cites the screenshot) attaches the report too
    unit = f"unit-{uuid.uuid4().hex[:6]}"
    forward(settings, str(uuid.uuid4()), unit, [], [shot])
    unit_tok = issue_token(settings, "unit", "u", unit=unit)
    wait_until(lambda: _status(media, unit_tok, body["id"]) == 200, message="report attached with its screenshot")


def test_owner_deletes_unattached_evidence_and_the_purge_removes_forgotten_ones(media, db, settings):
    sub, owner = ms.applicant(settings)
    _, other = ms.applicant(settings)
    kept_data, old_data = hostile.valid_jpeg(seed=201), hostile.valid_jpeg(seed=202)
    mine = ms.upload(media, owner, kept_data, "image", "image/jpeg").json()
    forgotten = ms.upload(media, owner, old_data, "image", "image/jpeg").json()
    attached = ms.upload(media, owner, hostile.valid_jpeg(seed=203), "image", "image/jpeg").json()
    forward(settings, str(uuid.uuid4()), "cac-beijing", [attached["id"]])
    wait_until(lambda: db.evidence(attached["id"])["attached_to"], message="attached")

    assert Client(media, other).request("DELETE", f"/api/media/evidence/{mine['id']}").status_code == 404
    assert Client(media, owner).request("DELETE", f"/api/media/evidence/{mine['id']}").status_code == 204
    assert db.evidence(mine["id"])["status"] == "deleted"
    assert db.evidence(mine["id"])["object_key"] not in ms.bucket_keys(settings)[settings.s3_evidence_bucket]
    (event,) = db.events("evidence.deleted.v1", mine["id"])
    assert event["data"]["reason"] == "owner_deleted"

    # the scheduled job, run with a clock 31 days ahead: only never-attached evidence goes
    engine = make_engine(settings.db_url("media"))
    objects = EvidenceObjects(make_object_client(settings), settings.s3_quarantine_bucket,
                              settings.s3_evidence_bucket)
    config = load_media_config({"GONGYI_MEDIA_UNATTACHED_DAYS": "30"})
    try:
        with UnitOfWork(sessionmaker(engine, expire_on_commit=False), "media") as uow:
            handlers.purge_unattached(uow, objects, config, datetime.now(UTC) + timedelta(days=29))
        assert db.evidence(forgotten["id"])["status"] == "stored"
        with UnitOfWork(sessionmaker(engine, expire_on_commit=False), "media") as uow:
            result = handlers.purge_unattached(uow, objects, config, datetime.now(UTC) + timedelta(days=31))
    finally:
        engine.dispose()
    assert result["evidence_deleted"] >= 1
    assert db.evidence(forgotten["id"])["status"] == "deleted"
    assert db.evidence(attached["id"])["status"] == "stored"
    keys = ms.bucket_keys(settings)[settings.s3_evidence_bucket]
    assert db.evidence(forgotten["id"])["object_key"] not in keys
    assert db.evidence(attached["id"])["object_key"] in keys
    (event,) = db.events("evidence.deleted.v1", forgotten["id"])
    assert event["data"]["reason"] == "never_attached"


def test_presigned_upload_is_verified_by_streaming_it_back(media, db, settings):
    sub, owner = ms.applicant(settings)
    data = hostile.valid_webp(seed=301)
    resp = Client(media, owner).post("/api/media/uploads", json={"kind": "image", "size": len(data),
                                                                  "filename": "../x.webp"})
    assert resp.status_code == 201, resp.text
    start = resp.json()
    early = Client(media, owner).post(f"/api/media/uploads/{start['upload_id']}/complete")
    assert early.status_code == 409 and early.json()["code"] == "upload_missing"
    assert requests.put(start["url"], data=data, timeout=10).status_code == 200
    _, other = ms.applicant(settings)
    assert Client(media, other).post(f"/api/media/uploads/{start['upload_id']}/complete").status_code == 404
    done = Client(media, owner).post(f"/api/media/uploads/{start['upload_id']}/complete")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["mime"] == "image/webp" and body["display_name"] == "x.webp"
    keys = ms.bucket_keys(settings)
    assert db.evidence(body["id"])["object_key"] in keys[settings.s3_evidence_bucket]
    assert keys[settings.s3_quarantine_bucket] == set()
    assert db.events("evidence.stored.v1", body["id"])

    # a polyglot put straight into quarantine is refused and removed
    before = ms.bucket_keys(settings)
    bad = hostile.polyglot_jpeg_zip()
    start = Client(media, owner).post("/api/media/uploads", json={"kind": "image", "size": len(bad)}).json()
    assert requests.put(start["url"], data=bad, timeout=10).status_code == 200
    refused = Client(media, owner).post(f"/api/media/uploads/{start['upload_id']}/complete")
    assert refused.status_code == 415 and refused.json()["code"] == "polyglot"
    after = ms.bucket_keys(settings)
    assert after[settings.s3_quarantine_bucket] == set()
    assert after[settings.s3_evidence_bucket] == before[settings.s3_evidence_bucket]
    assert len(db.evidence_of(sub)) == 1
    too_big = Client(media, owner).post("/api/media/uploads", json={"kind": "image", "size": 50 * ms.MiB})
    assert too_big.status_code == 413 and too_big.json()["code"] == "too_large"


def test_evidence_summary_rpc_for_intake(media, settings):
    from nameko.standalone.rpc import ClusterRpcProxy

    sub, owner = ms.applicant(settings)
    evidence_id = ms.upload(media, owner, hostile.valid_jpeg(seed=401), "image", "image/jpeg").json()["id"]
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri, "serializer": "json"}, timeout=20) as cluster:
        summary = cluster.media.evidence_summary([evidence_id, "no-such-id"])
    assert summary == {evidence_id: {"owner_sub": sub, "kind": "image", "status": "stored"}}
