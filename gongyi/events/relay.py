"""The outbox relay: sends committed events to the broker, in order, with publisher confirms.

One relay per service publishes at a time (a PostgreSQL advisory lock), rows go out in id order
and the relay stops at the first failure, so events of one subject keep their order. A row is
marked sent only after the broker confirmed it; a crash in between sends it again, which
consumers absorb through their inbox.
"""

from __future__ import annotations

import logging
import time
import zlib
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from kombu import Connection, Exchange, Producer

from gongyi.events.envelope import CONTENT_TYPE
from gongyi.events.tables import outbox_t
from gongyi.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG

log = logging.getLogger(__name__)


def event_exchange(service: str) -> Exchange:
    # the same declaration nameko's event handlers use, or the broker refuses the redeclare
    return Exchange(f"{service}.events", type="topic", durable=True, delivery_mode=2)


class OutboxRelay:
    def __init__(
        self, engine: sa.Engine, service: str, amqp_uri: str, batch: int = 200, confirm_timeout: float = 30.0
    ) -> None:
        self.engine = engine
        self.confirm_timeout = confirm_timeout
        self.service = service
        self.amqp_uri = amqp_uri
        self.batch = batch
        self.exchange = event_exchange(service)
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirms: _Confirms | None = None
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
            # Confirms are asked for once per batch, not per message (py-amqp's ``confirm_publish``
            # waits for each ack in turn, which caps a relay at one broker round trip per event).
            self._connection = Connection(self.amqp_uri, heartbeat=0)
            self._connection.ensure_connection(max_retries=1)
            channel = self._connection.channel()
            self._confirms = _Confirms(channel) if hasattr(channel, "confirm_select") else None
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
        self._confirms = None

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
        confirms = self._confirms
        published: list[tuple[int, int, str]] = []  # (row id, delivery tag, type)
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
                published.append((row.id, confirms.next_tag() if confirms else 0, row.type))
            if confirms is not None and published:
                confirms.wait_through(published[-1][1], self.confirm_timeout)
        finally:
            # only a prefix the broker confirmed counts as sent: the rest goes again, in order
            sent = published if confirms is None else _confirmed_prefix(published, confirms)
            if sent:
                self._mark_sent([r[0] for r in sent])
                for _, _, type_ in sent:
                    EVENTS_PUBLISHED.labels(self.service, type_).inc()
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


class _Confirms:
    """Publisher confirms for a whole batch on one py-amqp channel: publish everything, then wait
    once until the broker has acked through the last delivery tag. A nack or a timeout raises."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self._tag = 0
        self._through = 0  # every tag <= this is acked
        self._single: set[int] = set()
        self._nacked: int | None = None
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.confirm_select()

    def next_tag(self) -> int:
        self._tag += 1
        return self._tag

    def _on_ack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self._through = max(self._through, tag)
        else:
            self._single.add(tag)
        while self._through + 1 in self._single:
            self._through += 1
            self._single.discard(self._through)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        first = self._through + 1 if multiple else tag
        self._nacked = first if self._nacked is None else min(self._nacked, first)

    def confirmed(self, tag: int) -> bool:
        return tag <= self._through and (self._nacked is None or tag < self._nacked)

    def wait_through(self, tag: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._through < tag:
            if self._nacked is not None:
                raise RuntimeError(f"broker refused event (delivery tag {self._nacked})")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no publisher confirm for delivery tag {tag} within {timeout:.0f} s")
            self.channel.connection.drain_events(timeout=remaining)
        if self._nacked is not None and self._nacked <= tag:
            raise RuntimeError(f"broker refused event (delivery tag {self._nacked})")


def _confirmed_prefix(published: list[tuple[int, int, str]], confirms: _Confirms) -> list[tuple[int, int, str]]:
    out = []
    for item in published:
        if not confirms.confirmed(item[1]):
            break
        out.append(item)
    return out
