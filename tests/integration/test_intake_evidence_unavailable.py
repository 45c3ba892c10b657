"""When media cannot answer, a submission naming evidence is refused with 503
``evidence_check_unavailable``: never accepted unchecked. Both faults are real: media's RPC queue
exists with nobody consuming it (the call times out), or it does not exist at all."""

from __future__ import annotations

import pytest
from kombu import Connection, Exchange, Queue
from platform_support import Client, load_open_call, running_services, sample_form, tokens

CALL = "2024-national"
MEDIA_QUEUE = Queue("rpc-media", Exchange("nameko-rpc", type="topic", durable=True), routing_key="media.*",
                    durable=True)


@pytest.fixture(scope="module")
def intake(settings):
    load_open_call(settings)
    with running_services(settings, "intake") as urls:  # media is not running
        yield urls["intake"]


def _draft_with_evidence(settings, intake) -> tuple[Client, str]:
    applicant = Client(intake, tokens(settings)["applicant"])
    form = {**sample_form(), "image_evidence_ids": ["3f2a9c1e-0000-4000-8000-000000000001"]}
    created = applicant.post("/api/intake/applications", json={"call_id": CALL, "form": form})
    assert created.status_code == 201, created.text
    return applicant, created.json()["id"]


def _assert_refused(applicant: Client, app_id: str, reason: str) -> None:
    resp = applicant.post(f"/api/intake/applications/{app_id}/submit")
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["code"] == "evidence_check_unavailable" and body["details"]["reason"] == reason
    assert applicant.get(f"/api/intake/applications/{app_id}").json()["state"] == "draft"


def test_media_not_answering_times_out_into_503(settings, intake, monkeypatch):
    monkeypatch.setenv("GONGYI_INTAKE_EVIDENCE_TIMEOUT_S", "1")
    with Connection(settings.amqp_uri) as conn:
        MEDIA_QUEUE.bind(conn.default_channel).declare()
        try:
            applicant, app_id = _draft_with_evidence(settings, intake)
            _assert_refused(applicant, app_id, "timeout")
        finally:
            MEDIA_QUEUE.bind(conn.default_channel).purge()


def test_media_absent_from_the_broker_is_503(settings, intake):
    with Connection(settings.amqp_uri) as conn:
        MEDIA_QUEUE.bind(conn.default_channel).delete()
    applicant, app_id = _draft_with_evidence(settings, intake)
    _assert_refused(applicant, app_id, "UnknownService")


def test_a_form_without_evidence_does_not_need_media(settings, intake):
    applicant = Client(intake, tokens(settings)["applicant"])
    created = applicant.post("/api/intake/applications", json={"call_id": CALL, "form": sample_form()})
    resp = applicant.post(f"/api/intake/applications/{created.json()['id']}/submit")
    assert resp.status_code == 200 and resp.json()["state"] == "submitted", resp.text
