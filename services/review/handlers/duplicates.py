"""Duplicate detection's use cases: keep each application's signals, check it against the
candidate index, record and announce suspicions, settle them (docs/duplicates.md).

Signals are written in the event handlers (SQL only). A background loop (``sync_and_check``)
writes the candidate keys of new signal versions to ``dup_keys`` and the changed postings to the
index, THEN checks each of them, so two copies arriving together still meet: whichever is
checked second finds the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from gongyi.errors import Conflict, InvalidInput, Issue, NotFound
from services.review.domain.duplicates import (
    SIGNALS_VERSION,
    ProjectSignals,
    Settlement,
    Suspicion,
    candidate_keys,
    cluster,
    compute_signals,
    find_suspicions,
    score_pair,
    settle_different_projects,
    settle_same_project,
)
from services.review.domain.duplicates.intake_form import application_source, evidence_ids, evidence_items
from services.review.storage.duplicates.index import DuplicateIndex, posting_document
from services.review.storage.duplicates.repository import (
    DuplicateRepository,
    all_active_signals,
    all_holders,
    analyse_keys,
    clear_dirty,
    dirty_keys,
    drop_inactive_keys,
    holders_of,
    lock_postings,
    pending_checks,
    replace_keys,
)
from services.review.storage.duplicates.tables import posting_key
from services.review.storage.unit_of_work import ReviewUnitOfWork

SUSPECTED = "duplicate.suspected.v1"
SETTLED = "duplicate.settled.v1"
_NS = uuid.UUID("5b0f6d1e-7a53-4d1c-9a43-2f1f0b3c8d21")


def suspicion_id_for(a_id: str, b_id: str) -> str:
    """One id per pair, whichever check found it first."""
    lo, hi = sorted((a_id, b_id))
    return str(uuid.uuid5(_NS, f"{lo}|{hi}"))


# -- signals, from events


def _recompute(repo: DuplicateRepository, source: dict[str, Any], ev_ids: list[str]) -> int:
    """New signals of one application; returns their version (1: the application is new here)."""
    signals = compute_signals(source, evidence_items(source, repo.evidence_of(ev_ids)))
    return repo.save_signals(
        source["id"], source["call_id"], source.get("unit_code"), source, signals.to_dict(), SIGNALS_VERSION
    )


def record_application(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    """Signals of a forwarded application (a re-forwarded one replaces them)."""
    if not uow.claim(event, "review.dup_application_forwarded"):
        return False
    data = event["data"]
    source = application_source(data)
    ev_ids = evidence_ids(data.get("form") or {})
    repo = uow.duplicates
    version = _recompute(repo, source, ev_ids)
    repo.link_evidence(source["id"], ev_ids, replace=version > 1)
    uow.commit()
    return True


def record_evidence(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    """Evidence facts; the applications already referring to it get new signals."""
    if not uow.claim(event, "review.dup_evidence_stored"):
        return False
    data = event["data"]
    repo = uow.duplicates
    repo.save_evidence(data)
    for app_id in repo.applications_using(data["evidence_id"]):
        row = repo.get_signals_row(app_id)
        if row and row["status"] == "active":
            _recompute(repo, row["source"], repo.evidence_ids_of(app_id))
    uow.commit()
    return True


def record_withdrawn(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    """A withdrawn application leaves the candidate index (its signals stay in SQL)."""
    if not uow.claim(event, "review.dup_application_withdrawn"):
        return False
    uow.duplicates.set_status(event["data"]["application_id"], "withdrawn")
    uow.commit()
    return True


# -- the check


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


def make_lookup(repo: DuplicateRepository, index: DuplicateIndex) -> Callable[[dict, str], list[ProjectSignals]]:
    """``find_suspicions``' lookup: candidate ids from the engine, their signals from SQL."""

    def lookup(keys: dict[str, list[str]], exclude_id: str) -> list[ProjectSignals]:
        ids = index.candidate_ids(keys, exclude_id)
        found = repo.signals_of(ids)
        return [ProjectSignals.from_dict(found[i]) for i in ids if i in found]

    return lookup


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
    lookup = make_lookup(repo, index)
    announced: list[str] = []
    for r in active:
        application_id = r["application_id"]
        signals = ProjectSignals.from_dict(r["signals"])
        found = find_suspicions(signals, lookup, _settlements(settled.get(application_id, [])))
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
            again = score_pair(signals, ProjectSignals.from_dict(other)) if other else None
            if again is not None:
                found.append(again)
            else:
                repo.update_suspicion(old["suspicion_id"], {"status": "cleared", "updated_at": now})
        for s in found:
            _upsert(repo, s, now)
        # no suspicion found and none open before (most applications): no group to walk
        if found or old_open:
            announced += _recluster_and_announce(uow, repo, {application_id}, now)
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


