"""The consumer guide, run: the plain-kombu example consumer (a separate process, no nameko) receives
intake's events from the thin flow and deduplicates a replay of them; a queue bound after the
events were sent catches up through `gongyi events replay`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from kombu import Connection, Consumer, Exchange, Queue
from platform_support import REPO, Client, load_open_call, running_services, sample_form, tokens, wait_until

from gongyi.cli import main as cli
from gongyi.db import make_engine, outbox_t

EXAMPLE = REPO / "examples" / "consumer" / "consumer.py"
TYPES = ("application.created.v1", "application.submitted.v1", "application.endorsed.v1", "application.forwarded.v1")


def cli_env(settings) -> dict[str, str]:  # noqa: ANN001
    return {"GONGYI_AMQP_URI": settings.amqp_uri, "GONGYI_INTAKE_DB_URL": settings.db_url("intake"),
            "GONGYI_LOG_LEVEL": "WARNING"}


def bind_queue(settings, name: str, keys: list[str]) -> None:  # noqa: ANN001
    with Connection(settings.amqp_uri) as conn:
        exchange = Exchange("intake.events", type="topic", durable=True)
        q = Queue(name, exchange=exchange, routing_key=keys[0], durable=True)(conn.default_channel)
        q.declare()
        for key in keys[1:]:
            q.bind_to(exchange=exchange, routing_key=key)


def read_queue(settings, name: str, timeout: float = 2.0) -> list[dict]:  # noqa: ANN001
    got: list[dict] = []
    with Connection(settings.amqp_uri) as conn:
        def on_message(message):  # noqa: ANN001, ANN202
            got.append(json.loads(message.body))
            message.ack()

        with Consumer(conn, queues=[Queue(name, no_declare=True)], on_message=on_message):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=0.3)
                except TimeoutError:
                    if got:
                        break
    return got


def run_example(settings, queue: str, state) -> dict:  # noqa: ANN001
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--amqp-uri", settings.amqp_uri, "--exchange", "intake.events",
         "--queue", queue, "--routing-key", "application.#", "--state", str(state), "--idle-timeout", "2"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def flow(settings):
    """Two applications through submit, endorse and forward; the example's queue bound beforehand."""
    load_open_call(settings)
    queue = f"example-consumer-{uuid.uuid4().hex[:6]}"
    bind_queue(settings, queue, ["application.#"])
    tok = tokens(settings)
    engine = make_engine(settings.db_url("intake"))
    with running_services(settings, "intake") as urls:
        applicant, unit = Client(urls["intake"], tok["applicant"]), Client(urls["intake"], tok["unit"])
        ids = []
        for _ in range(2):
            app = applicant.post("/api/intake/applications", json={"call_id": "2024-national", "form": sample_form()})
            assert app.status_code == 201, app.text
            ids.append(app.json()["id"])
            assert applicant.post(f"/api/intake/applications/{ids[-1]}/submit").status_code == 200
            assert unit.post(f"/api/intake/applications/{ids[-1]}/endorse", json={"opinion": "同意"}).status_code == 200
        batch = unit.post("/api/intake/batches", json={"application_ids": ids, "idempotency_key": uuid.uuid4().hex})
        assert batch.status_code == 201, batch.text
        subjects = [f"application/{i}" for i in ids]

        def all_sent():
            with engine.connect() as conn:
                rows = conn.execute(sa.select(outbox_t.c.id, outbox_t.c.sent_at).where(
                    outbox_t.c.subject.in_(subjects), outbox_t.c.type.in_(TYPES))).all()
            return rows if len(rows) == 2 * len(TYPES) and all(r.sent_at for r in rows) else None

        rows = wait_until(all_sent, timeout=30, message="intake's relay to send the eight events")
        yield {"queue": queue, "ids": ids, "first_outbox_id": min(r.id for r in rows),
               "last_outbox_id": max(r.id for r in rows)}
    engine.dispose()


def test_example_consumer_receives_the_events_and_ignores_a_replay(flow, settings, tmp_path):
    state = tmp_path / "consumer.db"
    first = run_example(settings, flow["queue"], state)
    mine = [a for a in first["applied"] if a[2] in {f"application/{i}" for i in flow["ids"]}]
    assert mine, first
    assert sorted(t for _, t, _ in mine) == sorted(TYPES * 2)
    assert first["stats"]["duplicates"] == 0 and first["stats"]["refused"] == 0
    # per subject, the events arrive in the order they happened
    for app_id in flow["ids"]:
        assert [t for _, t, s in mine if s == f"application/{app_id}"] == list(TYPES)

    replayed = CliRunner().invoke(cli, [
        "events", "replay", "--service", "intake", "--since-id", str(flow["first_outbox_id"] - 1),
        "--until-id", str(flow["last_outbox_id"]), *sum((["--type", t] for t in TYPES), []),
        "--to-queue", flow["queue"]], env=cli_env(settings))
    assert replayed.exit_code == 0, replayed.output
    result = json.loads(replayed.output.strip().splitlines()[-1])
    assert result["published"] >= 2 * len(TYPES) and result["target"] == f"queue {flow['queue']}"

    second = run_example(settings, flow["queue"], state)
    assert second["stats"]["received"] == result["published"]
    assert second["stats"]["applied"] == 0 and second["stats"]["duplicates"] == result["published"]
    assert len(second["applied"]) == len(first["applied"])
    print(f"\nexample consumer: {first['stats']} then replay of {result['published']}: {second['stats']}")


def test_late_subscriber_catches_up_through_replay_to_the_exchange(flow, settings):
    late = f"late-subscriber-{uuid.uuid4().hex[:6]}"
    bind_queue(settings, late, ["application.forwarded.v1"])
    assert read_queue(settings, late, timeout=1.0) == []  # bound after the events were sent: nothing yet
    runner = CliRunner()
    archive = runner.invoke(cli, ["events", "archive", "--service", "intake", "--since-id",
                                  str(flow["first_outbox_id"] - 1), "--limit", "100"], env=cli_env(settings))
    assert archive.exit_code == 0, archive.output
    listed = [json.loads(line) for line in archive.output.splitlines() if line.startswith("{")]
    assert {r["type"] for r in listed} >= set(TYPES) and all(r["sent_at"] for r in listed[:6])
    replayed = runner.invoke(cli, ["events", "replay", "--service", "intake", "--since-id",
                                   str(flow["first_outbox_id"] - 1), "--type", "application.forwarded.v1"],
                             env=cli_env(settings))
    assert replayed.exit_code == 0, replayed.output
    got = read_queue(settings, late)
    mine = [e for e in got if e["data"]["application_id"] in flow["ids"]]
    assert [e["data"]["application_id"] for e in mine] == flow["ids"]  # in their original order
    engine = make_engine(settings.db_url("intake"))
    with engine.connect() as conn:
        original = dict(conn.execute(sa.select(outbox_t.c.subject, outbox_t.c.event_id).where(
            outbox_t.c.type == "application.forwarded.v1",
            outbox_t.c.subject.in_([f"application/{i}" for i in flow["ids"]]))).all())
    engine.dispose()
    assert {e["subject"]: e["id"] for e in mine} == original  # the original ids: consumers can dedupe


def test_replay_to_a_queue_that_does_not_exist_is_refused(settings):
    out = CliRunner().invoke(cli, ["events", "replay", "--service", "intake", "--to-queue", "no-such-queue-x"],
                             env=cli_env(settings))
    assert out.exit_code == 2 and "does not exist" in out.output
