"""Evidence ids on a submitted form must exist in the media service and belong to the applicant:
intake asks media over nameko RPC (``media.evidence_summary``), both real services on RabbitMQ."""

from __future__ import annotations

import io
import uuid

import pytest
from platform_support import Client, load_open_call, running_services, sample_form, wait_until

from gongyi.http.auth import issue_token

CALL = "2024-national"


@pytest.fixture(scope="module")
def urls(settings):
    load_open_call(settings)
    with running_services(settings, "intake", "media") as urls:
        yield urls


def _png(seed: int, size: tuple[int, int] = (1280, 720)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (seed * 40 % 255, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _person(settings, urls) -> tuple[Client, Client]:
    token = issue_token(settings, "applicant", f"ev-{uuid.uuid4().hex[:8]}", org="53110000500000007T")
    return Client(urls["intake"], token), Client(urls["media"], token)


def _upload(media: Client, seed: int, size: tuple[int, int] = (1280, 720)) -> str:
    resp = media.post("/api/media/evidence", params={"kind": "image", "filename": "photo.png"},
                      data=_png(seed, size), headers={"Content-Type": "application/octet-stream"})
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


def test_a_low_resolution_image_is_flagged_in_the_upload_answer_and_in_the_application(settings, urls):
    intake, media = _person(settings, urls)
    answer = media.post("/api/media/evidence", params={"kind": "image", "filename": "small.png"},
                        data=_png(4, (1024, 576)), headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 201, answer.text
    small = answer.json()["id"]
    assert [w["code"] for w in answer.json()["warnings"]] == ["low_resolution"]
    sharp = _upload(media, 5)
    created = intake.post("/api/intake/applications",
                          json={"call_id": CALL, "form": {**sample_form(), "image_evidence_ids": [sharp, small]}})
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]

    def warned():  # intake learns of it from media's evidence.stored.v1
        got = intake.get(f"/api/intake/applications/{app_id}").json()
        return got if got["evidence_warnings"] else None

    got = wait_until(warned, message="evidence.stored.v1 reached intake")
    [w] = got["evidence_warnings"]
    assert (w["evidence_id"], w["path"], w["code"]) == (small, "image_evidence_ids[1]", "low_resolution")
    assert w["message_zh"].startswith("分辨率过低") and w["details"]["width"] == 1024
    # a warning, not a refusal: the application is still submitted, and the answer shows it too
    submitted = intake.post(f"/api/intake/applications/{app_id}/submit")
    assert submitted.status_code == 200 and submitted.json()["evidence_warnings"] == got["evidence_warnings"]
    unit = Client(urls["intake"], issue_token(settings, "unit", "unit-user", unit="cac-beijing"))
    assert unit.get(f"/api/intake/applications/{app_id}").json()["evidence_warnings"] == got["evidence_warnings"]
