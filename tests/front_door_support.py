"""An embedded-like front door for tests: all four services in their own containers, behind
``gongyi.router`` served by eventlet's wsgi server exactly as ``gongyi run`` serves it."""

from __future__ import annotations

import os
import socket
import uuid
from contextlib import contextmanager
from urllib.parse import quote, urlsplit

import eventlet
import eventlet.wsgi
import sqlalchemy as sa
from platform_support import running_services

from gongyi.config import Settings
from gongyi.db import make_engine

SERVICES = ("intake", "media", "review", "publish")
# the same servers as tests/conftest.py (not imported: "conftest" names several modules in a run)
RABBIT_MGMT = os.environ.get("GONGYI_TEST_RABBITMQ_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
RABBIT_HOST = os.environ.get("GONGYI_TEST_RABBITMQ_HOST", "127.0.0.1:5672")
PG_DSN = os.environ.get("GONGYI_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def isolated(settings: Settings):
    """Settings with their own RabbitMQ vhost, databases, index prefix and buckets: what an outsider's
    probes (schemathesis creates experts, calls, applications) store never reaches another test's
    world, neither through a table nor through an event left in a shared queue."""
    import psycopg2
    import requests

    from gongyi.events.topology import set_dead_letter_policy
    from gongyi.runner import prepare

    tag = uuid.uuid4().hex[:8]
    vhost = f"gongyi-test-fd-{tag}"
    mgmt = RABBIT_MGMT.rstrip("/").split("@")[-1]
    mgmt = mgmt if mgmt.startswith("http") else "http://" + mgmt
    auth = ("guest", "guest")
    requests.put(f"{mgmt}/api/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{mgmt}/api/permissions/{quote(vhost, safe='')}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    names = {s: f"gongyi_fd_{tag}_{s}" for s in SERVICES}
    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name in names.values():
                cur.execute(f'CREATE DATABASE "{name}"')
        base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://")
        amqp = f"amqp://guest:guest@{RABBIT_HOST}/{quote(vhost, safe='')}"
        own = settings.with_overrides(
            amqp_uri=amqp, db_urls={s: f"{base}/{n}" for s, n in names.items()}, search_index_prefix=f"fd{tag}",
            s3_quarantine_bucket=f"q-fd-{tag}", s3_evidence_bucket=f"e-fd-{tag}",
        )
        prepare(own)
        set_dead_letter_policy(RABBIT_MGMT, amqp)
        yield own
    finally:
        with conn.cursor() as cur:
            for name in names.values():
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
        requests.delete(f"{mgmt}/api/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=30)


@contextmanager
def front_door(settings: Settings, body_limits: dict[str, int] | None = None,
               trusted_proxies: str = "127.0.0.0/8,::1/128"):
    """Yields the router's base URL (and the services' own URLs as ``.services``)."""
    from gongyi.router import JsonErrorProtocol, make_router

    with running_services(settings, *SERVICES) as urls:
        backends = {name: (urlsplit(u).hostname, urlsplit(u).port) for name, u in urls.items()}
        listener = eventlet.listen(("127.0.0.1", 0))
        app = make_router(backends, body_limits, trusted_proxies=trusted_proxies)
        server = eventlet.spawn(eventlet.wsgi.server, listener, app, log_output=False, debug=False,
                                protocol=JsonErrorProtocol)
        try:
            yield FrontDoor(f"http://127.0.0.1:{listener.getsockname()[1]}", urls)
        finally:
            server.kill()
            listener.close()


class FrontDoor(str):
    services: dict[str, str]

    def __new__(cls, base: str, services: dict[str, str]) -> FrontDoor:
        obj = super().__new__(cls, base)
        obj.services = services
        return obj

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self)
        return parts.hostname, parts.port


def raw_request(address: tuple[str, int], data: bytes, timeout: float = 30.0) -> tuple[int, dict, bytes]:
    """Send bytes as they are (no client library cleans them up); read one response."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock)


def read_response(sock: socket.socket) -> tuple[int, dict, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "content-length" in headers:
        need = int(headers["content-length"])
        while len(rest) < need:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, headers, rest[:need]
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += sock.recv(65536)
            body, rest = body + rest[:size], rest[size + 2:]
            if size == 0:
                return status, headers, body
    return status, headers, rest


class StoredState:
    """Row counts of every table of every service: a refused request must change none."""

    def __init__(self, settings: Settings) -> None:
        self.engines = {s: make_engine(settings.db_url(s)) for s in SERVICES}

    def snapshot(self) -> dict[str, int]:
        counts = {}
        for service, engine in self.engines.items():
            meta = sa.MetaData()
            meta.reflect(engine)
            with engine.connect() as conn:
                for name, table in meta.tables.items():
                    if name == "alembic_version":
                        continue
                    counts[f"{service}.{name}"] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
        return counts

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
