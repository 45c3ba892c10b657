"""Readiness checks for the dependencies a service owns (database, broker, search, object store)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from kombu import Connection


def check_database(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def check_broker(amqp_uri: str) -> None:
    if amqp_uri.startswith("memory"):
        return
    with Connection(amqp_uri, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1)


def check_search(client: Any) -> None:
    client.info()


def check_object_store(client: Any, bucket: str) -> None:
    if not client.bucket_exists(bucket):
        raise RuntimeError(f"bucket {bucket} is missing")
