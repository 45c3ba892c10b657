"""Duplicate detection over the real broker, PostgreSQL and osmem-server.

Pairs of applications from the evaluation set (bench/data/dedupe) arrive as intake's
``application.forwarded.v1`` and media's ``evidence.stored.v1`` (some evidence before the form,
some after); the review service must flag each true pair with the right reasons (organisation
identity, name, text, identical files, near-identical photos, media link, cross-call), leave a
look-alike pair (same organisation, different project) alone, and let staff settle over HTTP.
"""

from __future__ import annotations

import json
import uuid
from itertools import combinations

import sqlalchemy as sa
from kombu import Connection, Consumer, Queue
from platform_support import REPO, Client, running_services, tokens, wait_until

from gongyi.db import make_engine, outbox_t
from gongyi.events.envelope import CONTENT_TYPE, encode, make_event
from gongyi.events.relay import event_exchange
from services.review.domain.duplicates import compute_signals, score_pair
from services.review.domain.duplicates.evidence import phash_band_keys
from services.review.domain.duplicates.intake_form import application_source, evidence_items
from services.review.storage.duplicates.tables import dup_signals

EVAL = json.loads((REPO / "bench" / "data" / "dedupe" / "eval_set.json").read_text(encoding="utf-8"))
RECORDS = {r["id"]: r for r in EVAL["records"]}
# text + media link + credit code + name | identical files + near photos + org name | another call
PAIRS = {"text_link": ("APP0195", "APP0082"), "photos": ("APP0271", "APP0104"), "cross_call": ("APP0224", "APP0446")}
LOOKALIKE = ("APP0615", "APP0099")  # labelled: same organisation, different project


def publish(amqp_uri: str, event: dict, source: str = "intake") -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(encode(event), exchange=event_exchange(source), routing_key=event["type"],
                                content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2,
                                declare=[event_exchange(source)])


def drain(amqp_uri: str, queue: str, timeout: float = 1.0) -> list[dict]:
    got: list[dict] = []
    with Connection(amqp_uri) as conn:

        def on_message(body, message):  # noqa: ANN001, ANN202
            got.append(body)
            message.ack()

        with Consumer(conn, queues=[Queue(queue, no_declare=True)], callbacks=[on_message],
                      accept=["json", "cloudevents"]):
            try:
                while True:
                    conn.drain_events(timeout=timeout)
            except TimeoutError:
                pass
    return got


def _events(record: dict, app_id: str) -> tuple[dict, list[dict]]:
    """(forwarded event, evidence events) for one evaluation record."""
    evidence, image_ids, reports = [], [], []
    for e in record["evidence"]:
        eid = str(uuid.uuid4())
        if e["kind"] == "image":
            image_ids.append(eid)
            data = {"kind": "image", "mime": "image/jpeg", "sha256": e["sha256"], "phash": e["phash"],
                    "phash_bands": phash_band_keys(e["phash"]), "width": 1280, "height": 720, "normalised_link": None}
        else:  # a media report: its link as media normalised it, plus the url in the form
            reports.append({"title": "报道", "outlet": "人民网", "url": e["url"], "screenshot_evidence_id": eid})
            data = {"kind": "media_report", "mime": None, "sha256": None, "phash": None, "phash_bands": [],
                    "width": None, "height": None, "normalised_link": e["url"].split("://", 1)[-1]}
        data.update(evidence_id=eid, owner_sub="applicant-x", size=1000, duration_s=None, outlet=None, title=None,
                    published_on=None, warnings=[], stored_at="2024-02-01T10:00:00+00:00")
        evidence.append(make_event(source_service="media", type="evidence.stored.v1", subject=f"evidence/{eid}",
                                   data=data))
    form = {"project_name": record["project_name"], "category": record["category"],
            "applicant": {k: v for k, v in {"name": record["org_name"], "type": "social_organisation",
                                            "credit_code": record["credit_code"],
                                            "province": record["province"]}.items() if v},
            "summary": record["narrative"], "media_reports": reports, "image_evidence_ids": image_ids,
            "video_evidence_ids": [], "unit_code": record["unit_code"]}
    forwarded = make_event(
        source_service="intake", type="application.forwarded.v1", subject=f"application/{app_id}",
        data={"application_id": app_id, "call_id": record["call_id"], "call_version": 1, "state": "forwarded",
              "unit_code": record["unit_code"], "project_name": record["project_name"],
              "category": record["category"], "applicant_name": record["org_name"],
              "applicant_type": "social_organisation", "batch_id": str(uuid.uuid4()), "unit_opinion": "同意",
              "submitted_at": "2024-02-01T10:00:00+08:00", "forwarded_at": "2024-02-02T10:00:00+08:00",
              "form": form})
    return forwarded, evidence


