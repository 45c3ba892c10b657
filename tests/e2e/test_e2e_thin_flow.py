"""The thin flow across every service, each in its own nameko container over the real RabbitMQ:
an applicant submits, its unit endorses and forwards in a batch, review stores and indexes it, and
a staff search for a word of its title finds it."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from platform_support import Client, load_open_call, running_services, sample_form, tokens, wait_until

from gongyi.config import SERVICES
from gongyi.db import make_engine, outbox_t
from gongyi.events.envelope import documented_types, validate_event

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(settings):
    load_open_call(settings)
    with running_services(settings, *SERVICES) as urls:
        yield urls


def test_every_service_is_live_and_ready(platform):
    for name, base in platform.items():
        assert Client(base).get(f"/api/{name}/healthz").json() == {"status": "ok", "service": name}
        ready = Client(base).get(f"/api/{name}/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"].values()) == {"ok"}


def test_thin_flow_reaches_staff_search(platform, settings):
    tok = tokens(settings)
    applicant = Client(platform["intake"], tok["applicant"])
    unit = Client(platform["intake"], tok["unit"])
    staff = Client(platform["review"], tok["staff"])
    marker = uuid.uuid4().hex[:6]
    name = f"乡村振兴直播助农{marker}"
    correlation = f"corr-{marker}"

    created = applicant.post("/api/intake/applications", json={"call_id": "2024-national", "form": sample_form(name)},
                             headers={"X-Correlation-Id": correlation})
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    assert created.json()["state"] == "draft"

    submitted = applicant.post(f"/api/intake/applications/{app_id}/submit", headers={"X-Correlation-Id": correlation})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"

    endorsed = unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意推荐"})
    assert endorsed.json()["state"] == "endorsed", endorsed.text

    batch = unit.post("/api/intake/batches", json={"application_ids": [app_id], "idempotency_key": f"k-{marker}"},
                      headers={"X-Correlation-Id": correlation})
    assert batch.status_code == 201, batch.text
    assert batch.json()["items"] == [{"application_id": app_id, "status": "forwarded"}]

    def found():
        r = staff.get("/api/review/search", params={"q": "直播助农", "call_id": "2024-national"})
        assert r.status_code == 200, r.text
        ids = [i["application_id"] for i in r.json()["items"]]
        return r.json() if app_id in ids else None

    result = wait_until(found, timeout=20, message="the application in staff search")
    hit = next(i for i in result["items"] if i["application_id"] == app_id)
    assert hit["project_name"] == name
    assert "<em>" in "".join(hit["highlight"].get("project_name", []))
    assert {"value": "education", "count": 1} in result["facets"]["category"] or any(
        f["value"] == "education" for f in result["facets"]["category"])
    # personal data never enters the index
    assert "contact" not in hit and "13800138000" not in str(result)

    # the forwarded event carried the request's correlation id through the broker
    engine = make_engine(settings.db_url("intake"))
    with engine.connect() as conn:
        body = conn.execute(sa.select(outbox_t.c.body).where(
            outbox_t.c.subject == f"application/{app_id}", outbox_t.c.type == "application.forwarded.v1")).scalar()
    engine.dispose()
    assert f'"correlationid":"{correlation}"' in body


def test_replayed_batch_is_not_forwarded_twice(platform, settings):
    tok = tokens(settings)
    applicant = Client(platform["intake"], tok["applicant"])
    unit = Client(platform["intake"], tok["unit"])
    app_id = applicant.post("/api/intake/applications",
                            json={"call_id": "2024-national", "form": sample_form()}).json()["id"]
    assert applicant.post(f"/api/intake/applications/{app_id}/submit").status_code == 200
    assert unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意"}).status_code == 200
    key = f"replay-{uuid.uuid4().hex[:8]}"
    first = unit.post("/api/intake/batches", json={"application_ids": [app_id], "idempotency_key": key})
    again = unit.post("/api/intake/batches", json={"application_ids": [app_id], "idempotency_key": key})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["batch_id"] == first.json()["batch_id"] and again.json()["replayed"] is True
    engine = make_engine(settings.db_url("intake"))
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(outbox_t).where(
            outbox_t.c.subject == f"application/{app_id}", outbox_t.c.type == "application.forwarded.v1")).scalar()
    engine.dispose()
    assert n == 1


def test_every_dispatched_event_matches_its_contract(platform, settings):
    """Independent of the write-time check: re-read every stored event of every service."""
    seen_types = set()
    for service in SERVICES:
        engine = make_engine(settings.db_url(service))
        with engine.connect() as conn:
            for (body,) in conn.execute(sa.select(outbox_t.c.body)):
                import json

                event = json.loads(body)
                validate_event(event)
                assert event["source"] == f"/gongyi/{service}"
                seen_types.add(event["type"])
        engine.dispose()
    assert {"application.submitted.v1", "application.endorsed.v1", "application.forwarded.v1",
            "call.loaded.v1"} <= seen_types
    assert seen_types <= documented_types()
