"""Duplicate detection: the cost of one check through the REAL path as the corpus grows.

    .venv/bin/python bench/dedupe_scale.py                      # 1k, 10k, 100k
    .venv/bin/python bench/dedupe_scale.py --sizes 1000,10000   # quicker

One check = what the review service does per application (``EngineLookup``): ONE ``mget`` of
the postings of its keys on the engine (osmem-server, Elasticsearch API, ``DuplicateIndex.read``),
counting them (``rank_candidates``), the candidates' signals read from PostgreSQL
(``dup_signals``), one more ``mget`` for the document frequencies of the candidates' other terms
(``term_stats``), and scoring in Python (``find_suspicions``); each part is timed separately. The corpus is the
evaluation set plus synthetic projects (``background_projects`` of
bench/data/dedupe/make_eval_set.py), bulk-loaded into a throw-away database (``dup_signals``,
``dup_keys`` by COPY) and written to the engine as postings by ``DuplicateIndex.rebuild``.
A raw baseline (an ``mget`` of one missing id, ``SELECT 1``) is measured at each size, so the
machine's load can be told apart from growth. The write side (``sync_postings`` of one new
application: its keys into ``dup_keys``, its ~50 postings rewritten) is timed too.
Writes bench/results/dedupe_scale.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import pickle
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
import sqlalchemy as sa  # noqa: E402
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
from services.review.handlers.duplicates import sync_postings  # noqa: E402
from services.review.handlers.duplicates.checks import EngineLookup  # noqa: E402
from services.review.storage.duplicates.index import DuplicateIndex, posting_document  # noqa: E402
from services.review.storage.duplicates.repository import DuplicateRepository, all_holders  # noqa: E402
from services.review.storage.duplicates.tables import dup_signals, posting_key  # noqa: E402

EVAL_SET = ROOT / "bench" / "data" / "dedupe" / "eval_set.json"
RESULTS = ROOT / "bench" / "results" / "dedupe_scale.json"
CACHE = ROOT / "var" / "bench-cache"
PG_DSN = os.environ.get("GONGYI_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _signal_rows(signals: list[ProjectSignals], now: datetime, checked: bool = True) -> list[dict]:
    return [
        {"application_id": s.id, "call_id": s.call_id or "c", "unit_code": s.unit_code, "status": "active",
         "source": {"id": s.id}, "signals": s.to_dict(), "signals_version": SIGNALS_VERSION,
         "updated_at": now, "version": 1, "checked_version": 1 if checked else 0}
        for s in signals
    ]


def load(engine, signals: list[ProjectSignals]) -> None:  # noqa: ANN001
    """SQL only: ``dup_signals`` rows and their ``dup_keys`` (COPY: ~50 keys per project)."""
    now = datetime.now(UTC)
    for start in range(0, len(signals), 2000):
        part = signals[start : start + 2000]
        buf = io.StringIO()
        out = csv.writer(buf)
        for s in part:
            keys = {posting_key(kind, v) for kind, values in candidate_keys(s).items() for v in values}
            out.writerows((k, s.id) for k in keys)
        buf.seek(0)
        with engine.begin() as conn:
            conn.execute(dup_signals.insert(), _signal_rows(part, now))
            cur = conn.connection.driver_connection.cursor()
            cur.copy_expert("COPY dup_keys (key, application_id) FROM STDIN WITH (FORMAT csv)", buf)


def write_postings(engine, index: DuplicateIndex) -> int:  # noqa: ANN001
    """Every key's posting from ``dup_keys`` into a new index, alias swapped (what
    ``rebuild_index`` does after bringing ``dup_keys`` in line with the signals)."""
    written = 0

    def count(n: int) -> None:
        nonlocal written
        written += n

    with engine.connect() as conn:
        index.rebuild((posting_document(k, ids, index.max_df) for k, ids in all_holders(conn)), count)
    return written


def background_signals(n: int, cache: bool) -> list[ProjectSignals]:
    """``n`` synthetic projects' signals (~7 min for 100k on 2 cores); with ``cache``, kept on disk
    for the next run of the same size and SIGNALS_VERSION."""
    path = CACHE / f"background-{n}-{hashlib.sha256(SIGNALS_VERSION.encode()).hexdigest()[:12]}.pkl"
    if cache and path.exists():
        return pickle.loads(path.read_bytes())
    out = synthesise(n)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    return out


def _median_ms(xs: list[float]) -> float:
    return round(statistics.median(xs) * 1000, 3)


def time_baseline(engine, index: DuplicateIndex, n: int = 300) -> dict:  # noqa: ANN001
    """The floor of one engine round trip and one SQL round trip, on the machine as it is now."""
    mget, sql = [], []
    with engine.connect() as conn:
        for _ in range(n):
            t0 = time.perf_counter()
            index.client.mget(index=index.alias, ids=["no|such-key"])
            t1 = time.perf_counter()
            conn.execute(sa.text("SELECT 1")).scalar()
            t2 = time.perf_counter()
            mget.append(t1 - t0)
            sql.append(t2 - t1)
    return {"mget_1_missing_ms": _median_ms(mget), "select_1_ms": _median_ms(sql)}


def settle(engine, index: DuplicateIndex, max_s: float = 180.0) -> float:  # noqa: ANN001
    """Right after a bulk load of millions of postings osmem-server answers slower for a while
    (a 1-id ``mget`` at 100k projects: 1.8 ms just after the load, 0.7 ms after the checks).
    Wait until the raw round trip stops improving, so the checks time the index, not the load."""
    t0 = time.perf_counter()
    prev = time_baseline(engine, index, 100)["mget_1_missing_ms"]
    while time.perf_counter() - t0 < max_s:
        time.sleep(5)
        now = time_baseline(engine, index, 100)["mget_1_missing_ms"]
        if now > prev * 0.9:
            break
        prev = now
    return round(time.perf_counter() - t0, 1)


def time_checks(sessions, index: DuplicateIndex, queries: list[ProjectSignals], rounds: int,  # noqa: ANN001
                raw: dict | None = None, one_per_pass: bool = False) -> dict:
    """``rounds`` rounds of one check per query; adds the raw timings to ``raw`` (created if None).

    Each round is one pass of the service's loop (``check_pending``: up to 200 applications, one
    ``EngineLookup``, so a term count read by one check serves the next ones); with
    ``one_per_pass`` every check has a lookup of its own, as when applications trickle in."""
    raw = raw if raw is not None else {"totals": [], "round_medians": [], "mget": [], "rank": [], "sql": [],
                                       "counts": [], "postings_read": [], "stats": []}
    with sessions() as session:
        repo = DuplicateRepository(session)
        corpus = repo.active_count()
        record = [True]
        current = [EngineLookup(repo, index, corpus)]

        def lookup(keys, exclude):  # noqa: ANN001, ANN202 - EngineLookup.lookup, with each part timed
            t0 = time.perf_counter()
            read = current[0].read(keys)
            t1 = time.perf_counter()
            ids = current[0].rank(read, exclude)
            t2 = time.perf_counter()
            found = current[0].signals_of(ids)
            t3 = time.perf_counter()
            if record[0]:
                raw["mget"].append(t1 - t0)
                raw["rank"].append(t2 - t1)
                raw["sql"].append(t3 - t2)
                raw["counts"].append(len(ids))
                raw["postings_read"].append(sum(len(p[2]) for p in read.values()))
            return found

        stats_time = [0.0]

        def stats_for(signals, others):  # noqa: ANN001, ANN202 - term counts (twice a check: its own, then
            t0 = time.perf_counter()      # the candidates that could be flagged: one more mget)
            stats = current[0].term_stats(signals, others)
            stats_time[0] += time.perf_counter() - t0
            return stats

        record[0] = False
        for q in queries[-20:]:  # warm caches and connections (a lookup of its own, not the timed passes')
            find_suspicions(q, lookup, stats_for=stats_for)
        record[0] = True
        for _ in range(rounds):
            times = []
            current[0] = EngineLookup(repo, index, corpus)
            for q in queries:
                if one_per_pass:
                    current[0] = EngineLookup(repo, index, corpus)
                stats_time[0] = 0.0
                t0 = time.perf_counter()
                find_suspicions(q, lookup, stats_for=stats_for)
                times.append(time.perf_counter() - t0)
                raw["stats"].append(stats_time[0])
            raw["round_medians"].append(statistics.median(times))
            raw["totals"] += times
    return raw


def summarise_checks(raw: dict) -> dict:
    # one lookup per check: what is left of a check is scoring (and building the signals)
    score = [t - m - r - s - st for t, m, r, s, st in
             zip(raw["totals"], raw["mget"], raw["rank"], raw["sql"], raw["stats"], strict=True)]
    totals = sorted(raw["totals"])
    # what the slowest 5% of checks spend their time on, and how many candidates they have
    cut = totals[int(len(totals) * 0.95)]
    tail = [i for i, t in enumerate(raw["totals"]) if t >= cut]

    def tail_ms(xs: list[float]) -> float:
        return round(statistics.mean(xs[i] for i in tail) * 1000, 3)

    return {
        "median_ms": round(statistics.median(raw["round_medians"]) * 1000, 3),
        "round_medians_ms": [round(m * 1000, 3) for m in raw["round_medians"]],
        "mean_ms": round(statistics.mean(totals) * 1000, 3),
        "p95_ms": round(totals[int(len(totals) * 0.95)] * 1000, 3),
        "parts_median_ms": {"mget": _median_ms(raw["mget"]), "rank": _median_ms(raw["rank"]),
                            "sql": _median_ms(raw["sql"]), "term_stats": _median_ms(raw["stats"]),
                            "score_rest": _median_ms(score)},
        "slowest_5pct_mean_ms": {"mget": tail_ms(raw["mget"]), "rank": tail_ms(raw["rank"]), "sql": tail_ms(raw["sql"]),
                                 "term_stats": tail_ms(raw["stats"]), "score_rest": tail_ms(score),
                                 "candidates": round(statistics.mean(raw["counts"][i] for i in tail), 2)},
        "mean_candidates": round(statistics.mean(raw["counts"]), 2),
        "max_candidates": max(raw["counts"]),
        "mean_posting_ids_read": round(statistics.mean(raw["postings_read"]), 1),
    }


def time_writes(engine, index: DuplicateIndex, signals: list[ProjectSignals], tag: str) -> dict:  # noqa: ANN001
    """``sync_postings`` of one new pending application at a time (copies of evaluation records),
    and the engine's part alone: a bulk write of that many postings."""
    times, keys, engine_only = [], [], []
    for s in signals:
        copy = ProjectSignals.from_dict({**s.to_dict(), "id": f"{tag}-{s.id}"})
        with engine.begin() as conn:
            conn.execute(dup_signals.insert(), _signal_rows([copy], datetime.now(UTC), checked=False))
        t0 = time.perf_counter()
        rows = sync_postings(engine, index, batch=10)
        times.append(time.perf_counter() - t0)
        assert [r["application_id"] for r in rows] == [copy.id]
        keys.append(sum(len(v) for v in candidate_keys(copy).values()))
        docs = [posting_document(f"bench|{copy.id}|{i}", [copy.id]) for i in range(keys[-1])]
        t0 = time.perf_counter()
        index.write(docs, [d["_id"] for d in docs])  # written, then deleted: two bulk writes
        engine_only.append((time.perf_counter() - t0) / 2)
        with engine.begin() as conn:
            conn.execute(dup_signals.update().where(dup_signals.c.application_id == copy.id).values(checked_version=1))
    return {"median_ms": _median_ms(times), "engine_bulk_ms": _median_ms(engine_only),
            "keys_per_application": round(statistics.mean(keys), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cache", action="store_true",
                    help=f"keep the synthesised background under {CACHE.relative_to(ROOT)} for the next run")
    args = ap.parse_args()
    sizes = sorted(int(x) for x in args.sizes.split(","))

    data = json.loads(EVAL_SET.read_text(encoding="utf-8"))
    eval_signals = [compute_signals(r, r["evidence"]) for r in data["records"]]
    t0 = time.perf_counter()
    background = background_signals(max(sizes) - len(eval_signals), args.cache)
    print(f"{len(background):,} background projects' signals in {time.perf_counter() - t0:.0f} s", flush=True)
    queries = eval_signals[: args.queries]

    # One database and one index per corpus size, all loaded first; then the rounds of checks
    # are interleaved across sizes (in a rotating order), so a change in the machine's load
    # during the run falls on every size alike instead of on whichever size was measured last.
    run = uuid.uuid4().hex[:8]
    db_names = {n: f"gongyi_bench_dedupe_{run}_{n}" for n in sizes}
    admin = psycopg2.connect(PG_DSN)
    admin.autocommit = True
    servers = LocalServers()
    out: dict = {"queries": len(queries), "rounds": args.rounds, "cpus": os.cpu_count(), "interleaved": True,
                 "sizes": {}}
    engines: list = []
    try:
        client = make_search_client(servers.start_search(free_port()), request_timeout=120)
        corpora: dict[int, tuple] = {}
        for n in sizes:
            with admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{db_names[n]}"')
            url = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://") + "/" + db_names[n]
            migrate("review", url)
            engine = make_engine(url)
            engines.append(engine)
            index = DuplicateIndex(client, f"bench{run}{n}")
            index.ensure()
            t0 = time.perf_counter()
            load(engine, eval_signals)
            load(engine, background[: n - len(eval_signals)])
            with engine.begin() as conn:  # as autovacuum would soon: the write path needs the statistics
                conn.execute(sa.text("ANALYZE dup_keys"))
                conn.execute(sa.text("ANALYZE dup_signals"))
            t_sql = time.perf_counter() - t0
            t0 = time.perf_counter()
            postings = write_postings(engine, index)
            t_engine = time.perf_counter() - t0
            corpora[n] = (engine, sessionmaker(engine), index)
            out["sizes"][str(n)] = {"postings": postings, "load_sql_seconds": round(t_sql, 1),
                                    "load_engine_seconds": round(t_engine, 1)}
            print(f"  loaded {n:>7,}: {postings:,} postings (SQL {t_sql:.0f} s, engine {t_engine:.0f} s)", flush=True)
        for n in sizes:
            engine, _, index = corpora[n]
            out["sizes"][str(n)]["settle_seconds"] = settle(engine, index)
        raw: dict[int, dict | None] = dict.fromkeys(sizes)
        raw_alone: dict[int, dict | None] = dict.fromkeys(sizes)
        baselines: dict[int, list[dict]] = {n: [] for n in sizes}
        for r in range(args.rounds):
            order = sizes[r % len(sizes):] + sizes[: r % len(sizes)]
            for n in order:
                engine, sessions, index = corpora[n]
                baselines[n].append(time_baseline(engine, index, n=100))
                raw[n] = time_checks(sessions, index, queries, 1, raw[n])
                raw_alone[n] = time_checks(sessions, index, queries, 1, raw_alone[n], one_per_pass=True)
        for n in sizes:
            engine, _, index = corpora[n]
            res = out["sizes"][str(n)]
            res.update(summarise_checks(raw[n]))
            res["one_check_per_pass"] = summarise_checks(raw_alone[n])
            res["baseline"] = {k: _median_ms([b[k] / 1000 for b in baselines[n]]) for k in baselines[n][0]}
            res["write_one_application"] = time_writes(engine, index, eval_signals[-20:], f"w{n}")
            p = res["parts_median_ms"]
            print(f"  corpus {n:>7,}: median {res['median_ms']:.2f} ms per check (rounds {res['round_medians_ms']}, "
                  f"mean {res['mean_ms']:.2f}, p95 {res['p95_ms']:.2f}); parts: mget {p['mget']:.2f}, rank "
                  f"{p['rank']:.3f}, sql {p['sql']:.2f}, term stats {p['term_stats']:.2f}, score "
                  f"{p['score_rest']:.2f}; {res['mean_candidates']:.2f} candidates, "
                  f"{res['mean_posting_ids_read']:.1f} posting ids read; slowest 5%: {res['slowest_5pct_mean_ms']}; "
                  f"baseline mget "
                  f"{res['baseline']['mget_1_missing_ms']:.2f} / select {res['baseline']['select_1_ms']:.2f} ms; "
                  f"write one application {res['write_one_application']['median_ms']:.1f} ms (engine bulk "
                  f"{res['write_one_application']['engine_bulk_ms']:.1f})", flush=True)
            alone = res["one_check_per_pass"]
            print(f"  corpus {n:>7,}, one check per pass: median {alone['median_ms']:.2f}, p95 {alone['p95_ms']:.2f} "
                  f"ms; parts {alone['parts_median_ms']}; slowest 5%: {alone['slowest_5pct_mean_ms']}", flush=True)
        first, last = out["sizes"][str(sizes[0])], out["sizes"][str(sizes[-1])]
        out["ratio_largest_to_smallest"] = round(last["median_ms"] / first["median_ms"], 3)
        out["baseline_ratio"] = round(last["baseline"]["mget_1_missing_ms"] / first["baseline"]["mget_1_missing_ms"], 3)
        print(f"growth {sizes[0]:,} -> {sizes[-1]:,}: x{out['ratio_largest_to_smallest']:.2f} (median per check, "
              f"rounds interleaved across sizes); raw mget baseline x{out['baseline_ratio']:.2f}")
    finally:
        for engine in engines:
            engine.dispose()
        servers.stop()
        with admin.cursor() as cur:
            for name in db_names.values():
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"-> {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
