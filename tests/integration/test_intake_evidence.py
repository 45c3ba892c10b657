"""Evidence ids on a submitted form must exist in the media service and belong to the applicant:
intake asks media over nameko RPC (``media.evidence_summary``), both real services on RabbitMQ."""

from __future__ import annotations

import io
import uuid

import pytest
from platform_support import Client, load_open_call, running_services, sample_form

from gongyi.http.auth import issue_token

CALL = "2024-national"


@pytest.fixture(scope="module")
def urls(settings):
    load_open_call(settings)
    with running_services(settings, "intake", "media") as urls:
        yield urls


def _png(seed: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1280, 720), (seed * 40 % 255, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _person(settings, urls) -> tuple[Client, Client]:
    token = issue_token(settings, "applicant", f"ev-{uuid.uuid4().hex[:8]}", org="53110000500000007T")
    return Client(urls["intake"], token), Client(urls["media"], token)


def _upload(media: Client, seed: int) -> str:
    resp = media.post("/api/media/evidence", params={"kind": "image", "filename": "photo.png"}, data=_png(seed),
                      headers={"Content-Type": "application/octet-stream"})
    assert resp.status_code == 201 and resp.json()["status"] == "stored", resp.text
    return resp.json()["id"]


def _submit(intake: Client, form: dict):
    created = intake.post("/api/intake/applications", json={"call_id": CALL, "form": form})
    assert created.status_code == 201, created.text
    return intake.post(f"/api/intake/applications/{created.json()['id']}/submit")


def test_own_stored_evidence_is_accepted(settings, urls):
    intake, media = _person(settings, urls)
    image = _upload(media, 1)
    resp = _submit(intake, {**sample_form(), "image_evidence_ids": [image]})
    assert resp.status_code == 200 and resp.json()["state"] == "submitted", resp.text


def test_someone_elses_unknown_or_deleted_evidence_is_refused_per_path(settings, urls):
    intake, media = _person(settings, urls)
    _, other_media = _person(settings, urls)
    theirs = _upload(other_media, 2)
    deleted = _upload(media, 3)
    assert media.request("DELETE", f"/api/media/evidence/{deleted}").status_code == 204
    unknown = str(uuid.uuid4())
    form = {**sample_form(), "image_evidence_ids": [theirs, unknown], "video_evidence_ids": [deleted],
            "media_reports": [{"title": "报道", "outlet": "人民网", "published_on": "2023-05-01",
                               "url": "https://example.org/a", "screenshot_evidence_id": theirs}]}
    resp = _submit(intake, form)
    assert resp.status_code == 422, resp.text
    refused = {(i["code"], i["path"], i["details"]["evidence_id"]) for i in resp.json()["details"]["issues"]}
    assert refused == {
        ("evidence_not_found", "image_evidence_ids[0]", theirs),
        ("evidence_not_found", "image_evidence_ids[1]", unknown),
        ("evidence_not_found", "video_evidence_ids[0]", deleted),
        ("evidence_not_found", "media_reports[0].screenshot_evidence_id", theirs),
    }
