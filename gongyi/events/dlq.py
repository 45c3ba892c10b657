"""The dead-letter queue: look at what failed, and send it back once the cause is fixed.

Subscriber queues dead-letter to ``gongyi.dead-letters`` (a broker policy, `gongyi broker setup`);
the broker records where each message came from in its ``x-death`` header. Listing takes every
message without acknowledging it and then returns them all, so a look loses nothing. Replay
publishes a message straight to its original queue (default exchange, broker confirms) and only
then removes it from the dead letters; the subscriber's inbox absorbs a duplicate if a crash falls
in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Exchange, Producer, Queue

from gongyi.events.replay import queue_exists
from gongyi.events.topology import DEAD_LETTER_QUEUE

_STRIPPED_HEADERS = ("x-death", "x-first-death-queue", "x-first-death-reason", "x-first-death-exchange",
                     "x-last-death-queue", "x-last-death-reason", "x-last-death-exchange")


@dataclass(frozen=True)
class DeadLetter:
    id: str | None
    type: str | None
    queue: str | None
    reason: str | None
    count: int
    died_at: str | None
    size: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _headers(message: Any) -> dict[str, Any]:
    return dict(message.headers or {})


def describe(message: Any) -> DeadLetter:
    """What a dead letter is and where it came from (its body may not even be JSON)."""
    headers = _headers(message)
    raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
    body = body if isinstance(body, dict) else {}
    deaths = headers.get("x-death") or []
    first = deaths[0] if deaths else {}
    queue = headers.get("x-first-death-queue") or first.get("queue") or headers.get("x-gongyi-queue")
    reason = headers.get("x-gongyi-error") or headers.get("x-first-death-reason") or first.get("reason")
    died = first.get("time")
    return DeadLetter(
        id=body.get("id") or message.properties.get("message_id"),
        type=body.get("type") or headers.get("ce-type"),
        queue=_text(queue),
        reason=_text(reason),
        count=int(sum(int(d.get("count", 1)) for d in deaths)) if deaths else 1,
        died_at=died.isoformat() if hasattr(died, "isoformat") else _text(died),
        size=len(raw),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class NoDeadLetterQueue(RuntimeError):
    """The dead-letter queue is not declared: `gongyi broker setup` has not run on this vhost."""


def _take_all(conn: Connection, queue: str, limit: int | None) -> tuple[Any, list[Any]]:
    """Every message in the queue, held unacknowledged on one channel (so none is seen twice)."""
    if not queue_exists(conn, queue):
        raise NoDeadLetterQueue(f"queue {queue} does not exist; run `gongyi broker setup`")
    channel = conn.channel()
    channel.basic_qos(0, 0, False)
    q = Queue(queue, no_declare=True)(channel)
    _, count, _ = channel.queue_declare(queue=queue, passive=True)
    taken: list[Any] = []
    while len(taken) < count and (limit is None or len(taken) < limit):
        message = q.get(no_ack=False)
        if message is None:
            break
        taken.append(message)
    return channel, taken


def list_dead_letters(amqp_uri: str, queue: str = DEAD_LETTER_QUEUE, limit: int | None = None) -> list[DeadLetter]:
    """Peek: every dead letter is taken, described and returned to the queue."""
    with Connection(amqp_uri) as conn:
        channel, taken = _take_all(conn, queue, limit)
        try:
            return [describe(m) for m in taken]
        finally:
            for message in taken:
                message.reject(requeue=True)
            channel.close()


@dataclass
class ReplayOutcome:
    replayed: list[DeadLetter]
    skipped: list[tuple[DeadLetter, str]]


def replay_dead_letters(
    amqp_uri: str,
    select: Callable[[DeadLetter], bool] | Iterable[str] | None = None,
    queue: str = DEAD_LETTER_QUEUE,
) -> ReplayOutcome:
    """Republish chosen dead letters (ids, a predicate, or all when None) to their original queues."""
    if select is None:
        chosen: Callable[[DeadLetter], bool] = lambda _d: True  # noqa: E731
    elif callable(select):
        chosen = select
    else:
        ids = set(select)
        chosen = lambda d: d.id in ids  # noqa: E731
    outcome = ReplayOutcome([], [])
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        channel, taken = _take_all(conn, queue, None)
        producer = Producer(conn.channel(), exchange=Exchange(""))
        known: dict[str, bool] = {}
        try:
            for message in taken:
                info = describe(message)
                if not chosen(info):
                    message.reject(requeue=True)
                    continue
                if not info.queue:
                    outcome.skipped.append((info, "no original queue recorded"))
                    message.reject(requeue=True)
                    continue
                if info.queue not in known:
                    known[info.queue] = queue_exists(conn, info.queue)
                if not known[info.queue]:
                    outcome.skipped.append((info, f"queue {info.queue} does not exist"))
                    message.reject(requeue=True)
                    continue
                headers = {k: v for k, v in _headers(message).items() if k not in _STRIPPED_HEADERS}
                headers["x-gongyi-dlq-replayed"] = info.count
                producer.publish(
                    message.body,
                    routing_key=info.queue,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    delivery_mode=2,
                    message_id=message.properties.get("message_id"),
                    headers=headers,
                    retry=False,
                )
                message.ack()  # only after the broker confirmed the republish
                outcome.replayed.append(info)
        finally:
            channel.close()  # anything still unacknowledged goes back to the dead letters
    return outcome
