"""The background checks: new signal versions to ``dup_keys`` and the posting index, then each
checked against the candidates; suspicions recorded, clustered and announced."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from services.review.domain.duplicates import (
    ProjectSignals,
    Settlement,
    Suspicion,
    candidate_keys,
    cluster,
    find_suspicions,
    score_pair,
)
from services.review.domain.duplicates.index import DEFAULT_LIMIT, MIN_SCORE, rank_candidates
from services.review.domain.duplicates.similarity import TermStats, stats_terms
from services.review.handlers.duplicates.common import SUSPECTED, suspicion_id_for
from services.review.storage.duplicates.index import DuplicateIndex, Posting, posting_document
from services.review.storage.duplicates.repository import (
    DuplicateRepository,
    all_active_signals,
    all_holders,
    analyse_keys,
    clear_dirty,
    dirty_keys,
    drop_inactive_keys,
    holder_counts,
    holders_of,
    lock_postings,
    pending_checks,
    replace_keys,
)
from services.review.storage.duplicates.tables import posting_key
from services.review.storage.unit_of_work import ReviewUnitOfWork


def _settlements(pairs: Iterable[dict[str, Any]]) -> list[Settlement]:
    """Settled pairs as the detector takes them (only the outcome and the pair matter to it)."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return [Settlement(p["outcome"], frozenset((p["a_id"], p["b_id"])), "", epoch) for p in pairs]


def _fingerprint(score: float, reasons: list[dict[str, Any]], cluster_id: str) -> str:
    raw = json.dumps([round(score, 2), sorted(r["code"] for r in reasons), cluster_id])
    return hashlib.sha256(raw.encode()).hexdigest()


def _reason_dicts(reasons: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {"code": r.code, "message_zh": r.message_zh, "message_en": r.message_en, "weight": r.weight} for r in reasons
    ]


class EngineLookup:
    """``find_suspicions``' lookup and term statistics: candidate ids from the engine's postings,
    their signals from SQL, and each term's document frequency from the ``n`` of its posting.

    The check's own postings (read to find candidates) already give its terms' counts; only the
    candidates' other terms cost one more ``mget``, and only those no earlier check of the same
    pass has read: the candidates of one pass's checks share many words, and a count read a
    moment ago is as good as a fresh one for an IDF. ``corpus_size`` is the number of active
    applications (read once per pass)."""

    def __init__(self, repo: DuplicateRepository, index: DuplicateIndex, corpus_size: int) -> None:
        self.repo = repo
        self.index = index
        self.corpus_size = corpus_size
        self._df: dict[str, int] = {}

    def lookup(self, keys: dict[str, list[str]], exclude_id: str) -> list[ProjectSignals]:
        return self.signals_of(self.rank(self.read(keys), exclude_id))

    # The three steps of ``lookup`` (bench/dedupe_scale.py times each).
    def read(self, keys: dict[str, list[str]]) -> dict[tuple[str, str], Posting]:
        """The postings of ``keys`` (one ``mget``); their ``term`` counts are kept for ``term_stats``."""
        read = self.index.read(keys)
        self._df.update({value: n for (kind, value), (_, n, _) in read.items() if kind == "term"})
        return read

    def rank(self, read: dict[tuple[str, str], Posting], exclude_id: str) -> list[str]:
        return rank_candidates(read.values(), exclude_id, max_df=self.index.max_df, min_score=MIN_SCORE,
                               limit=DEFAULT_LIMIT)

    def signals_of(self, ids: list[str]) -> list[ProjectSignals]:
        found = self.repo.signals_of(ids)
        return [ProjectSignals.from_dict(found[i]) for i in ids if i in found]

    def term_stats(self, signals: ProjectSignals, others: Sequence[ProjectSignals] = ()) -> TermStats:
        needed = stats_terms([signals, *others])
        missing = needed - self._df.keys()
        if missing:
            counts = self.index.term_counts(missing)
            # a term without a posting is held by no active project: remembered as such
            self._df.update({t: counts.get(t, 0) for t in missing})
        df = self._df
        return TermStats(self.corpus_size, {t: n for t in needed if (n := df[t])})


def make_lookup(repo: DuplicateRepository, index: DuplicateIndex) -> EngineLookup:
    return EngineLookup(repo, index, repo.active_count())


