"""The outbox relay: sends committed events to the broker, in order, with publisher confirms.

One relay per service publishes at a time (a PostgreSQL advisory lock), rows go out in id order
and the relay stops at the first failure, so events of one subject keep their order. A row is
marked sent only after the broker confirmed it; a crash in between sends it again, which
consumers absorb through their inbox.
"""

from __future__ import annotations

import logging
import zlib
from datetime import UTC, datetime

import sqlalchemy as sa
from kombu import Connection, Exchange, Producer

from gongyi.db import outbox_t
from gongyi.events.envelope import CONTENT_TYPE
from gongyi.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG

log = logging.getLogger(__name__)


def event_exchange(service: str) -> Exchange:
    # the same declaration nameko's event handlers use, or the broker refuses the redeclare
    return Exchange(f"{service}.events", type="topic", durable=True, delivery_mode=2)


class OutboxRelay:
    def __init__(self, engine: sa.Engine, service: str, amqp_uri: str, batch: int = 200) -> None:
        self.engine = engine
        self.service = service
        self.amqp_uri = amqp_uri
        self.batch = batch
        self.exchange = event_exchange(service)
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._lock_conn: sa.Connection | None = None

    # -- leadership: only one relay per service database sends at a time
    def acquire_leadership(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        if self._lock_conn is None:
            self._lock_conn = self.engine.connect()
        key = zlib.crc32(f"gongyi-outbox-{self.service}".encode())
        got = self._lock_conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        self._lock_conn.commit()
        return bool(got)

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            transport_options = {"confirm_publish": True}
            if self.amqp_uri.startswith("memory"):
                transport_options = {}
            self._connection = Connection(self.amqp_uri, transport_options=transport_options, heartbeat=0)
            self._connection.ensure_connection(max_retries=1)
            channel = self._connection.channel()
            self._producer = Producer(channel, exchange=self.exchange)
            self.exchange(channel).declare()
        return self._producer

    def reset(self) -> None:
        """Drop the broker connection after a failure; the next run reconnects."""
        for closer in (self._connection,):
            try:
                if closer is not None:
                    closer.release()
            except Exception:  # noqa: BLE001 - already broken
                pass
        self._connection = None
        self._producer = None

    def close(self) -> None:
        self.reset()
        if self._lock_conn is not None:
            self._lock_conn.close()
            self._lock_conn = None

    def run_once(self) -> int:
        """Send one batch of unsent events; return how many were sent. Raises if the broker fails."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(outbox_t.c.id, outbox_t.c.event_id, outbox_t.c.type, outbox_t.c.body)
                .where(outbox_t.c.sent_at.is_(None))
                .order_by(outbox_t.c.id)
                .limit(self.batch)
            ).all()
        if not rows:
            OUTBOX_BACKLOG.labels(self.service).set(0)
            return 0
        producer = self._ensure_producer()
        sent: list[int] = []
        try:
            for row in rows:
                producer.publish(
                    row.body,
                    routing_key=row.type,
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=row.event_id,
                    headers={"ce-type": row.type},
                    retry=False,
                )
                sent.append(row.id)
                EVENTS_PUBLISHED.labels(self.service, row.type).inc()
        finally:
            if sent:
                self._mark_sent(sent)
        return len(sent)

    def _mark_sent(self, ids: list[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(outbox_t.update().where(outbox_t.c.id.in_(ids)).values(sent_at=datetime.now(UTC)))

    def record_failure(self, error: BaseException) -> None:
        with self.engine.begin() as conn:
            first = conn.execute(sa.select(sa.func.min(outbox_t.c.id)).where(outbox_t.c.sent_at.is_(None))).scalar()
            if first is not None:
                conn.execute(
                    outbox_t.update()
                    .where(outbox_t.c.id == first)
                    .values(attempts=outbox_t.c.attempts + 1, last_error=str(error)[:2000])
                )
