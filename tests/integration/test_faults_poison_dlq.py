"""A poison message: dead-lettered after N attempts while the others flow; `gongyi dlq list` shows it
(and loses nothing), the cause is fixed, `gongyi dlq replay --id` sends it back to its original
queue, it is handled once and leaves the dead letters."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from click.testing import CliRunner
from kombu import Connection
from platform_support import wait_until

from gongyi.cli import main as cli
from gongyi.events.consumer import event_handler
from gongyi.events.envelope import CONTENT_TYPE, encode, make_event
from gongyi.events.relay import event_exchange

QUEUE = "evt-intake-application.endorsed.v1--dlqprobe.on_endorsed"
CALLS: list[tuple[str, bool]] = []
BROKEN = {"cause": True}


class DlqProbe:
    """Fails on the project named POISON until the cause is fixed."""

    name = "dlqprobe"

    @event_handler("intake", "application.endorsed.v1")
    def on_endorsed(self, event: dict) -> None:
        failing = event["data"]["project_name"] == "POISON" and BROKEN["cause"]
        CALLS.append((event["id"], not failing))
        if failing:
            raise RuntimeError("cannot handle this one")


def endorsed(name: str) -> dict:
    app_id = str(uuid.uuid4())
    return make_event(source_service="intake", type="application.endorsed.v1", subject=f"application/{app_id}",
                      data={"application_id": app_id, "call_id": "2024-national", "call_version": 1,
                            "state": "endorsed", "unit_code": "cac-beijing", "project_name": name,
                            "unit_opinion": "同意"})


def publish(amqp_uri: str, event: dict) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(encode(event), exchange=event_exchange("intake"), routing_key=event["type"],
                                content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2,
                                declare=[event_exchange("intake")])


@pytest.fixture()
def probe(settings):
    from nameko.containers import ServiceContainer

    from gongyi.config import SERVICES, nameko_config
    from gongyi.events.topology import declare_topology
    from gongyi.registry import service_classes

    with Connection(settings.amqp_uri) as conn:  # what `gongyi broker setup` does before any service runs
        declare_topology(conn.default_channel, list(SERVICES), service_classes())
    CALLS.clear()
    BROKEN["cause"] = True
    container = ServiceContainer(DlqProbe, nameko_config(settings, "dlqprobe", "127.0.0.1:0"))
    container.start()
    yield container
    container.stop()


def dlq_list(settings) -> list[dict]:  # noqa: ANN001
    out = CliRunner().invoke(cli, ["dlq", "list", "--json"], env={"GONGYI_AMQP_URI": settings.amqp_uri})
    assert out.exit_code == 0, out.output
    return [json.loads(line) for line in out.output.splitlines() if line.startswith("{")]


def test_poison_is_dead_lettered_listed_and_replayed_once_fixed(settings, probe):
    started = time.monotonic()
    poison = endorsed("POISON")
    healthy = [endorsed(f"项目{i}") for i in range(20)]
    publish(settings.amqp_uri, poison)
    for e in healthy:
        publish(settings.amqp_uri, e)
    wait_until(lambda: {e["id"] for e in healthy} <= {c[0] for c in CALLS}, message="healthy events handled")

    def listed():
        return [d for d in dlq_list(settings) if d["id"] == poison["id"]]

    entry = wait_until(listed, timeout=20, message="the poison in `gongyi dlq list`")[0]
    attempts = sum(1 for c in CALLS if c[0] == poison["id"])
    assert attempts == settings.dead_letter_after
    assert entry["type"] == "application.endorsed.v1" and entry["queue"] == QUEUE and entry["reason"] == "rejected"
    assert listed(), "listing must not remove dead letters"
    assert all(sum(1 for c in CALLS if c[0] == e["id"]) == 1 for e in healthy)

    BROKEN["cause"] = False  # the fix is deployed
    out = CliRunner().invoke(cli, ["dlq", "replay", "--id", poison["id"]], env={"GONGYI_AMQP_URI": settings.amqp_uri})
    assert out.exit_code == 0, out.output
    assert f"replayed {poison['id']} (application.endorsed.v1) -> {QUEUE}" in out.output
    wait_until(lambda: any(c == (poison["id"], True) for c in CALLS), message="the replayed poison handled")
    time.sleep(0.5)
    assert [c for c in CALLS if c[0] == poison["id"]].count((poison["id"], True)) == 1
    assert not listed()
    unknown = CliRunner().invoke(cli, ["dlq", "replay", "--id", "no-such-id"],
                                 env={"GONGYI_AMQP_URI": settings.amqp_uri})
    assert unknown.exit_code == 1 and "not in the dead letters" in unknown.output
    print(f"\npoison: {attempts} attempts, dead-lettered, listed, replayed after the fix and handled once; "
          f"{len(healthy)} others handled once each; {time.monotonic() - started:.1f} s")
