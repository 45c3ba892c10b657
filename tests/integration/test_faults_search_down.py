"""Search engine down, then back: review keeps applying forwarded applications to SQL while its
osmem-server is stopped, answers 503 on search and readiness, and once a server is back on the
same port the index catches up; a rebuild from SQL then equals the live index (same ids, same
documents). Review runs on a database of its own here so the index must hold every project."""

from __future__ import annotations

import time
import uuid

import psycopg2
import pytest
import sqlalchemy as sa
from conftest import PG_DSN
from kombu import Connection
from platform_support import Client, free_port, running_services, tokens, wait_until
from test_faults_consumer_kill import forwarded_event

from gongyi.config import SERVICES
from gongyi.db import make_engine, migrate
from gongyi.events.envelope import CONTENT_TYPE, encode
from gongyi.events.relay import event_exchange
from gongyi.events.topology import declare_topology
from gongyi.registry import service_classes
from gongyi.runner import LocalServers
from gongyi.search import make_search_client
from services.review.handlers import rebuild_index
from services.review.storage.search_index import ProjectIndex
from services.review.storage.tables import projects


@pytest.fixture()
def own_review_db():
    name = f"gongyi_fault_search_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://") + f"/{name}"
    migrate("review", url)
    yield url
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def publish_all(amqp_uri: str, events: list[dict]) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        for e in events:
            producer.publish(encode(e), exchange=event_exchange("intake"), routing_key=e["type"],
                             content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2)


def live_documents(index: ProjectIndex) -> dict[str, dict]:
    index.refresh()
    hits = index.client.search(index=index.alias, query={"match_all": {}}, size=1000)["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def test_index_catches_up_after_the_search_engine_comes_back(settings, own_review_db):
    with Connection(settings.amqp_uri) as conn:
        declare_topology(conn.default_channel, list(SERVICES), service_classes())
    port = free_port()
    servers = LocalServers()
    url = servers.start_search(port)
    s = settings.with_overrides(search_url=url, search_index_prefix=f"fault{uuid.uuid4().hex[:6]}",
                                db_urls={**settings.db_urls, "review": own_review_db})
    index = ProjectIndex(make_search_client(url), s.search_index_prefix)
    engine = make_engine(own_review_db)

    # Only this test's own events are counted: review's queue may still hold events that earlier
    # tests published while no review was running, and this review applies those too.
    own: list[str] = []

    def in_sql() -> int:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).where(projects.c.application_id.in_(own))).scalar()

    def indexed() -> int:
        try:
            index.refresh()
            return index.client.count(index=index.alias, query={"ids": {"values": own}})["count"]
        except Exception:  # noqa: BLE001 - the alias may not exist yet
            return -1

    def events(n: int) -> list[dict]:
        ids = [str(uuid.uuid4()) for _ in range(n)]
        own.extend(ids)
        return [forwarded_event(i) for i in ids]

    before, during = 20, 30
    try:
        with running_services(s, "review") as urls:
            staff = Client(urls["review"], tokens(s)["staff"])
            publish_all(s.amqp_uri, events(before))
            wait_until(lambda: indexed() == before, timeout=30, message="the first projects indexed")

            servers.stop()  # the search engine goes down
            servers.procs.clear()
            down_at = time.monotonic()
            publish_all(s.amqp_uri, events(during))
            wait_until(lambda: in_sql() == before + during, timeout=30, message="SQL to keep applying")
            ready = staff.get("/api/review/readyz")
            search = staff.get("/api/review/search", params={"q": "断电"})
            assert ready.status_code == 503 and ready.json()["details"]["checks"]["search"].startswith("error")
            assert search.status_code == 503 and search.json()["code"] == "search_unavailable"

            servers.start_search(port)  # back, on the same port (osmem keeps nothing across restarts)
            back_at = time.monotonic()
            try:
                wait_until(lambda: indexed() == before + during, timeout=45, message="the index to catch up")
            except AssertionError as exc:
                raise AssertionError(f"{exc}: the index holds {indexed()} of {before + during} projects "
                                     "(a search engine that came back empty must be refilled from SQL)") from None
            caught_up = time.monotonic() - back_at
            assert staff.get("/api/review/readyz").status_code == 200
            live = live_documents(index)
        rebuilt_name = rebuild_index(engine, index)
        rebuilt = live_documents(index)
    finally:
        servers.stop()
        engine.dispose()
    with make_engine(own_review_db).connect() as conn:
        ids = set(conn.execute(sa.select(projects.c.application_id)).scalars())
    assert set(live) == set(rebuilt) == ids
    assert live == rebuilt, "the live index differs from a rebuild from SQL"
    print(f"\nsearch down {back_at - down_at:.1f} s; {during} forwarded meanwhile (SQL {before + during}); "
          f"index caught up {caught_up:.1f} s after restart; live == rebuild ({len(live)} docs, {rebuilt_name})")