def check_pending(uow: ReviewUnitOfWork, index: DuplicateIndex, rows: list[dict[str, Any]]) -> list[str]:
    """Check the pending signal versions ``rows`` (id, version, status, signals) in one
    transaction; returns the suspicion ids announced.

    A row's signals may have changed since it was read: it is then marked checked at the version
    read, which is older, and the next pass checks it again (``mark_checked_many`` only moves forward).
    What every check needs besides the engine (settled pairs, open suspicions) is read once for
    all rows: most applications have neither, and one query each was most of a check's cost."""
    repo = uow.duplicates
    active = [r for r in rows if r["status"] == "active"]
    ids = [r["application_id"] for r in active]
    settled = repo.settled_pairs_for(ids)
    open_before = repo.open_suspicions_for(ids)
    engine_lookup = make_lookup(repo, index)
    announced: list[str] = []
    for r in active:
        application_id = r["application_id"]
        signals = ProjectSignals.from_dict(r["signals"])
        found = find_suspicions(signals, engine_lookup.lookup, _settlements(settled.get(application_id, [])),
                                stats_for=engine_lookup.term_stats)
        now = dt.datetime.now(dt.UTC)
        # Open suspicions the index did not return this time are scored again directly: an edit
        # (fewer shared photos...) may have cleared them, or the candidate list was full.
        found_pairs = {s.pair for s in found}
        old_open = open_before.get(application_id, [])
        for old in old_open:
            if (old["a_id"], old["b_id"]) in found_pairs:
                continue
            other_id = old["b_id"] if old["a_id"] == application_id else old["a_id"]
            other = repo.signals_of([other_id]).get(other_id)
            other_signals = ProjectSignals.from_dict(other) if other else None
            again = (score_pair(signals, other_signals, stats=engine_lookup.term_stats(signals, [other_signals]))
                     if other_signals else None)
            if again is not None:
                found.append(again)
            else:
                repo.update_suspicion(old["suspicion_id"], {"status": "cleared", "updated_at": now})
        for s in found:
            _upsert(repo, s, now)
        # no suspicion found and none open before (most applications): no group to walk
        if found or old_open:
            announced += recluster_and_announce(uow, repo, {application_id}, now)
        time.sleep(0)  # green: let HTTP requests and consumers run between checks
    repo.mark_checked_many({r["application_id"]: r["version"] for r in rows})
    uow.commit()
    return announced


def _upsert(repo: DuplicateRepository, s: Suspicion, now: dt.datetime) -> None:
    sid = suspicion_id_for(s.a_id, s.b_id)
    values = {
        "a_call": s.a_call,
        "b_call": s.b_call,
        "score": s.score,
        "reasons": _reason_dicts(s.reasons),
        "counter_reasons": _reason_dicts(s.counter_reasons),
        "cross_call": s.cross_call,
        "cross_unit": s.cross_unit,
        "updated_at": now,
    }
    existing = repo.get_suspicion(sid)
    if existing is None:
        repo.insert_suspicion(
            {
                "suspicion_id": sid,
                "a_id": s.a_id,
                "b_id": s.b_id,
                "cluster_id": f"dupc-{s.a_id}",
                "status": "open",
                "fingerprint": "",
                "created_at": now,
                **values,
            }
        )
    elif existing["status"] in ("open", "cleared"):
        repo.update_suspicion(sid, {**values, "status": "open"})


# A group larger than this is not re-walked whole on every check: a unit importing hundreds of
# template-made applications would otherwise make each check cost O(group size) queries.
MAX_COMPONENT = 200


def _component(repo: DuplicateRepository, seeds: set[str]) -> tuple[set[str], list[dict[str, Any]]]:
    """Applications joined to ``seeds`` by open suspicions (at most MAX_COMPONENT), and those suspicions."""
    seen, todo, edges = set(), list(seeds), {}
    while todo and len(seen) < MAX_COMPONENT:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        for s in repo.suspicions_involving(x, ["open"]):
            edges[s["suspicion_id"]] = s
            todo += [s["a_id"], s["b_id"]]
    return seen, list(edges.values())


