"""Fixtures that give each test run its own real servers' space.

nameko's pytest plugin monkeypatches eventlet before anything is imported. Each run gets its own
RabbitMQ vhost (with the dead-letter policy) and its own PostgreSQL databases, plus an
osmem-server (Elasticsearch API) and a moto S3 server on free ports; all are removed afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg2
import pytest
import requests
from platform_support import free_port

from gongyi.config import DATABASES, Settings, load_settings

RABBIT_MGMT = os.environ.get("GONGYI_TEST_RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
RABBIT_HOST = os.environ.get("GONGYI_TEST_RABBITMQ_HOST", "127.0.0.1:5672")
PG_DSN = os.environ.get("GONGYI_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_JWT_SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def vhost(run_id: str) -> Iterator[str]:
    name = f"gongyi-test-{run_id}"
    base = RABBIT_MGMT.rstrip("/")
    auth = ("guest", "guest")
    url = base.split("@")[-1] if "@" in base else base
    url = ("http://" + url) if not url.startswith("http") else url
    requests.put(f"{url}/api/vhosts/{quote(name, safe='')}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{url}/api/permissions/{quote(name, safe='')}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    yield name
    requests.delete(f"{url}/api/vhosts/{quote(name, safe='')}", auth=auth, timeout=30)


@pytest.fixture(scope="session")
def amqp_uri(vhost: str) -> str:
    return f"amqp://guest:guest@{RABBIT_HOST}/{quote(vhost, safe='')}"


@pytest.fixture(scope="session")
def db_urls(run_id: str) -> Iterator[dict[str, str]]:
    names = {s: f"gongyi_{run_id}_{s}" for s in DATABASES}
    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in names.values():
            cur.execute(f'CREATE DATABASE "{name}"')
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://")
    yield {s: f"{base}/{n}" for s, n in names.items()}
    with conn.cursor() as cur:
        for name in names.values():
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(scope="session")
def local_servers() -> Iterator[dict[str, str]]:
    from gongyi.runner import LocalServers

    servers = LocalServers()
    try:
        yield {"search": servers.start_search(free_port()), "s3": servers.start_s3(free_port())}
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def settings(amqp_uri: str, db_urls: dict[str, str], local_servers: dict[str, str], run_id: str) -> Settings:
    from gongyi.events.topology import set_dead_letter_policy
    from gongyi.runner import prepare

    base = load_settings({})
    s = base.with_overrides(
        mode="server",
        amqp_uri=amqp_uri,
        rabbitmq_management_url=RABBIT_MGMT,
        db_urls=db_urls,
        search_url=local_servers["search"],
        search_index_prefix=f"t{run_id}",
        s3_endpoint=local_servers["s3"],
        s3_quarantine_bucket=f"q-{run_id}",
        s3_evidence_bucket=f"e-{run_id}",
        jwt_secret=TEST_JWT_SECRET,
        jwt_key_id="test",
        dead_letter_after=3,
    )
    s.check()
    prepare(s)
    set_dead_letter_policy(RABBIT_MGMT, amqp_uri)
    return s