def _expected_codes(a: dict, b: dict) -> set[str]:
    """What the detector says about the pair offline (same adapter, no service)."""

    def sig(r: dict):  # noqa: ANN202
        src = application_source({"application_id": r["id"], "call_id": r["call_id"], "unit_code": r["unit_code"],
                                  "project_name": r["project_name"],
                                  "form": {"applicant": {"name": r["org_name"], "credit_code": r["credit_code"]},
                                           "summary": r["narrative"],
                                           "media_reports": [{"url": e["url"]} for e in r["evidence"]
                                                             if e["kind"] == "media_report"]}})
        return compute_signals(src, evidence_items(src, [dict(e) for e in r["evidence"] if e["kind"] == "image"]))

    s = score_pair(sig(a), sig(b))
    return {r.code for r in s.reasons} if s else set()


def _suspected(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_t.c.body).where(outbox_t.c.type == "duplicate.suspected.v1")
                            .order_by(outbox_t.c.id)).all()
    return [json.loads(r.body) for r in rows]


def _all_checked(engine: sa.Engine, ids: list[str]) -> bool:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(dup_signals.c.version, dup_signals.c.checked_version)
                            .where(dup_signals.c.application_id.in_(ids))).all()
    return len(rows) == len(ids) and all(r.checked_version >= r.version for r in rows)