def recluster_and_announce(
    uow: ReviewUnitOfWork, repo: DuplicateRepository, seeds: set[str], now: dt.datetime
) -> list[str]:
    """Give every open suspicion around ``seeds`` its group's id; announce what is new or changed."""
    announced = []
    members, edges = _component(repo, seeds)
    # groups inside the component (a settlement may have split it)
    for group in cluster((e["a_id"], e["b_id"]) for e in edges):
        cluster_id = f"dupc-{min(group)}"
        for e in edges:
            if e["a_id"] not in group:
                continue
            fp = _fingerprint(e["score"], e["reasons"], cluster_id)
            if fp == e["fingerprint"] and cluster_id == e["cluster_id"]:
                continue
            repo.update_suspicion(e["suspicion_id"], {"cluster_id": cluster_id, "fingerprint": fp, "updated_at": now})
            uow.emit(
                SUSPECTED,
                f"duplicate/{e['suspicion_id']}",
                {
                    "suspicion_id": e["suspicion_id"],
                    "application_ids": [e["a_id"], e["b_id"]],
                    "call_ids": [e["a_call"], e["b_call"]],
                    "score": round(float(e["score"]), 4),
                    "reasons": [
                        {"code": r["code"], "message_zh": r["message_zh"], "message_en": r["message_en"]}
                        for r in e["reasons"]
                    ],
                    "cluster_id": cluster_id,
                    "cross_call": bool(e["cross_call"]),
                },
            )
            announced.append(e["suspicion_id"])
    return announced


def application_keys(signals: dict[str, Any]) -> set[str]:
    """The ``dup_keys`` rows of one application's stored signals."""
    keys = candidate_keys(ProjectSignals.from_dict(signals))
    return {posting_key(kind, v) for kind, values in keys.items() for v in values}


FLUSH_KEYS = 5000


def flush_postings(engine: sa.Engine, index: DuplicateIndex, chunk: int = FLUSH_KEYS) -> int:
    """Rewrite the posting of every dirty key from ``dup_keys``; returns how many keys.

    Each chunk is read, written to the engine and cleared under the postings lock (one
    transaction): if the engine fails, the keys stay dirty and the next pass writes them again."""
    done = 0
    while True:
        with engine.begin() as conn:
            lock_postings(conn)
            keys = dirty_keys(conn, chunk)
            if not keys:
                return done
            counts = holder_counts(conn, keys)
            holders = holders_of(conn, [k for k, n in counts.items() if n <= index.max_df])
            index.write(
                (posting_document(k, holders.get(k, []), index.max_df, n=counts[k]) for k in keys if k in counts),
                [k for k in keys if k not in counts],
            )
            clear_dirty(conn, keys)
        done += len(keys)


def sync_postings(engine: sa.Engine, index: DuplicateIndex, batch: int = 200) -> list[dict[str, Any]]:
    """Move the keys of up to ``batch`` pending signal versions into ``dup_keys`` (old keys out,
    new keys in; a withdrawn application: all out) and write the postings that changed.
    Returns the pending rows, to be checked next."""
    with engine.begin() as conn:
        # Under the lock the pending rows are read and their keys replaced in one step, so a
        # replica holding an older version of a row cannot write its keys over a newer one's.
        lock_postings(conn)
        rows = pending_checks(conn, batch)
        replace_keys(conn, {
            r["application_id"]: application_keys(r["signals"]) if r["status"] == "active" else set() for r in rows
        })
    flush_postings(engine, index)  # also what an earlier pass left dirty
    return rows


def sync_and_check(
    engine: sa.Engine, index: DuplicateIndex, make_uow: Callable[[], ReviewUnitOfWork], batch: int = 200
) -> int:
    """Write pending signal versions' postings, then check each; returns how many."""
    rows = sync_postings(engine, index, batch)
    if rows:
        with make_uow() as uow:
            check_pending(uow, index, rows)
    return len(rows)


def sync_all_keys(conn: sa.Connection) -> None:
    """``dup_keys`` from the stored signals of every active application (no dirty marks)."""
    drop_inactive_keys(conn)
    chunk: dict[str, set[str]] = {}
    for r in all_active_signals(conn):
        chunk[r["application_id"]] = application_keys(r["signals"])
        if len(chunk) >= 1000:
            replace_keys(conn, chunk, mark_dirty=False)
            chunk = {}
    replace_keys(conn, chunk, mark_dirty=False)


def rebuild_index(
    engine: sa.Engine, index: DuplicateIndex, progress: Callable[[int], None] | None = None
) -> str:
    """A new posting index from SQL, then the alias swap: ``dup_keys`` is first brought in line
    with the stored signals (it is empty after migration 0004), then every key's posting is
    written. Holds the postings lock throughout, so no replica writes postings meanwhile."""
    with engine.begin() as conn:
        lock_postings(conn, timeout_s=None)
        sync_all_keys(conn)
        # after filling millions of rows: without fresh statistics the planner scans the whole
        # table for a posting (1.1 s at 100k projects instead of < 1 ms through the primary key)
        analyse_keys(conn)
        clear_dirty(conn)  # the new index has every key as it is now
        docs = (posting_document(key, ids, index.max_df) for key, ids in all_holders(conn))
        return index.rebuild(docs, progress)
