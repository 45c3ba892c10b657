"""A subscriber to gongyi's events written with plain kombu (no nameko, no gongyi imports).

What it shows (docs/consumers.md explains each step):
- bind your OWN durable queue to the producer's topic exchange ``<service>.events`` with the event
  types you want as routing keys (topic patterns: ``application.#`` = every
  application event; ``*`` matches one dot-separated word, ``#`` any number);
- take one message at a time (prefetch), acknowledge only after your change is committed;
- deduplicate on the CloudEvents ``id``: the id is recorded in the same transaction as the effect,
  so a redelivery or a replay changes nothing;
- refuse (dead-letter) a message that is not an event instead of looping on it.

Run:  python examples/consumer/consumer.py --amqp-uri amqp://guest:guest@localhost:5672/%2F \
          --exchange intake.events --queue my-team.applications --routing-key 'application.#'
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from typing import Any

from kombu import Connection, Consumer, Exchange, Queue


class EventStore:
    """The subscriber's own state: here a SQLite file with the events it applied, keyed by id."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS applied (id TEXT PRIMARY KEY, type TEXT, subject TEXT, time TEXT, data TEXT)"
        )
        self.db.commit()

    def apply(self, event: dict[str, Any]) -> bool:
        """Apply an event once: False if its id was applied before (a duplicate)."""
        try:
            with self.db:  # one transaction: the dedupe key and the effect commit together
                self.db.execute(
                    "INSERT INTO applied (id, type, subject, time, data) VALUES (?, ?, ?, ?, ?)",
                    (event["id"], event["type"], event["subject"], event["time"],
                     json.dumps(event["data"], ensure_ascii=False)),
                )
                # ... your own effect goes here, in the same transaction ...
            return True
        except sqlite3.IntegrityError:
            return False

    def applied(self) -> list[tuple[str, str, str]]:
        return self.db.execute("SELECT id, type, subject FROM applied ORDER BY rowid").fetchall()


def bind(conn: Connection, exchange_name: str, queue_name: str, routing_keys: list[str]) -> Queue:
    # the same arguments the platform declares the exchange with (a mismatch is refused by the broker)
    exchange = Exchange(exchange_name, type="topic", durable=True)
    queue = Queue(queue_name, exchange=exchange, routing_key=routing_keys[0], durable=True, auto_delete=False)
    bound = queue(conn.default_channel)
    bound.declare()
    for key in routing_keys[1:]:
        bound.bind_to(exchange=exchange, routing_key=key)
    return queue


def is_event(body: Any) -> bool:
    return isinstance(body, dict) and body.get("specversion") == "1.0" and all(
        isinstance(body.get(k), str) for k in ("id", "type", "subject", "time")) and isinstance(body.get("data"), dict)


def consume(amqp_uri: str, exchange: str, queue: str, routing_keys: list[str], store: EventStore,
            idle_timeout: float | None = None, max_messages: int | None = None) -> dict[str, int]:
    stats = {"received": 0, "applied": 0, "duplicates": 0, "refused": 0}

    def on_message(message) -> None:  # noqa: ANN001
        # the raw body: application/cloudevents+json is JSON, parsed here rather than by a kombu serializer
        stats["received"] += 1
        try:
            body = json.loads(message.body)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not is_event(body):
            stats["refused"] += 1
            message.reject(requeue=False)  # not an event: dead-letter it rather than retry forever
            return
        if store.apply(body):
            stats["applied"] += 1
            print(f"applied {body['type']} {body['subject']} ({body['id']})", flush=True)
        else:
            stats["duplicates"] += 1
        message.ack()  # only after the effect is committed

    with Connection(amqp_uri, heartbeat=30) as conn:
        q = bind(conn, exchange, queue, routing_keys)
        with Consumer(conn, queues=[q], on_message=on_message, prefetch_count=10):
            idle_since = time.monotonic()
            while max_messages is None or stats["received"] < max_messages:
                try:
                    conn.drain_events(timeout=0.5)
                    idle_since = time.monotonic()
                except TimeoutError:
                    if idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout:
                        break
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Subscribe to gongyi events with plain kombu")
    parser.add_argument("--amqp-uri", default=os.environ.get("GONGYI_AMQP_URI", "amqp://guest:guest@localhost//"))
    parser.add_argument("--exchange", default="intake.events", help="<service>.events")
    parser.add_argument("--queue", required=True, help="your own durable queue")
    parser.add_argument("--routing-key", action="append", dest="routing_keys",
                        help="event type or pattern (repeatable; default: every event)")
    parser.add_argument("--state", default="consumer-state.db", help="SQLite file of applied event ids")
    parser.add_argument("--idle-timeout", type=float, default=None, help="stop after this many idle seconds")
    parser.add_argument("--max-messages", type=int, default=None)
    args = parser.parse_args(argv)
    store = EventStore(args.state)
    stats = consume(args.amqp_uri, args.exchange, args.queue, args.routing_keys or ["#"], store,
                    args.idle_timeout, args.max_messages)
    print(json.dumps({"stats": stats, "applied": store.applied()}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
