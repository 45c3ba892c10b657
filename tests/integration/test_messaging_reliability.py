"""What the outbox, the inbox and the dead-letter path promise, shown on the real RabbitMQ.

- an event written while the broker is stopped is delivered once it is back;
- the same event delivered twice changes the consumer's state once;
- a poison message is dead-lettered after N attempts while later messages keep flowing;
- a message that breaks its contract is dead-lettered without running the handler.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from urllib.parse import quote

import pytest
import requests
import sqlalchemy as sa
from kombu import Connection, Consumer, Queue
from platform_support import Client, load_open_call, running_services, sample_form, tokens, wait_until

from gongyi.db import inbox_t, make_engine, outbox_t
from gongyi.events.consumer import event_handler
from gongyi.events.envelope import CONTENT_TYPE, encode, make_event
from gongyi.events.relay import event_exchange
from gongyi.events.topology import DEAD_LETTER_QUEUE
from services.review.storage.tables import projects


def publish(amqp_uri: str, event: dict, source: str = "intake") -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        producer.publish(encode(event), exchange=event_exchange(source), routing_key=event["type"],
                         content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2,
                         declare=[event_exchange(source)])


def drain(amqp_uri: str, queue: str, timeout: float = 2.0) -> list:
    """Every message currently in ``queue`` (consumed and acked), as (body, headers)."""
    got = []
    with Connection(amqp_uri) as conn:
        q = Queue(queue, durable=True, no_declare=True)

        def on_message(body, message):  # noqa: ANN001, ANN202
            got.append((body, message.headers))
            message.ack()

        with Consumer(conn, queues=[q], callbacks=[on_message], accept=["json", "cloudevents"]):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=0.3)
                except TimeoutError:
                    if got:
                        break
    return got


def forwarded_event(app_id: str) -> dict:
    form = sample_form()
    return make_event(source_service="intake", type="application.forwarded.v1", subject=f"application/{app_id}",
                      data={"application_id": app_id, "call_id": "2024-national", "call_version": 1,
                            "state": "forwarded", "unit_code": "cac-beijing", "project_name": form["project_name"],
                            "category": "education", "applicant_name": "北京阳光公益基金会",
                            "applicant_type": "social_organisation", "batch_id": str(uuid.uuid4()),
                            "unit_opinion": "同意", "submitted_at": "2024-02-01T10:00:00+08:00",
                            "forwarded_at": "2024-02-02T10:00:00+08:00", "form": form})


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def test_event_written_while_broker_is_stopped_is_delivered_when_it_is_back(settings):
    load_open_call(settings)
    tok = tokens(settings)
    watch = f"test-outage-{uuid.uuid4().hex[:6]}"
    with Connection(settings.amqp_uri) as conn:
        Queue(watch, exchange=event_exchange("intake"), routing_key="application.submitted.v1",
              durable=True)(conn.default_channel).declare()
    engine = make_engine(settings.db_url("intake"))
    with running_services(settings, "intake") as urls:
        applicant = Client(urls["intake"], tok["applicant"])
        app_id = applicant.post("/api/intake/applications",
                                json={"call_id": "2024-national", "form": sample_form()}).json()["id"]
        rabbitmqctl("stop_app")
        stopped_at = time.monotonic()
        try:
            # the request succeeds: the change and its event are in the database, not lost
            r = applicant.post(f"/api/intake/applications/{app_id}/submit")
            assert r.status_code == 200, r.text
            time.sleep(2)
            with engine.connect() as conn:
                row = conn.execute(sa.select(outbox_t.c.sent_at, outbox_t.c.attempts).where(
                    outbox_t.c.subject == f"application/{app_id}",
                    outbox_t.c.type == "application.submitted.v1")).one()
            assert row.sent_at is None
        finally:
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
        outage = time.monotonic() - stopped_at

        def delivered():
            with engine.connect() as conn:
                return conn.execute(sa.select(outbox_t.c.sent_at).where(
                    outbox_t.c.subject == f"application/{app_id}",
                    outbox_t.c.type == "application.submitted.v1")).scalar()

        wait_until(delivered, timeout=60, message="the relay to send after the broker came back")
        bodies = [b for b, _ in drain(settings.amqp_uri, watch)]
    engine.dispose()
    mine = [b for b in bodies if b["data"]["application_id"] == app_id]
    assert len(mine) == 1, bodies
    print(f"\nbroker outage {outage:.1f} s; event delivered once after restart")


def test_same_event_delivered_twice_changes_state_once(settings):
    app_id = str(uuid.uuid4())
    event = forwarded_event(app_id)
    engine = make_engine(settings.db_url("review"))
    with running_services(settings, "review"):
        publish(settings.amqp_uri, event)
        publish(settings.amqp_uri, event)  # a redelivery, as after a consumer crash before its ack

        def stored():
            with engine.connect() as conn:
                return conn.execute(sa.select(projects.c.version).where(projects.c.application_id == app_id)).scalar()

        wait_until(stored, message="review to store the project")
        queue = "evt-intake-application.forwarded.v1--review.on_application_forwarded"
        wait_until(lambda: _queue_idle(settings, queue), timeout=20, message="the review queue to drain")
    with engine.connect() as conn:
        version = conn.execute(sa.select(projects.c.version).where(projects.c.application_id == app_id)).scalar()
        applied = conn.execute(sa.select(sa.func.count()).select_from(inbox_t).where(
            inbox_t.c.event_id == event["id"], inbox_t.c.handler == "review.record_forwarded")).scalar()
    engine.dispose()
    assert version == 1
    assert applied == 1


def _queue_idle(settings, queue: str) -> bool:
    from gongyi.events.topology import management_base

    base, vhost, auth = management_base(settings.rabbitmq_management_url, settings.amqp_uri)
    r = requests.get(f"{base}/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}", auth=auth, timeout=5)
    info = r.json()
    return r.ok and info.get("messages", 1) == 0 and info.get("messages_unacknowledged", 1) == 0


CALLS: list[tuple[str, str]] = []


class FlakyConsumer:
    """A subscriber whose handler always fails on one project: the poison."""

    name = "flaky"

    @event_handler("intake", "application.endorsed.v1")
    def on_endorsed(self, event: dict) -> None:
        CALLS.append((event["id"], event["data"]["project_name"]))
        if event["data"]["project_name"] == "POISON":
            raise RuntimeError("cannot handle this one")


def endorsed(name: str) -> dict:
    app_id = str(uuid.uuid4())
    return make_event(source_service="intake", type="application.endorsed.v1", subject=f"application/{app_id}",
                      data={"application_id": app_id, "call_id": "2024-national", "call_version": 1,
                            "state": "endorsed", "unit_code": "cac-beijing", "project_name": name,
                            "unit_opinion": "同意"})


@pytest.fixture()
def flaky(settings):
    from nameko.containers import ServiceContainer

    from gongyi.config import nameko_config

    CALLS.clear()
    container = ServiceContainer(FlakyConsumer, nameko_config(settings, "flaky", "127.0.0.1:0"))
    container.start()
    yield container
    container.stop()


def test_poison_message_is_dead_lettered_after_n_attempts_and_others_flow(settings, flaky):
    poison = endorsed("POISON")
    healthy = [endorsed(f"项目{i}") for i in range(5)]
    publish(settings.amqp_uri, poison)
    for e in healthy:
        publish(settings.amqp_uri, e)
    wait_until(lambda: {e["id"] for e in healthy} <= {c[0] for c in CALLS}, message="healthy events handled")
    wait_until(lambda: sum(1 for c in CALLS if c[0] == poison["id"]) >= settings.dead_letter_after,
               message="the poison to be retried")
    dead = wait_until(lambda: [m for m in drain(settings.amqp_uri, DEAD_LETTER_QUEUE)
                               if m[0].get("id") == poison["id"]], timeout=20, message="poison in dead letters")
    body, headers = dead[0]
    attempts = sum(1 for c in CALLS if c[0] == poison["id"])
    assert attempts == settings.dead_letter_after
    assert headers["x-death"][0]["queue"] == "evt-intake-application.endorsed.v1--flaky.on_endorsed"
    assert all(sum(1 for c in CALLS if c[0] == e["id"]) == 1 for e in healthy)
    print(f"\npoison handled {attempts} times then dead-lettered; {len(healthy)} others handled once each")


def test_event_breaking_its_contract_is_dead_lettered_without_running_the_handler(settings, flaky):
    broken = endorsed("坏消息")
    del broken["data"]["call_id"]  # required by application.endorsed.v1
    publish(settings.amqp_uri, broken)
    dead = wait_until(lambda: [m for m in drain(settings.amqp_uri, DEAD_LETTER_QUEUE)
                               if m[0].get("id") == broken["id"]], timeout=20, message="broken event dead-lettered")
    assert dead and broken["id"] not in {c[0] for c in CALLS}
    assert json.dumps(dead[0][0], ensure_ascii=False).count("坏消息") == 1