def _recluster_and_announce(
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
            holders = holders_of(conn, keys)
            index.write(
                (posting_document(k, holders[k], index.max_df) for k in keys if k in holders),
                [k for k in keys if k not in holders],
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


# -- staff


def _settlement_view(repo: DuplicateRepository, settlement_id: str | None) -> dict[str, Any] | None:
    if not settlement_id:
        return None
    s = repo.settlement(settlement_id)
    if s is None:
        return None
    return {
        "settlement_id": s["settlement_id"],
        "outcome": s["outcome"],
        "keep_id": s["keep_id"],
        "action": s["action"],
        "decided_by": s["decided_by"],
        "decided_at": s["decided_at"].isoformat() if s["decided_at"] else None,
        "note": s["note"],
    }


def _applications(repo: DuplicateRepository, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for i in ids:
        row = repo.get_signals_row(i)
        src = (row or {}).get("source") or {}
        out.append(
            {
                "application_id": i,
                "call_id": (row or {}).get("call_id"),
                "unit_code": src.get("unit_code"),
                "project_name": src.get("project_name"),
                "org_name": src.get("org_name"),
            }
        )
    return out


def suspicion_view(repo: DuplicateRepository, s: dict[str, Any], detail: bool = False) -> dict[str, Any]:
    view = {
        "suspicion_id": s["suspicion_id"],
        "application_ids": [s["a_id"], s["b_id"]],
        "call_ids": [s["a_call"], s["b_call"]],
        "score": s["score"],
        "reasons": s["reasons"],
        "counter_reasons": s["counter_reasons"],
        "cross_call": s["cross_call"],
        "cross_unit": s["cross_unit"],
        "cluster_id": s["cluster_id"],
        "status": s["status"],
        "created_at": s["created_at"].isoformat(),
        "updated_at": s["updated_at"].isoformat(),
        "settlement": _settlement_view(repo, s["settlement_id"]),
    }
    if detail:
        view["applications"] = _applications(repo, [s["a_id"], s["b_id"]])
        members = repo.cluster_members(s["cluster_id"]) if s["status"] == "open" else []
        view["cluster_application_ids"] = sorted({i for m in members for i in (m["a_id"], m["b_id"])})
    return view


def list_suspicions(
    uow: ReviewUnitOfWork, call_id: str | None, status: str | None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    repo = uow.duplicates
    total, rows = repo.list_suspicions(call_id, status, limit, offset)
    items = [suspicion_view(repo, r) for r in rows]
    clusters: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = clusters.setdefault(r["cluster_id"], {"cluster_id": r["cluster_id"], "application_ids": set(),
                                                   "suspicion_ids": []})
        c["application_ids"] |= {r["a_id"], r["b_id"]}
        c["suspicion_ids"].append(r["suspicion_id"])
    return {
        "total": total,
        "items": items,
        "clusters": [{**c, "application_ids": sorted(c["application_ids"])} for c in clusters.values()],
    }


def get_suspicion(uow: ReviewUnitOfWork, suspicion_id: str) -> dict[str, Any]:
    repo = uow.duplicates
    s = repo.get_suspicion(suspicion_id)
    if s is None:
        raise NotFound("duplicate_not_found", "未找到该疑似重复记录", "No such suspected duplicate",
                       {"suspicion_id": suspicion_id})
    return suspicion_view(repo, s, detail=True)


def suspicions_for(uow: ReviewUnitOfWork, application_id: str) -> list[dict[str, Any]]:
    """Open and settled suspicions involving one application (for screening and intake views)."""
    repo = uow.duplicates
    return [suspicion_view(repo, s) for s in repo.suspicions_involving(application_id, ["open", "settled"])]


def settle(
    uow: ReviewUnitOfWork,
    suspicion_id: str,
    outcome: str,
    decided_by: str,
    keep_id: str | None = None,
    action: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Staff's decision on one suspected pair; a pair settled as different is never raised again."""
    repo = uow.duplicates
    s = repo.get_suspicion(suspicion_id, lock=True)
    if s is None:
        raise NotFound("duplicate_not_found", "未找到该疑似重复记录", "No such suspected duplicate",
                       {"suspicion_id": suspicion_id})
    if s["status"] == "settled":
        raise Conflict("duplicate_already_settled", "该疑似重复已认定", "This suspected duplicate is already settled",
                       {"suspicion_id": suspicion_id, "settlement_id": s["settlement_id"]})
    ids = [s["a_id"], s["b_id"]]
    if outcome == "same_project":
        if keep_id is None:
            raise InvalidInput([Issue("keep_id_required", "认定为同一项目时须指定保留的申报",
                                      "keep_id is required for same_project", "keep_id")])
        decision = settle_same_project(ids, keep_id, decided_by, action or "withdrawn", note)
    else:
        decision = settle_different_projects(ids, decided_by, note)
    settlement_id = str(uuid.uuid4())
    repo.save_settlement(
        {
            "settlement_id": settlement_id,
            "suspicion_id": suspicion_id,
            "outcome": decision.kind,
            "application_ids": ids,
            "keep_id": decision.keep_id,
            "action": decision.action,
            "decided_by": decided_by,
            "decided_at": decision.decided_at,
            "note": note,
        },
        [(s["a_id"], s["b_id"])],
    )
    repo.update_suspicion(
        suspicion_id, {"status": "settled", "settlement_id": settlement_id, "updated_at": decision.decided_at}
    )
    uow.emit(
        SETTLED,
        f"duplicate/{suspicion_id}",
        {
            "suspicion_id": suspicion_id,
            "application_ids": ids,
            "outcome": decision.kind,
            "keep_id": decision.keep_id,
            "action": decision.action,
            "decided_by": decided_by,
            "note": note,
        },
    )
    # the rest of the group may split now that this pair is closed
    _recluster_and_announce(uow, repo, set(ids), decision.decided_at)
    uow.commit()
    return suspicion_view(repo, repo.get_suspicion(suspicion_id), detail=True)