def test_duplicates_flagged_explained_and_settled(settings):
    ids = {rid: str(uuid.uuid4()) for pair in [*PAIRS.values(), LOOKALIKE] for rid in pair}
    events = {rid: _events(RECORDS[rid], app_id) for rid, app_id in ids.items()}
    watch = f"test-dup-{uuid.uuid4().hex[:6]}"
    with Connection(settings.amqp_uri) as conn:
        for rk in ("duplicate.suspected.v1", "duplicate.settled.v1"):
            queue = Queue(watch, exchange=event_exchange("review"), routing_key=rk, durable=True)
            queue(conn.default_channel).declare()
    engine = make_engine(settings.db_url("review"))
    tok = tokens(settings)
    try:
        with running_services(settings, "review") as urls:
            # the photo pair's evidence arrives before its forms, everyone else's after
            early = set(PAIRS["photos"])
            for rid in early:
                for ev in events[rid][1]:
                    publish(settings.amqp_uri, ev, source="media")
            for rid in ids:
                publish(settings.amqp_uri, events[rid][0])
            for rid in set(ids) - early:
                for ev in events[rid][1]:
                    publish(settings.amqp_uri, ev, source="media")

            expected = {frozenset((ids[a], ids[b])): _expected_codes(RECORDS[a], RECORDS[b]) for a, b in PAIRS.values()}

            def flagged() -> dict:
                # the latest event per pair: evidence arriving after a form updates the suspicion
                by_pair = {frozenset(e["data"]["application_ids"]): e for e in _suspected(engine)}
                done = all({r["code"] for r in by_pair.get(p, {"data": {"reasons": []}})["data"]["reasons"]} == codes
                           for p, codes in expected.items())
                return by_pair if done else {}

            by_pair = wait_until(flagged, timeout=40, message="duplicate.suspected.v1 for every true pair")
            wait_until(lambda: _all_checked(engine, list(ids.values())), timeout=20, message="all checks done")
            by_pair = flagged()

            for name, (a, b) in PAIRS.items():
                data = by_pair[frozenset((ids[a], ids[b]))]["data"]
                codes = {r["code"] for r in data["reasons"]}
                assert codes == _expected_codes(RECORDS[a], RECORDS[b]), (name, data["reasons"])
                assert data["score"] >= 0.5
                order = {ids[a]: RECORDS[a]["call_id"], ids[b]: RECORDS[b]["call_id"]}
                assert data["call_ids"] == [order[i] for i in data["application_ids"]]
                assert data["cross_call"] == (RECORDS[a]["call_id"] != RECORDS[b]["call_id"])
            text_link = by_pair[frozenset(ids[x] for x in PAIRS["text_link"])]["data"]
            text_link = {r["code"]: r for r in text_link["reasons"]}
            assert {"same_credit_code", "name_similarity", "text_similarity", "same_media_link"} <= set(text_link)
            assert text_link["text_similarity"]["message_zh"].startswith("正文几乎相同（0.")
            photos = {r["code"]: r for r in by_pair[frozenset(ids[x] for x in PAIRS["photos"])]["data"]["reasons"]}
            assert {"same_org", "same_images"} <= set(photos)
            # near-identical photos counted beyond the byte-identical files
            assert "5 张图片相同或近似（其中 3 张文件完全相同）" == photos["same_images"]["message_zh"]
            cross = by_pair[frozenset(ids[x] for x in PAIRS["cross_call"])]["data"]
            assert cross["cross_call"] is True and set(cross["call_ids"]) == {"call-2023-national",
                                                                             "call-2024-national"}
            assert "cross_call" in {r["code"] for r in cross["reasons"]}
            # the look-alike pair is not flagged, and nothing else among these applications either
            assert frozenset(ids[x] for x in LOOKALIKE) not in by_pair
            assert {p for p in by_pair if p & set(ids.values())} == set(expected)
            mine = {e["data"]["suspicion_id"] for p, e in by_pair.items() if p in expected}

            staff = Client(urls["review"], tok["staff"])
            listed = staff.get("/api/review/duplicates", params={"status": "open", "size": 200}).json()
            items = [i for i in listed["items"] if i["suspicion_id"] in mine]
            assert len(items) == 3 and all(i["reasons"] and i["status"] == "open" for i in items)
            clusters = {c["cluster_id"]: c for c in listed["clusters"]}
            assert all(set(i["application_ids"]) <= set(clusters[i["cluster_id"]]["application_ids"]) for i in items)
            assert Client(urls["review"], tok["applicant"]).get("/api/review/duplicates").status_code == 403
            assert staff.get(f"/api/review/duplicates/{uuid.uuid4()}").status_code == 404

            different = by_pair[frozenset(ids[x] for x in PAIRS["text_link"])]["data"]["suspicion_id"]
            same = by_pair[frozenset(ids[x] for x in PAIRS["photos"])]["data"]["suspicion_id"]
            detail = staff.get(f"/api/review/duplicates/{same}").json()
            assert {a["project_name"] for a in detail["applications"]} == {RECORDS[x]["project_name"]
                                                                            for x in PAIRS["photos"]}
            r = staff.post(f"/api/review/duplicates/{same}/settle",
                           json={"outcome": "same_project", "keep_id": "not-in-pair", "action": "merged"})
            assert r.status_code == 400 and r.json()["code"] == "settlement_keep_not_in_group"
            keep = ids[PAIRS["photos"][0]]
            r = staff.post(f"/api/review/duplicates/{same}/settle",
                           json={"outcome": "same_project", "keep_id": keep, "action": "merged", "note": "同一项目"})
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "settled" and r.json()["settlement"]["keep_id"] == keep
            r = staff.post(f"/api/review/duplicates/{different}/settle",
                           json={"outcome": "different_projects", "note": "两个不同项目"})
            assert r.status_code == 200, r.text
            again = staff.post(f"/api/review/duplicates/{different}/settle", json={"outcome": "different_projects"})
            assert again.status_code == 409 and again.json()["code"] == "duplicate_already_settled"

            # re-processing (the unit forwards both again) does not raise the different pair again
            before = len([e for e in _suspected(engine) if e["data"]["suspicion_id"] == different])
            for rid in PAIRS["text_link"]:
                fwd = events[rid][0]
                publish(settings.amqp_uri, {**fwd, "id": str(uuid.uuid4())})
            wait_until(lambda: _all_checked(engine, [ids[x] for x in PAIRS["text_link"]]) and all(
                _version(engine, ids[x]) >= 2 for x in PAIRS["text_link"]), timeout=20, message="re-check")
            after = [e for e in _suspected(engine) if e["data"]["suspicion_id"] == different]
            assert len(after) == before
            settled = staff.get("/api/review/duplicates", params={"status": "settled", "size": 200}).json()
            assert {i["suspicion_id"] for i in settled["items"]} & mine == {same, different}

            def delivered() -> list:
                got = drain(settings.amqp_uri, watch)
                delivered.seen += got
                types = [b["type"] for b in delivered.seen]
                return delivered.seen if types.count("duplicate.settled.v1") >= 2 else []

            delivered.seen = []
            seen = wait_until(delivered, timeout=15, message="settled events on the broker")
            settled_events = {b["data"]["suspicion_id"]: b["data"] for b in seen if b["type"] == "duplicate.settled.v1"}
            assert settled_events[same]["outcome"] == "same_project" and settled_events[same]["action"] == "merged"
            assert settled_events[same]["keep_id"] == keep and settled_events[same]["decided_by"] == "staff-1"
            assert settled_events[different]["outcome"] == "different_projects"
            assert settled_events[different]["keep_id"] is None
            assert {b["data"]["suspicion_id"] for b in seen if b["type"] == "duplicate.suspected.v1"} >= mine
    finally:
        engine.dispose()


