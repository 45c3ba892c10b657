"""Pipeline benchmark: applications accepted over HTTP by N concurrent clients until each is stored,
evented, consumed by review and searchable; against the raw rate of kombu publishing with
publisher confirms to the same broker, measured in the same run.

    .venv/bin/python bench/pipeline.py --apps 600 --clients 8 --batch 20
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.environment import (  # noqa: E402
    SERVICE_PIDS,
    cpu_by_program,
    cpu_seconds,
    environment,
    machine_busy_seconds,
    print_table,
    summary,
    token,
    write_result,
)  # noqa: E402


def raw_confirmed_publish_rate(amqp_uri: str, n: int, body: str) -> float:
    from kombu import Connection, Exchange, Queue

    exchange = Exchange("bench.raw", type="topic", durable=True)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        Queue("bench.raw.q", exchange=exchange, routing_key="#", durable=True)(channel).declare()
        producer = conn.Producer(channel=channel, exchange=exchange)
        started = time.perf_counter()
        for _ in range(n):
            producer.publish(body, routing_key="application.forwarded.v1", delivery_mode=2,
                             content_type="application/cloudevents+json", retry=False)
        elapsed = time.perf_counter() - started
        Queue("bench.raw.q")(channel).delete()
    return n / elapsed


CATEGORIES = {"互联网+共同富裕": "common_prosperity", "互联网+社会帮扶": "social_assistance",
              "互联网+应急救援": "emergency_rescue", "互联网+教育发展": "education",
              "互联网+文化传承": "cultural_heritage"}


def valid_credit_code(code: str | None, i: int) -> str:
    """The generator's code with its two check characters made right (GB 11714 and GB 32100)."""
    from services.intake.domain.uscc import check_char, org_check_char

    body = (code or f"5311000050{i:07d}")[:16]
    body = body[:8] + "".join(c if c.isdigit() else str(ord(c) % 10) for c in body[8:16])
    first17 = body + org_check_char(body[8:16])
    return first17 + check_char(first17)


