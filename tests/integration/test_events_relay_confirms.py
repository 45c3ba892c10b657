"""The outbox relay waits for publisher confirms once per batch, and counts as sent only what the
broker confirmed: shown on the real RabbitMQ, with a queue that refuses messages when full
(``x-overflow: reject-publish``), which makes the broker nack the rest of a batch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from kombu import Connection, Queue

from gongyi.events.relay import OutboxRelay, event_exchange
from gongyi.events.tables import _meta, outbox_t


@pytest.fixture()
def outbox(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    _meta.create_all(engine, tables=[outbox_t])
    yield engine
    engine.dispose()


def _write(engine: sa.Engine, n: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    with engine.begin() as conn:
        conn.execute(outbox_t.insert(), [
            {"event_id": i, "type": "thing.happened.v1", "subject": f"thing/{k}", "body": f'{{"n": {k}}}',
             "created_at": datetime.now(UTC)} for k, i in enumerate(ids)])
    return ids


def _queue(amqp_uri: str, service: str, **arguments) -> Queue:
    name = f"relay-test-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, exchange=event_exchange(service), routing_key="#", durable=False, auto_delete=False,
                  queue_arguments=arguments or None)
    with Connection(amqp_uri) as conn:
        queue(conn.default_channel).declare()
    return queue


def _bodies(amqp_uri: str, queue: Queue) -> list[str]:
    got = []
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        while (message := channel.basic_get(queue.name, no_ack=True)) is not None:
            got.append(message.body.decode() if isinstance(message.body, bytes) else message.body)
        queue(channel).delete()
    return got


def _unsent(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(outbox_t.c.sent_at.is_(None))).scalar()


def test_a_batch_is_confirmed_once_and_delivered_in_order(settings, outbox):
    service = f"relaytest{uuid.uuid4().hex[:6]}"
    relay = OutboxRelay(outbox, service, settings.amqp_uri, batch=100)
    try:
        relay._ensure_producer()  # declares the exchange before the queue binds to it
        queue = _queue(settings.amqp_uri, service)
        _write(outbox, 250)
        assert [relay.run_once() for _ in range(4)] == [100, 100, 50, 0]
    finally:
        relay.close()
    assert _unsent(outbox) == 0
    assert _bodies(settings.amqp_uri, queue) == [f'{{"n": {k}}}' for k in range(250)]


def test_what_the_broker_refuses_stays_in_the_outbox(settings, outbox):
    service = f"relaytest{uuid.uuid4().hex[:6]}"
    relay = OutboxRelay(outbox, service, settings.amqp_uri, batch=20)
    try:
        relay._ensure_producer()
        queue = _queue(settings.amqp_uri, service, **{"x-max-length": 5, "x-overflow": "reject-publish"})
        _write(outbox, 12)
        with pytest.raises(RuntimeError, match="refused"):
            relay.run_once()
    finally:
        relay.close()
    # the five the queue took are marked sent; the seven nacked are kept, in order, for the next run
    assert _unsent(outbox) == 7
    assert _bodies(settings.amqp_uri, queue) == [f'{{"n": {k}}}' for k in range(5)]
    relay = OutboxRelay(outbox, service, settings.amqp_uri, batch=20)
    try:
        relay._ensure_producer()
        queue = _queue(settings.amqp_uri, service)
        assert relay.run_once() == 7
    finally:
        relay.close()
    assert _bodies(settings.amqp_uri, queue) == [f'{{"n": {k}}}' for k in range(5, 12)]
