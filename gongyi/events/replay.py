"""Replay of the outbox archive, for subscribers that bound their queue late or lost their state.

The relay marks outbox rows sent and keeps them: they are the event history. A replay republishes
archived events in their original order with their original ids and bodies, either to the
producer's exchange (every queue bound there gets them again) or straight to one named queue (only
that subscriber does). Consumers that deduplicate on ``id`` ignore what they already applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from kombu import Connection, Exchange, Producer

from gongyi.events.envelope import CONTENT_TYPE
from gongyi.events.relay import event_exchange
from gongyi.events.tables import outbox_t

REPLAY_HEADER = "x-gongyi-replay"


class ReplayError(RuntimeError):
    """The replay cannot start (e.g. the target queue does not exist)."""


@dataclass
class ReplayResult:
    published: int = 0
    first_id: int | None = None
    last_id: int | None = None
    by_type: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"published": self.published, "first_id": self.first_id, "last_id": self.last_id,
                "by_type": dict(sorted(self.by_type.items()))}


@dataclass(frozen=True)
class ArchivedEvent:
    id: int
    event_id: str
    type: str
    subject: str
    body: str
    sent: bool


def archived(
    engine: sa.Engine,
    since_id: int = 0,
    types: Sequence[str] = (),
    until_id: int | None = None,
    sent_only: bool = True,
    chunk: int = 500,
) -> Iterator[ArchivedEvent]:
    """Archived events after ``since_id`` in outbox order, read in chunks.

    Unsent rows are left out by default: the relay sends them anyway, in order after the rest.
    """
    last = since_id
    while True:
        query = (
            sa.select(outbox_t.c.id, outbox_t.c.event_id, outbox_t.c.type, outbox_t.c.subject, outbox_t.c.body,
                      outbox_t.c.sent_at)
            .where(outbox_t.c.id > last)
            .order_by(outbox_t.c.id)
            .limit(chunk)
        )
        if types:
            query = query.where(outbox_t.c.type.in_(list(types)))
        if until_id is not None:
            query = query.where(outbox_t.c.id <= until_id)
        if sent_only:
            query = query.where(outbox_t.c.sent_at.is_not(None))
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        for r in rows:
            yield ArchivedEvent(r.id, r.event_id, r.type, r.subject, r.body, r.sent_at is not None)
        if len(rows) < chunk:
            return
        last = rows[-1].id


def queue_exists(conn: Connection, queue: str) -> bool:
    channel = conn.channel()
    try:
        channel.queue_declare(queue=queue, passive=True)
        return True
    except Exception:  # noqa: BLE001 - the broker closes the channel with 404 NOT_FOUND
        return False
    finally:
        try:
            channel.close()
        except Exception:  # noqa: BLE001 - already closed by the 404
            pass


def replay(
    engine: sa.Engine,
    amqp_uri: str,
    service: str,
    since_id: int = 0,
    types: Sequence[str] = (),
    to_queue: str | None = None,
    until_id: int | None = None,
    progress: Callable[[ArchivedEvent], None] | None = None,
) -> ReplayResult:
    """Republish archived events of ``service``; every publish is confirmed by the broker."""
    result = ReplayResult()
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.ensure_connection(max_retries=3)
        if to_queue is not None:
            if not queue_exists(conn, to_queue):
                raise ReplayError(f"queue {to_queue!r} does not exist; declare and bind it first")
            exchange, routing = Exchange(""), None  # the default exchange routes by queue name
        else:
            exchange, routing = event_exchange(service), None
        producer = Producer(conn.channel(), exchange=exchange)
        if to_queue is None:
            exchange(producer.channel).declare()
        for event in archived(engine, since_id, types, until_id):
            routing = to_queue if to_queue is not None else event.type
            producer.publish(
                event.body,
                routing_key=routing,
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=event.event_id,
                headers={"ce-type": event.type, REPLAY_HEADER: True},
                retry=False,
            )
            result.published += 1
            result.first_id = event.id if result.first_id is None else result.first_id
            result.last_id = event.id
            result.by_type[event.type] = result.by_type.get(event.type, 0) + 1
            if progress is not None:
                progress(event)
    return result


def archive_summary(engine: sa.Engine, since_id: int = 0, limit: int = 50) -> list[dict]:
    """The archive's rows (no bodies) for picking ``--since-id``: id, event id, type, subject, sent."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox_t.c.id, outbox_t.c.event_id, outbox_t.c.type, outbox_t.c.subject, outbox_t.c.created_at,
                      outbox_t.c.sent_at)
            .where(outbox_t.c.id > since_id)
            .order_by(outbox_t.c.id)
            .limit(limit)
        ).all()
    return [
        {"id": r.id, "event_id": r.event_id, "type": r.type, "subject": r.subject,
         "created_at": r.created_at.isoformat() if r.created_at else None,
         "sent_at": r.sent_at.isoformat() if r.sent_at else None}
        for r in rows
    ]


def event_body(event: ArchivedEvent) -> dict:
    return json.loads(event.body)