def forms(n: int, seed: int) -> list[dict]:
    """``n`` distinct, realistic applications (the duplicate evaluation set's generator, no planted
    duplicates): different organisations, names and narratives, as a real call receives them."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "data" / "dedupe"))
    from make_eval_set import background_projects

    out = []
    for i, p in enumerate(background_projects(n, seed)):
        paragraphs = [x for x in p["narrative"].split("\n") if x]
        # the call counts 2,000 characters over the narrative fields together
        summary, results = "".join(paragraphs[:3])[:700], "".join(paragraphs[3:5])[:600]
        innovation = "".join(paragraphs[5:])[:400] or "以互联网手段提升服务可及性。"
        out.append({
            "project_name": p["project_name"], "category": CATEGORIES.get(p["category"], "other"),
            "applicant": {"name": p["org_name"], "type": "social_organisation",
                          "credit_code": valid_credit_code(p["credit_code"], i), "province": "北京市",
                          "address": "北京市东城区"},
            "contact": {"name": "张三", "title": "项目主管", "mobile": "13800138000", "email": "zhangsan@example.org"},
            "started_on": "2021-03-01", "still_running": True,
            "summary": summary, "implementation_results": results, "innovation": innovation,
            "approval": {"department": "北京市民政局", "document_no": "京民发〔2020〕12号"},
            "platform": {"website": "https://example.org"}, "unit_code": "cac-beijing",
        })
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=20, help="applications a unit forwards together")
    parser.add_argument("--raw", type=int, default=3000, help="messages for the raw publish baseline")
    parser.add_argument("--separate-steps", action="store_true",
                        help="create, submit and endorse in three calls per application (the step-by-step path)")
    args = parser.parse_args()

    with environment(("intake", "review")) as (env, urls):
        intake = urls["intake"]
        staff = {"Authorization": "Bearer " + token("staff")}
        unit = {"Authorization": "Bearer " + token("unit", unit="cac-beijing")}
        import subprocess

        subprocess.run([sys.executable, "-m", "gongyi.cli", "call", "load", "calls/2024-national.yaml"], env=env,
                       check=True, capture_output=True)
        requests.put(f"{intake}/api/intake/calls/2024-national/window", headers=staff, timeout=30,
                     json={"closes": "2099-12-31T23:59:59+08:00", "note": "benchmark"}).raise_for_status()

        from gongyi.search import make_search_client

        es = make_search_client(env["GONGYI_SEARCH_URL"])
        alias = f"{env['GONGYI_SEARCH_INDEX_PREFIX']}-projects"
        forwarded_at: dict[str, float] = {}
        seen_at: dict[str, float] = {}
        lock = threading.Lock()
        done = threading.Event()

        review_db = sa.create_engine(env["GONGYI_REVIEW_DB_URL"])

        checked = {"n": 0, "at": None}

        def poll_checked() -> None:
            # "duplicate-checked": review's checker has caught up with the application's signals.
            # A count, not the rows: the watcher is part of the machine's load and should stay small.
            with review_db.connect() as conn:
                n = conn.execute(sa.text(
                    "SELECT count(*) FROM dup_signals WHERE checked_version >= version")).scalar_one()
            if n > checked["n"]:
                checked["n"], checked["at"] = n, time.perf_counter()

        def watch() -> None:
            while not done.is_set() or len(seen_at) < len(forwarded_at) or checked["n"] < len(forwarded_at):
                try:
                    poll_checked()
                except Exception:  # noqa: BLE001 - the table appears with review's migrations
                    pass
                with lock:
                    pending = [i for i in forwarded_at if i not in seen_at]
                if pending:
                    try:
                        r = es.search(index=alias, query={"ids": {"values": pending[:1000]}}, size=1000,
                                      source=False)
                        now = time.perf_counter()
                        for h in r["hits"]["hits"]:
                            seen_at.setdefault(h["_id"], now)
                    except Exception:  # noqa: BLE001 - the alias appears with the first document
                        pass
                time.sleep(0.1)  # a tighter poll loads the engine it measures (20 Hz: +2 ms osmem CPU per app)
                if done.is_set() and time.perf_counter() - last_forward[0] > 120:
                    break

        last_forward = [time.perf_counter()]
        watcher = threading.Thread(target=watch, daemon=True)
        all_forms = forms(args.apps, seed=int(uuid.uuid4().int % 10_000))
        errors: list[str] = []

        def client(c: int, indices: list[int]) -> None:
            applicant = {"Authorization": "Bearer " + token("applicant", sub=f"bench-{c}")}
            session = requests.Session()
            ready: list[str] = []
            for i in indices:
                if args.separate_steps:  # the three calls of the step-by-step path
                    r = session.post(f"{intake}/api/intake/applications", headers=applicant, timeout=60,
                                     json={"call_id": "2024-national", "form": all_forms[i]})
                    if r.status_code == 201:
                        app_id = r.json()["id"]
                        session.post(f"{intake}/api/intake/applications/{app_id}/submit", headers=applicant,
                                     timeout=60)
                        session.post(f"{intake}/api/intake/applications/{app_id}/endorse", headers=unit,
                                     timeout=60, json={"opinion": "同意推荐"})
                else:  # create and submit in one call; the unit endorses in the batch
                    r = session.post(f"{intake}/api/intake/applications", headers=applicant, timeout=60,
                                     json={"call_id": "2024-national", "form": all_forms[i], "submit": True})
                if r.status_code != 201:
                    errors.append(r.text[:200])
                    continue
                ready.append(r.json()["id"])
                if len(ready) >= args.batch or i == indices[-1]:
                    batch = {"application_ids": ready, "idempotency_key": uuid.uuid4().hex}
                    if not args.separate_steps:
                        batch["endorse_opinion"] = "同意推荐"
                    r = session.post(f"{intake}/api/intake/batches", headers=unit, timeout=60, json=batch)
                    now = time.perf_counter()
                    if r.status_code == 201:
                        with lock:
                            for a in ready:
                                forwarded_at[a] = now
                        last_forward[0] = now
                    else:
                        errors.append(r.text[:200])
                    ready = []

        shares = [list(range(c, args.apps, args.clients)) for c in range(args.clients)]
        cpu_before = {s: cpu_seconds(pid) for s, pid in SERVICE_PIDS.items()}
        own_before = cpu_seconds(os.getpid())  # the load generator and watcher (this process)
        servers_before, machine_before = cpu_by_program(), machine_busy_seconds()
        watcher.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda c: client(c, shares[c]), range(args.clients)))
        accepted = time.perf_counter() - started
        done.set()
        watcher.join(timeout=180)
        n_done = max(1, len(seen_at))
        cpu_ms = {s: (cpu_seconds(pid) - cpu_before[s]) * 1000 / n_done for s, pid in SERVICE_PIDS.items()}
        cpu_ms.update({p: (t - servers_before[p]) * 1000 / n_done for p, t in cpu_by_program().items()})
        cpu_ms["load generator (this bench)"] = (cpu_seconds(os.getpid()) - own_before) * 1000 / n_done
        cpu_ms["whole machine"] = (machine_busy_seconds() - machine_before) * 1000 / n_done
        finished = max([*seen_at.values(), checked["at"] or 0.0], default=time.perf_counter()) - started
        latencies = [seen_at[a] - forwarded_at[a] for a in forwarded_at if a in seen_at]
        body = '{"x":"' + "字" * 2500 + '"}'
        raw = raw_confirmed_publish_rate(env["GONGYI_AMQP_URI"], args.raw, body)

    rate = len(seen_at) / finished if finished else 0.0
    lat = summary(latencies)
    rows = [
        ("applications forwarded", str(len(forwarded_at)), f"errors {len(errors)}"),
        ("searchable", str(len(seen_at)), ""),
        ("duplicate-checked", str(checked["n"]), ""),
        ("accepted over HTTP (s)", f"{accepted:.2f}", f"{len(forwarded_at) / accepted:.1f} apps/s"),
        ("sustained to searchable and checked", f"{rate:.1f} apps/s", "goal >= 150"),
        ("raw kombu confirmed publish", f"{raw:.0f} msgs/s", ""),
        ("ratio to raw", f"{rate / raw:.1%}", "goal >= 20%"),
        ("forward -> searchable p50", f"{lat['p50'] * 1000:.0f} ms", ""),
        ("forward -> searchable p95", f"{lat['p95'] * 1000:.0f} ms", "goal < 2000 ms"),
        *[(f"CPU per application: {s}", f"{ms:.1f} ms", "user+system, whole run") for s, ms in cpu_ms.items()],
        ("CPU budget per application at 150/s", f"{os.cpu_count() * 1000 / 150:.1f} ms", "all cores / goal"),
    ]
    print_table(f"pipeline: {args.apps} applications, {args.clients} clients, batches of {args.batch}", rows,
                ("measure", "value", "note"))
    if errors:
        print("first errors:", errors[:3])
    path = write_result("pipeline", {
        "apps": args.apps, "clients": args.clients, "batch": args.batch, "forwarded": len(forwarded_at),
        "searchable": len(seen_at), "duplicate_checked": checked["n"], "errors": len(errors),
        "accepted_seconds": accepted,
        "sustained_apps_per_s": rate, "raw_confirmed_publish_per_s": raw, "ratio_to_raw": rate / raw,
        "latency_s": lat, "cpu_ms_per_application": cpu_ms,
        "http_calls_per_application": (3 if args.separate_steps else 1) + 1 / args.batch,
    })
    print(f"written {path}")
    return 0 if len(seen_at) == len(forwarded_at) == checked["n"] == args.apps else 1


if __name__ == "__main__":
    sys.exit(main())
