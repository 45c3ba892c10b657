"""Duplicate detection: the cost of one check through the REAL path as the corpus grows.

    .venv/bin/python bench/dedupe_scale.py                      # 1k, 10k, 100k
    .venv/bin/python bench/dedupe_scale.py --sizes 1000,10000   # quicker

One check = what the review service does per application: the candidate query on the engine
(osmem-server, Elasticsearch API, ``DuplicateIndex.candidate_ids``), the candidates' signals
read from PostgreSQL (``dup_signals``), and scoring in Python (``find_suspicions``). The corpus
is the evaluation set plus synthetic projects (``background_projects`` of
bench/data/dedupe/make_eval_set.py), bulk-loaded into a throw-away database and index. The
stop-key aggregation is a periodic cost (cached for a minute), timed separately.
Writes bench/results/dedupe_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "data" / "dedupe"))

import psycopg2  # noqa: E402
from dedupe_quality import synthesise  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from gongyi.db import make_engine, migrate  # noqa: E402
from gongyi.runner import LocalServers  # noqa: E402
from gongyi.search import make_search_client  # noqa: E402
from services.review.domain.duplicates import (  # noqa: E402
    SIGNALS_VERSION,
    ProjectSignals,
    candidate_keys,
    compute_signals,
    find_suspicions,
)
from services.review.duplicates_handlers import make_lookup  # noqa: E402
from services.review.storage.duplicates_index import DuplicateIndex, key_document  # noqa: E402
from services.review.storage.duplicates_repository import DuplicateRepository  # noqa: E402
from services.review.storage.duplicates_tables import dup_signals  # noqa: E402

EVAL_SET = ROOT / "bench" / "data" / "dedupe" / "eval_set.json"
RESULTS = ROOT / "bench" / "results" / "dedupe_scale.json"
PG_DSN = os.environ.get("GONGYI_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(engine, index: DuplicateIndex, signals: list[ProjectSignals]) -> None:  # noqa: ANN001
    now = datetime.now(UTC)
    for start in range(0, len(signals), 2000):
        part = signals[start : start + 2000]
        rows = [
            {"application_id": s.id, "call_id": s.call_id or "c", "unit_code": s.unit_code, "status": "active",
             "source": {"id": s.id}, "signals": s.to_dict(), "signals_version": SIGNALS_VERSION,
             "updated_at": now, "version": 1, "checked_version": 1}
            for s in part
        ]
        with engine.begin() as conn:
            conn.execute(dup_signals.insert(), rows)
        index.write(key_document(s.id, s.call_id or "c", candidate_keys(s)) for s in part)
    index.refresh()


def time_checks(sessions, index: DuplicateIndex, queries: list[ProjectSignals], rounds: int) -> dict:  # noqa: ANN001
    with sessions() as session:
        lookup = make_lookup(DuplicateRepository(session), index)
        counts: list[int] = []

        def counted(keys, exclude):  # noqa: ANN001, ANN202
            found = lookup(keys, exclude)
            counts.append(len(found))
            return found

        for q in queries[:20]:  # warm caches and connections
            find_suspicions(q, counted)
        per_check: list[float] = []
        best_mean = float("inf")
        for _ in range(rounds):
            counts.clear()
            times = []
            for q in queries:
                t0 = time.perf_counter()
                find_suspicions(q, counted)
                times.append(time.perf_counter() - t0)
            best_mean = min(best_mean, statistics.mean(times))
            per_check = times
    per_check.sort()
    return {
        "ms_per_check": round(best_mean * 1000, 3),
        "p50_ms": round(per_check[len(per_check) // 2] * 1000, 3),
        "p95_ms": round(per_check[int(len(per_check) * 0.95)] * 1000, 3),
        "mean_candidates": round(statistics.mean(counts), 2),
        "max_candidates": max(counts),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))

    data = json.loads(EVAL_SET.read_text(encoding="utf-8"))
    eval_signals = [compute_signals(r, r["evidence"]) for r in data["records"]]
    t0 = time.perf_counter()
    background = synthesise(max(sizes) - len(eval_signals))
    print(f"synthesised {len(background):,} projects' signals in {time.perf_counter() - t0:.0f} s", flush=True)
    queries = eval_signals[: args.queries]

    db_name = f"gongyi_bench_dedupe_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(PG_DSN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{db_name}"')
    url = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://") + "/" + db_name
    servers = LocalServers()
    out: dict = {"queries": len(queries), "rounds": args.rounds, "cpus": os.cpu_count(), "sizes": {}}
    try:
        migrate("review", url)
        engine = make_engine(url)
        sessions = sessionmaker(engine)
        index = DuplicateIndex(make_search_client(servers.start_search(free_port()), request_timeout=120),
                               f"bench{uuid.uuid4().hex[:6]}")
        index.ensure()
        load(engine, index, eval_signals)
        added = 0
        for n in sizes:
            need = n - len(eval_signals) - added
            t0 = time.perf_counter()
            load(engine, index, background[added : added + need])
            added += need
            t_load = time.perf_counter() - t0
            t0 = time.perf_counter()
            stop = index.stop_keys(force=True)
            t_stop = time.perf_counter() - t0
            res = time_checks(sessions, index, queries, args.rounds)
            res.update(load_seconds=round(t_load, 1), stop_key_refresh_ms=round(t_stop * 1000, 1), stop_keys=len(stop))
            out["sizes"][str(n)] = res
            print(f"  corpus {n:>7,}: {res['ms_per_check']:.2f} ms per check (p50 {res['p50_ms']:.2f}, "
                  f"p95 {res['p95_ms']:.2f}), {res['mean_candidates']:.1f} candidates; stop-key refresh "
                  f"{res['stop_key_refresh_ms']:.0f} ms ({len(stop)} keys); loaded in {t_load:.0f} s", flush=True)
        first, last = out["sizes"][str(sizes[0])], out["sizes"][str(sizes[-1])]
        out["ratio_largest_to_smallest"] = round(last["ms_per_check"] / first["ms_per_check"], 3)
        print(f"growth {sizes[0]:,} -> {sizes[-1]:,}: x{out['ratio_largest_to_smallest']:.2f}")
        engine.dispose()
    finally:
        servers.stop()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"-> {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
