"""A consumer killed with SIGKILL mid-batch: review runs as its own process (`gongyi serve review`), 500
forwarded applications are published, the process is killed while it works through them and
started again; every application is applied exactly once (nothing lost, nothing counted twice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import requests
import sqlalchemy as sa
from kombu import Connection
from platform_support import REPO, free_port, sample_form, wait_until

from gongyi.config import SERVICES, Settings
from gongyi.db import inbox_t, make_engine
from gongyi.events.envelope import CONTENT_TYPE, encode, make_event, validate_event
from gongyi.events.relay import event_exchange
from gongyi.events.topology import declare_topology, management_base
from gongyi.registry import service_classes
from services.review.storage.tables import projects

TOTAL = 500
QUEUE = "evt-intake-application.forwarded.v1--review.on_application_forwarded"


def settings_env(settings: Settings, port: int) -> dict[str, str]:
    """The environment a `gongyi serve` process needs to run against the test's servers."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
        "GONGYI_MODE": settings.mode, "GONGYI_AMQP_URI": settings.amqp_uri,
        "GONGYI_RABBITMQ_MANAGEMENT_URL": settings.rabbitmq_management_url,
        "GONGYI_SEARCH_URL": settings.search_url, "GONGYI_SEARCH_INDEX_PREFIX": settings.search_index_prefix,
        "GONGYI_S3_ENDPOINT": settings.s3_endpoint, "GONGYI_S3_ACCESS_KEY": settings.s3_access_key,
        "GONGYI_S3_SECRET_KEY": settings.s3_secret_key, "GONGYI_S3_QUARANTINE_BUCKET": settings.s3_quarantine_bucket,
        "GONGYI_S3_EVIDENCE_BUCKET": settings.s3_evidence_bucket, "GONGYI_JWT_SECRET": settings.jwt_secret,
        "GONGYI_JWT_KEY_ID": settings.jwt_key_id, "GONGYI_HTTP_PORT": str(port),
        "GONGYI_DEAD_LETTER_AFTER": str(settings.dead_letter_after), "GONGYI_LOG_LEVEL": "WARNING",
    }
    for service in SERVICES:
        env[f"GONGYI_{service.upper()}_DB_URL"] = settings.db_url(service)
    return env


def forwarded_event(app_id: str) -> dict:
    form = sample_form(f"断电测试项目{uuid.uuid4().hex}")
    event = make_event(source_service="intake", type="application.forwarded.v1", subject=f"application/{app_id}",
                       data={"application_id": app_id, "call_id": "2024-national", "call_version": 1,
                             "state": "forwarded", "unit_code": "cac-beijing", "project_name": form["project_name"],
                             "category": "education", "applicant_name": form["applicant"]["name"],
                             "applicant_type": "social_organisation", "batch_id": str(uuid.uuid4()),
                             "unit_opinion": "同意", "submitted_at": "2024-02-01T10:00:00+08:00",
                             "forwarded_at": "2024-02-02T10:00:00+08:00", "form": form})
    validate_event(event)
    return event


def start_review(settings: Settings, log_path) -> subprocess.Popen:  # noqa: ANN001
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "gongyi.cli", "serve", "review"], cwd=REPO,
                            env=settings_env(settings, free_port()), stdout=log, stderr=subprocess.STDOUT)


def queue_depth(settings: Settings) -> tuple[int, int]:
    base, vhost, auth = management_base(settings.rabbitmq_management_url, settings.amqp_uri)
    info = requests.get(f"{base}/api/queues/{quote(vhost, safe='')}/{quote(QUEUE, safe='')}", auth=auth,
                        timeout=5).json()
    return info.get("messages", -1), info.get("messages_unacknowledged", -1)


def test_sigkill_mid_batch_loses_nothing_and_applies_nothing_twice(settings, tmp_path):
    with Connection(settings.amqp_uri) as conn:
        declare_topology(conn.default_channel, list(SERVICES), service_classes())
    events = [forwarded_event(str(uuid.uuid4())) for _ in range(TOTAL)]
    ids = [e["data"]["application_id"] for e in events]
    with Connection(settings.amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        for e in events:
            producer.publish(encode(e), exchange=event_exchange("intake"), routing_key=e["type"],
                             content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2)
    engine = make_engine(settings.db_url("review"))

    def applied() -> int:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(projects).where(
                projects.c.application_id.in_(ids))).scalar()

    log = tmp_path / "review.log"
    started = time.monotonic()
    proc = start_review(settings, log)
    try:
        wait_until(lambda: applied() >= 40, timeout=60, interval=0.01, message="review to start applying")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        at_kill = applied()
        assert at_kill < TOTAL, "the batch finished before the kill: nothing was tested"
        proc = start_review(settings, log)
        wait_until(lambda: applied() == TOTAL, timeout=120, interval=0.2, message="every application applied")
        wait_until(lambda: queue_depth(settings) == (0, 0), timeout=30, message="the queue to drain")
        elapsed = time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    with engine.connect() as conn:
        versions = conn.execute(sa.select(projects.c.version, sa.func.count()).where(
            projects.c.application_id.in_(ids)).group_by(projects.c.version)).all()
        inbox = conn.execute(sa.select(sa.func.count()).select_from(inbox_t).where(
            inbox_t.c.handler == "review.record_forwarded",
            inbox_t.c.event_id.in_([e["id"] for e in events]))).scalar()
    engine.dispose()
    assert dict(versions) == {1: TOTAL}, f"some application applied twice: {versions}"
    assert inbox == TOTAL
    print(f"\nSIGKILL after {at_kill}/{TOTAL} applied; after restart {applied_total(versions)} projects, "
          f"{inbox} inbox rows, every version 1; {elapsed:.1f} s")


def applied_total(versions) -> int:  # noqa: ANN001
    return sum(n for _, n in versions)
