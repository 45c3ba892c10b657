"""Review's duplicate findings reach intake as events (published here with kombu to
``review.events``, as the review service will): flags per application for the unit and staff,
never the applicant; applied once however often delivered; "same project, withdraw" settles by
withdrawing the application not kept (``application.withdrawn.v1``, by staff)."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from kombu import Connection
from platform_support import Client, load_open_call, running_services, sample_form, tokens, wait_until

from gongyi.db import make_engine, outbox_t
from gongyi.events.envelope import CONTENT_TYPE, encode, make_event
from gongyi.events.relay import event_exchange
from services.intake.storage.tables import duplicate_flags

CALL = "2024-national"


@pytest.fixture(scope="module")
def intake(settings):
    load_open_call(settings)
    with running_services(settings, "intake") as urls:
        yield urls["intake"]


@pytest.fixture()
def who(settings, intake):
    return {role: Client(intake, t) for role, t in tokens(settings).items()}


def publish(amqp_uri: str, event: dict) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(encode(event), exchange=event_exchange("review"), routing_key=event["type"],
                                content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2,
                                declare=[event_exchange("review")])


def _forwarded(who: dict) -> str:
    app_id = who["applicant"].post("/api/intake/applications",
                                   json={"call_id": CALL, "form": sample_form()}).json()["id"]
    assert who["applicant"].post(f"/api/intake/applications/{app_id}/submit").status_code == 200
    assert who["unit"].post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意"}).status_code == 200
    batch = who["unit"].post("/api/intake/batches", json={"application_ids": [app_id],
                                                          "idempotency_key": uuid.uuid4().hex})
    assert batch.status_code == 201, batch.text
    return app_id


def suspected(a: str, b: str) -> dict:
    return make_event(source_service="review", type="duplicate.suspected.v1", subject=f"suspicion/{uuid.uuid4()}",
                      data={"suspicion_id": str(uuid.uuid4()), "application_ids": [a, b], "call_ids": [CALL, CALL],
                            "score": 0.91, "reasons": [{"code": "same_title", "message_zh": "项目名称高度相似",
                                                        "message_en": "Near-identical titles"}],
                            "cluster_id": f"c-{uuid.uuid4().hex[:6]}", "cross_call": False})


def settled(suspicion: dict, outcome: str, keep: str | None, action: str | None) -> dict:
    data = suspicion["data"]
    return make_event(source_service="review", type="duplicate.settled.v1", subject=suspicion["subject"],
                      data={"suspicion_id": data["suspicion_id"], "application_ids": data["application_ids"],
                            "outcome": outcome, "keep_id": keep, "action": action, "decided_by": "staff-7",
                            "note": "两份申报为同一项目"})


def _flags(client: Client, app_id: str):
    return client.get(f"/api/intake/applications/{app_id}").json()["duplicate_flags"]


def _withdrawn_events(settings, app_id: str) -> list[dict]:
    engine = make_engine(settings.db_url("intake"))
    with engine.connect() as conn:
        bodies = conn.execute(sa.select(outbox_t.c.body).where(
            outbox_t.c.subject == f"application/{app_id}", outbox_t.c.type == "application.withdrawn.v1")).scalars()
        events = [json.loads(b) for b in bodies]
    engine.dispose()
    return events


def test_flags_show_to_unit_and_staff_and_same_project_withdraws_the_other(who, settings):
    keep, other = _forwarded(who), _forwarded(who)
    event = suspected(keep, other)
    publish(settings.amqp_uri, event)
    publish(settings.amqp_uri, event)  # redelivered: applied once

    flags = wait_until(lambda: _flags(who["unit"], keep), message="the flag on the kept application")
    assert len(flags) == 1
    flag = flags[0]
    assert flag["other_application_id"] == other and flag["status"] == "open" and flag["score"] == 0.91
    assert flag["reasons"][0]["code"] == "same_title"
    assert _flags(who["staff"], other)[0]["other_application_id"] == keep
    assert _flags(who["applicant"], keep) is None  # the applicant is not shown review's suspicion
    listed = {i["id"]: i for i in who["unit"].get("/api/intake/applications?limit=500").json()["items"]}
    assert listed[keep]["duplicate_flags"][0]["suspicion_id"] == event["data"]["suspicion_id"]
    mine = {i["id"]: i for i in who["applicant"].get("/api/intake/applications?limit=500").json()["items"]}
    assert mine[keep]["duplicate_flags"] is None
    engine = make_engine(settings.db_url("intake"))
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(duplicate_flags).where(
            duplicate_flags.c.suspicion_id == event["data"]["suspicion_id"])).scalar()
    engine.dispose()
    assert rows == 2

    decision = settled(event, "same_project", keep, "withdrawn")
    publish(settings.amqp_uri, decision)
    publish(settings.amqp_uri, decision)
    wait_until(lambda: who["staff"].get(f"/api/intake/applications/{other}").json()["state"] == "withdrawn",
               message="the other application withdrawn")
    got = who["staff"].get(f"/api/intake/applications/{other}").json()
    assert got["history"][-1]["action"] == "duplicate_withdraw" and got["history"][-1]["by_role"] == "staff"
    assert got["duplicate_flags"][0]["status"] == "settled" and got["duplicate_flags"][0]["keep_id"] == keep
    assert who["staff"].get(f"/api/intake/applications/{keep}").json()["state"] == "forwarded"
    wait_until(lambda: _flags(who["unit"], keep)[0]["status"] == "settled", message="kept side settled")
    events = _withdrawn_events(settings, other)
    assert len(events) == 1  # the redelivered settlement withdrew nothing twice
    assert events[0]["data"]["by_role"] == "staff" and "同一项目" in events[0]["data"]["reason"]
    assert events[0]["data"]["as_duplicate"] is True  # the year-end summary counts withdrawn duplicates


def test_different_projects_settles_without_withdrawing(who, settings):
    a, b = _forwarded(who), _forwarded(who)
    event = suspected(a, b)
    # the settlement may overtake the suspicion: the flag ends settled either way
    publish(settings.amqp_uri, settled(event, "different_projects", None, None))
    publish(settings.amqp_uri, event)
    wait_until(lambda: (_flags(who["staff"], a) or [{}])[0].get("score") == 0.91, message="suspicion recorded")
    flag = _flags(who["staff"], a)[0]
    assert flag["status"] == "settled" and flag["outcome"] == "different_projects"
    for app_id in (a, b):
        assert who["staff"].get(f"/api/intake/applications/{app_id}").json()["state"] == "forwarded"
        assert _withdrawn_events(settings, app_id) == []


def test_unknown_applications_are_ignored_and_other_units_see_nothing(who, settings, intake):
    from gongyi.http.auth import issue_token

    mine = _forwarded(who)
    event = suspected(mine, str(uuid.uuid4()))  # the other side is not intake's (e.g. another deployment)
    publish(settings.amqp_uri, event)
    wait_until(lambda: _flags(who["unit"], mine), message="flag")
    other_unit = Client(intake, issue_token(settings, "unit", "u-tj", unit="cac-tianjin"))
    assert other_unit.get(f"/api/intake/applications/{mine}").status_code == 404
