"""The ranked review queue over the real broker, PostgreSQL and osmem-server.

Real projects' records (bench/data/dedupe/realworld: two reporters' descriptions of 免费午餐, the
same founder's other project 大病医保, and unrelated background) arrive as intake's
``application.forwarded.v1``. Staff then ask ``GET /api/review/duplicates/similar/{id}``: the other
免费午餐 record comes first, flagged, with its reasons; the founder's other project is listed
BELOW the flag threshold (a near-miss to look at, not a suspicion); the answer follows the
committed OpenAPI contract; an unknown project is a 404 with a bilingual refusal.
"""

from __future__ import annotations

import json
import uuid

import jsonschema
import sqlalchemy as sa
from kombu import Connection
from platform_support import REPO, Client, running_services, tokens, wait_until

from gongyi.db import make_engine
from gongyi.events.envelope import CONTENT_TYPE, encode, make_event
from gongyi.events.relay import event_exchange
from services.review.storage.duplicates.tables import dup_signals

REAL = [json.loads(x) for x in (REPO / "bench" / "data" / "dedupe" / "realworld" / "records.jsonl")
        .read_text(encoding="utf-8").splitlines()]
BY_ID = {r["id"]: r for r in REAL}
LUNCH = ("rw-0002", "rw-0003")  # 免费午餐基金 / “免费午餐”公益项目, two outlets
INSURANCE = [r["id"] for r in REAL if r["group"] == "dabing-yibao"]  # 邓飞's other project, five outlets
BACKGROUND = [r["id"] for r in REAL if r["group"] not in {"free-lunch", "dabing-yibao"}][:12]
CONTRACT = json.loads((REPO / "contracts" / "openapi" / "review.json").read_text(encoding="utf-8"))


def _schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}", "components": CONTRACT["components"]}


def _forwarded(record: dict, app_id: str) -> dict:
    applicant = {"name": record["org_name"]} if record["org_name"] else {}
    form = {"project_name": record["project_name"], "applicant": applicant, "summary": record["summary"],
            "unit_code": "cac-beijing"}
    return make_event(
        source_service="intake", type="application.forwarded.v1", subject=f"application/{app_id}",
        data={"application_id": app_id, "call_id": "queue-test", "call_version": 1, "state": "forwarded",
              "unit_code": "cac-beijing", "project_name": record["project_name"], "category": "其他",
              "applicant_name": record["org_name"] or None, "applicant_type": "social_organisation",
              "batch_id": str(uuid.uuid4()), "unit_opinion": "同意", "submitted_at": "2024-02-01T10:00:00+08:00",
              "forwarded_at": "2024-02-02T10:00:00+08:00", "form": form})


def test_review_queue_ranks_similar_projects_with_reasons_below_the_threshold_too(settings):
    ids = {rid: f"q-{rid}-{uuid.uuid4().hex[:6]}" for rid in (*LUNCH, *INSURANCE, *BACKGROUND)}
    engine = make_engine(settings.db_url("review"))
    staff_token = tokens(settings)["staff"]
    with running_services(settings, "review") as urls, \
            Connection(settings.amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        for rid, app_id in ids.items():
            producer.publish(encode(_forwarded(BY_ID[rid], app_id)), exchange=event_exchange("intake"),
                             routing_key="application.forwarded.v1", content_type=CONTENT_TYPE,
                             content_encoding="utf-8", delivery_mode=2, declare=[event_exchange("intake")])

        def checked() -> bool:
            with engine.connect() as c:
                rows = c.execute(sa.select(dup_signals.c.version, dup_signals.c.checked_version)
                                 .where(dup_signals.c.application_id.in_(list(ids.values())))).all()
            return len(rows) == len(ids) and all(r.checked_version >= r.version for r in rows)

        wait_until(checked, timeout=60, message="every application indexed and checked")
        staff = Client(urls["review"], staff_token)
        r = staff.get(f"/api/review/duplicates/similar/{ids[LUNCH[0]]}", params={"top_n": 10})
        assert r.status_code == 200, r.text
        body = r.json()
        jsonschema.validate(body, _schema("DuplicateQueue"))
        assert body["application"]["project_name"] == BY_ID[LUNCH[0]]["project_name"]
        items = body["items"]
        assert items and [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
        first = items[0]
        assert first["application_id"] == ids[LUNCH[1]] and first["flagged"] is True
        assert first["score"] >= body["flag_threshold"] and first["reasons"]
        assert first["suspicion_id"] and first["suspicion_status"] == "open"  # the background check flagged it too
        assert any(r["code"] == "same_entities" and "邓飞" in r["message_zh"] for r in first["reasons"])
        by_app = {i["application_id"]: i for i in items}
        near = [by_app[ids[x]] for x in INSURANCE if ids[x] in by_app]
        assert near and all(n["flagged"] is False and n["suspicion_id"] is None for n in near)
        assert all(0 < n["score"] < body["flag_threshold"] and n["reasons"] for n in near)  # why, in words
        assert {s["suspicion_id"] for s in body["suspicions"]} >= {first["suspicion_id"]}
        assert all(i["application_id"] in set(ids.values()) or not i["application_id"].startswith("q-")
                   for i in items)
        assert len(staff.get(f"/api/review/duplicates/similar/{ids[LUNCH[0]]}",
                             params={"top_n": 1}).json()["items"]) == 1

        missing = staff.get(f"/api/review/duplicates/similar/{uuid.uuid4()}")
        assert missing.status_code == 404
        err = missing.json()
        jsonschema.validate(err, _schema("Error"))
        assert err["code"] == "project_not_found" and err["message_zh"] and err["message_en"]
        assert staff.get(f"/api/review/duplicates/similar/{ids[LUNCH[0]]}", params={"top_n": 0}).status_code == 422
        assert Client(urls["review"], tokens(settings)["applicant"]).get(
            f"/api/review/duplicates/similar/{ids[LUNCH[0]]}").status_code == 403
