"""Fault: the broker is stopped for 30 s in the middle of a load of 2,000 applications.

Nothing accepted is lost and nothing is doubled: in intake's outbox, in review's database and in
the search index. Prints its figures.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from platform_support import Client, load_open_call, running_services, sample_form, tokens, wait_until

from gongyi.db import inbox_t, make_engine, outbox_t
from gongyi.search import make_search_client
from services.review.storage.tables import projects

TOTAL = 2000
PLACES = ["郑州", "洛阳", "开封", "成都", "绵阳", "杭州", "宁波", "兰州", "昆明", "武汉", "济南", "南京", "广州"]
THEMES = ["留守儿童", "助残", "养老", "应急救援", "非遗", "乡村电商", "心理援助", "环保", "助学", "医疗救助"]
ACTIONS = ["直播课堂", "志愿者平台", "公益小程序", "短视频宣传", "线上募捐", "数字档案", "云端培训"]


def distinct_form(i: int, marker: str, unit_code: str) -> dict:
    """A different organisation and project per application, as in a real call (not 2,000 copies)."""
    import random

    from services.intake.domain.uscc import check_char, org_check_char

    rng = random.Random(i)
    body = f"{i:08d}"
    first17 = "53410000" + body + org_check_char(body)
    place, theme, action = rng.choice(PLACES), rng.choice(THEMES), rng.choice(ACTIONS)
    form = sample_form(f"{place}{theme}{action}{marker}{i}", unit=unit_code, credit_code=first17 + check_char(first17))
    form["applicant"]["name"] = f"{place}市第{i}公益服务中心"
    form["summary"] = f"{place}{theme}{action}项目，第{i}号，服务{rng.randint(100, 90000)}人次。"
    form["implementation_results"] = f"自{2015 + i % 7}年起在{place}开展{theme}服务{rng.randint(10, 900)}场。"
    return form
OUTAGE_S = 30
BATCH = 50


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=180)


@pytest.mark.timeout(600)
def test_broker_stopped_30s_during_2000_applications_loses_and_doubles_nothing(settings):
    load_open_call(settings)
    unit_code = "cac-tianjin"  # its own unit: 2,000 applications must not crowd other tests' unit queues
    tok = tokens(settings, unit=unit_code)
    marker = uuid.uuid4().hex[:6]
    forwarded: list[str] = []
    lock = threading.Lock()
    outage: dict[str, float] = {}

    with running_services(settings, "intake", "review") as urls:
        unit = Client(urls["intake"], tok["unit"])

        def produce(worker: int) -> None:
            applicant = Client(urls["intake"], tokens(settings)["applicant"])
            ready = []
            for i in range(worker, TOTAL, 8):
                form = distinct_form(i, marker, unit_code)
                r = applicant.post("/api/intake/applications", json={"call_id": "2024-national", "form": form})
                assert r.status_code == 201, r.text
                app_id = r.json()["id"]
                assert applicant.post(f"/api/intake/applications/{app_id}/submit").status_code == 200
                assert unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意"}).ok
                ready.append(app_id)
                if len(ready) == BATCH or i + 8 >= TOTAL:
                    r = unit.post("/api/intake/batches",
                                  json={"application_ids": ready, "idempotency_key": uuid.uuid4().hex})
                    assert r.status_code == 201, r.text
                    with lock:
                        forwarded.extend(ready)
                    ready = []

        def break_broker() -> None:
            wait_until(lambda: len(forwarded) >= 300, timeout=300, message="load to start")
            outage["start"] = time.monotonic()
            outage["forwarded_before"] = len(forwarded)
            rabbitmqctl("stop_app")
            time.sleep(OUTAGE_S)
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
            outage["end"] = time.monotonic()
            outage["forwarded_during"] = len(forwarded) - outage["forwarded_before"]

        started = time.monotonic()
        breaker = threading.Thread(target=break_broker)
        breaker.start()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(produce, range(8)))
        breaker.join()
        load_s = time.monotonic() - started
        assert len(forwarded) == TOTAL and len(set(forwarded)) == TOTAL

        review_db = make_engine(settings.db_url("review"))

        def review_has_all() -> bool:
            with review_db.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(projects).where(
                    projects.c.application_id.in_(forwarded))).scalar() == TOTAL

        wait_until(review_has_all, timeout=240, interval=1, message="review to receive every application")
        es = make_search_client(settings.search_url)
        alias = f"{settings.search_index_prefix}-projects"

        def indexed() -> bool:
            es.indices.refresh(index=alias)
            return es.count(index=alias, query={"ids": {"values": forwarded}})["count"] == TOTAL

        wait_until(indexed, timeout=120, interval=1, message="the index to catch up")
        caught_up_s = time.monotonic() - outage["end"]

    intake_db = make_engine(settings.db_url("intake"))
    with intake_db.connect() as conn:
        events = conn.execute(sa.select(outbox_t.c.subject, sa.func.count(), sa.func.max(outbox_t.c.attempts))
                              .where(outbox_t.c.type == "application.forwarded.v1",
                                     outbox_t.c.subject.in_([f"application/{a}" for a in forwarded]))
                              .group_by(outbox_t.c.subject)).all()
        unsent = conn.execute(sa.select(sa.func.count()).select_from(outbox_t).where(
            outbox_t.c.sent_at.is_(None))).scalar()
    with review_db.connect() as conn:
        versions = conn.execute(sa.select(sa.func.max(projects.c.version)).where(
            projects.c.application_id.in_(forwarded))).scalar()
        applied = conn.execute(sa.select(sa.func.count()).select_from(inbox_t).where(
            inbox_t.c.handler == "review.record_forwarded")).scalar()
    intake_db.dispose()
    review_db.dispose()

    assert len(events) == TOTAL and all(n == 1 for _, n, _ in events), "one forwarded event per application"
    assert unsent == 0
    assert versions == 1, "no application applied twice in review"
    assert applied >= TOTAL
    failures = sum(attempts or 0 for *_, attempts in events)
    print(f"\nbroker outage: {outage['end'] - outage['start']:.1f} s; load of {TOTAL} applications took {load_s:.1f} s;"
          f" {outage['forwarded_during']} forwarded while the broker was down; relay send failures recorded:"
          f" {failures}; review and index complete {caught_up_s:.1f} s after the broker returned; lost 0, doubled 0")