def _version(engine: sa.Engine, app_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(dup_signals.c.version).where(dup_signals.c.application_id == app_id)).scalar()


def test_pairs_picked_cover_every_signal():
    """Guards the choice of pairs above: each signal is exercised by some pair."""
    codes = set()
    for a, b in PAIRS.values():
        codes |= _expected_codes(RECORDS[a], RECORDS[b])
    assert {"same_credit_code", "same_org", "name_similarity", "text_similarity", "same_images", "same_media_link",
            "cross_call"} <= codes
    assert not _expected_codes(*(RECORDS[x] for x in LOOKALIKE))
    assert all(len(set(p)) == 2 for p in combinations(PAIRS.values(), 2))


def test_signals_of_an_older_detector_version_are_recomputed_and_checked_again(settings):
    """A release that changes SIGNALS_VERSION: stored signals of the old version are recomputed
    from the stored form and evidence by the loop itself, then indexed and checked again."""
    from services.review.domain.duplicates import SIGNALS_VERSION

    a, b = PAIRS["text_link"]
    ids = {a: str(uuid.uuid4()), b: str(uuid.uuid4())}
    engine = make_engine(settings.db_url("review"))
    try:
        with running_services(settings, "review"):
            for rid, app_id in ids.items():
                publish(settings.amqp_uri, _events(RECORDS[rid], app_id)[0])
            wait_until(lambda: _all_checked(engine, list(ids.values())), timeout=30, message="first checks")
            before = {i: _version(engine, i) for i in ids.values()}
            with engine.begin() as conn:  # as an older release left them: another version, other signals
                conn.execute(dup_signals.update().where(dup_signals.c.application_id.in_(list(ids.values())))
                             .values(signals_version="old-detector", signals={"stale": True}))

            def refreshed() -> bool:
                with engine.connect() as conn:
                    rows = conn.execute(sa.select(dup_signals).where(
                        dup_signals.c.application_id.in_(list(ids.values())))).all()
                return all(r.signals_version == SIGNALS_VERSION and "stale" not in r.signals
                           and r.version > before[r.application_id] and r.checked_version >= r.version
                           for r in rows)

            wait_until(refreshed, timeout=30, message="stale signals recomputed and checked again")
    finally:
        engine.dispose()
