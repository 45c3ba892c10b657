"""Reading and writing duplicate detection's tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gongyi.db import conflict_insert
from services.review.domain.duplicates.index import DF_CAP
from services.review.storage.duplicates.tables import (
    dup_application_evidence,
    dup_evidence,
    dup_keys,
    dup_keys_dirty,
    dup_settled_pairs,
    dup_settlements,
    dup_signals,
    dup_suspicions,
)


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping)


def _chunks(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    # IN lists stay under SQLite's bound-parameter limit
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


class DuplicateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- signals
    def get_signals_row(self, application_id: str) -> dict[str, Any] | None:
        r = self.session.execute(sa.select(dup_signals).where(dup_signals.c.application_id == application_id)).first()
        return _row(r) if r else None

    def save_signals(
        self, application_id: str, call_id: str, unit_code: str | None, source: dict, signals: dict, version: str
    ) -> int:
        """Insert or replace one application's signals; returns the new row version."""
        now = datetime.now(UTC)
        values = dict(
            call_id=call_id,
            unit_code=unit_code,
            status="active",
            source=source,
            signals=signals,
            signals_version=version,
            updated_at=now,
        )
        # one upsert: a first version, or the next one (concurrent saves serialise on the row)
        insert = conflict_insert(self.session.get_bind().dialect.name)
        stmt = (
            insert(dup_signals)
            .values(application_id=application_id, version=1, **values)
            .on_conflict_do_update(index_elements=[dup_signals.c.application_id],
                                   set_={**values, "version": dup_signals.c.version + 1})
            .returning(dup_signals.c.version)
        )
        return self.session.execute(stmt).scalar_one()

    def set_status(self, application_id: str, status: str) -> bool:
        result = self.session.execute(
            dup_signals.update()
            .where(dup_signals.c.application_id == application_id)
            .values(status=status, version=dup_signals.c.version + 1, updated_at=datetime.now(UTC))
        )
        return result.rowcount > 0

    def signals_of(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Signals dicts of active applications among ``ids``."""
        ids = list(ids)
        if not ids:
            return {}
        rows = self.session.execute(
            sa.select(dup_signals.c.application_id, dup_signals.c.signals).where(
                dup_signals.c.application_id.in_(ids), dup_signals.c.status == "active"
            )
        ).all()
        return {r.application_id: r.signals for r in rows}

    def active_count(self) -> int:
        """How many applications the candidate index holds: the N of the terms' IDF."""
        return int(self.session.execute(
            sa.select(sa.func.count()).select_from(dup_signals).where(dup_signals.c.status == "active")
        ).scalar_one())

    def mark_checked_many(self, versions: dict[str, int]) -> None:
        """Mark each application checked at its version (never backwards: a newer version stays
        pending). One UPDATE per distinct version, nearly always one or two."""
        by_version: dict[int, list[str]] = {}
        for app_id, version in versions.items():
            by_version.setdefault(version, []).append(app_id)
        for version, ids in by_version.items():
            for chunk in _chunks(ids):
                self.session.execute(
                    dup_signals.update()
                    .where(dup_signals.c.application_id.in_(chunk), dup_signals.c.checked_version < version)
                    .values(checked_version=version)
                )

    def save_evidence(self, data: dict[str, Any]) -> None:
        stored_at = datetime.fromisoformat(data["stored_at"]) if data.get("stored_at") else None
        values = dict(
            kind=data["kind"],
            sha256=data.get("sha256"),
            phash=data.get("phash"),
            normalised_link=data.get("normalised_link"),
            stored_at=stored_at,
        )
        exists = self.session.execute(
            sa.select(dup_evidence.c.evidence_id).where(dup_evidence.c.evidence_id == data["evidence_id"])
        ).first()
        if exists:
            self.session.execute(
                dup_evidence.update().where(dup_evidence.c.evidence_id == data["evidence_id"]).values(**values)
            )
        else:
            self.session.execute(dup_evidence.insert().values(evidence_id=data["evidence_id"], **values))

    def evidence_of(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = list(ids)
        if not ids:
            return []
        rows = self.session.execute(sa.select(dup_evidence).where(dup_evidence.c.evidence_id.in_(ids)))
        return [_row(r) for r in rows]

    def link_evidence(self, application_id: str, evidence_ids: list[str], replace: bool = True) -> None:
        """The evidence an application refers to; ``replace=False`` for an application seen for
        the first time (no links to remove: one statement fewer per new application)."""
        if replace:
            self.session.execute(
                dup_application_evidence.delete().where(dup_application_evidence.c.application_id == application_id)
            )
        if evidence_ids:
            self.session.execute(
                dup_application_evidence.insert(),
                [{"application_id": application_id, "evidence_id": e} for e in evidence_ids],
            )

    def stale_signal_ids(self, current_version: str, limit: int) -> list[str]:
        """Active applications whose signals an older detector computed."""
        return list(self.session.execute(
            sa.select(dup_signals.c.application_id)
            .where(dup_signals.c.status == "active", dup_signals.c.signals_version != current_version)
            .order_by(dup_signals.c.application_id).limit(limit)).scalars())

    def evidence_ids_of(self, application_id: str) -> list[str]:
        return list(
            self.session.execute(
                sa.select(dup_application_evidence.c.evidence_id).where(
                    dup_application_evidence.c.application_id == application_id
                )
            ).scalars()
        )

    def applications_using(self, evidence_id: str) -> list[str]:
        return list(
            self.session.execute(
                sa.select(dup_application_evidence.c.application_id).where(
                    dup_application_evidence.c.evidence_id == evidence_id
                )
            ).scalars()
        )

    # -- suspicions
    def get_suspicion(self, suspicion_id: str, lock: bool = False) -> dict[str, Any] | None:
        q = sa.select(dup_suspicions).where(dup_suspicions.c.suspicion_id == suspicion_id)
        if lock:
            q = q.with_for_update()
        r = self.session.execute(q).first()
        return _row(r) if r else None

    def suspicions_involving(self, application_id: str, statuses: Iterable[str] | None = None) -> list[dict[str, Any]]:
        q = sa.select(dup_suspicions).where(
            sa.or_(dup_suspicions.c.a_id == application_id, dup_suspicions.c.b_id == application_id)
        )
        if statuses is not None:
            q = q.where(dup_suspicions.c.status.in_(list(statuses)))
        return [_row(r) for r in self.session.execute(q.order_by(dup_suspicions.c.score.desc()))]

    def insert_suspicion(self, values: dict[str, Any]) -> None:
        self.session.execute(dup_suspicions.insert().values(**values))

    def update_suspicion(self, suspicion_id: str, values: dict[str, Any]) -> None:
        self.session.execute(
            dup_suspicions.update().where(dup_suspicions.c.suspicion_id == suspicion_id).values(**values)
        )

    def list_suspicions(
        self, call_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        q = sa.select(dup_suspicions)
        if call_id:
            q = q.where(sa.or_(dup_suspicions.c.a_call == call_id, dup_suspicions.c.b_call == call_id))
        if status:
            q = q.where(dup_suspicions.c.status == status)
        total = self.session.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
        rows = self.session.execute(
            q.order_by(dup_suspicions.c.score.desc(), dup_suspicions.c.suspicion_id).limit(limit).offset(offset)
        )
        return total, [_row(r) for r in rows]

    def cluster_members(self, cluster_id: str) -> list[dict[str, Any]]:
        return [
            _row(r)
            for r in self.session.execute(
                sa.select(dup_suspicions).where(
                    dup_suspicions.c.cluster_id == cluster_id, dup_suspicions.c.status == "open"
                )
            )
        ]

    # -- settlements
    def settled_pairs_for(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The settled pairs of each of ``ids`` (absent: none), in two indexed reads per chunk."""
        return self._pairs_by_member(dup_settled_pairs, ids)

    def open_suspicions_for(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The open suspicions of each of ``ids`` (absent: none), best score first."""
        return self._pairs_by_member(dup_suspicions, ids, dup_suspicions.c.status == "open")

    def _pairs_by_member(
        self, table: sa.Table, ids: list[str], *where: sa.ColumnElement[bool]
    ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        wanted = set(ids)
        for chunk in _chunks(ids):
            # a_id and b_id each have their own index: two reads, not one OR that scans
            for column in (table.c.a_id, table.c.b_id):
                for r in self.session.execute(sa.select(table).where(column.in_(chunk), *where)):
                    row = _row(r)
                    for member in {row["a_id"], row["b_id"]} & wanted:
                        if row not in out.setdefault(member, []):
                            out[member].append(row)
        for rows in out.values():
            if "score" in rows[0]:
                rows.sort(key=lambda x: -x["score"])
        return out

    def save_settlement(self, values: dict[str, Any], pairs: list[tuple[str, str]]) -> None:
        self.session.execute(dup_settlements.insert().values(**values))
        for a, b in pairs:
            exists = self.session.execute(
                sa.select(dup_settled_pairs.c.a_id).where(dup_settled_pairs.c.a_id == a, dup_settled_pairs.c.b_id == b)
            ).first()
            row = {"outcome": values["outcome"], "settlement_id": values["settlement_id"]}
            if exists:
                self.session.execute(
                    dup_settled_pairs.update()
                    .where(dup_settled_pairs.c.a_id == a, dup_settled_pairs.c.b_id == b)
                    .values(**row)
                )
            else:
                self.session.execute(dup_settled_pairs.insert().values(a_id=a, b_id=b, **row))

    def settlement(self, settlement_id: str) -> dict[str, Any] | None:
        r = self.session.execute(
            sa.select(dup_settlements).where(dup_settlements.c.settlement_id == settlement_id)
        ).first()
        return _row(r) if r else None


def pending_checks(conn: sa.Connection, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            dup_signals.c.application_id,
            dup_signals.c.call_id,
            dup_signals.c.status,
            dup_signals.c.signals,
            dup_signals.c.version,
        )
        .where(dup_signals.c.checked_version < dup_signals.c.version)
        .order_by(dup_signals.c.updated_at)
        .limit(limit)
    ).all()
    return [_row(r) for r in rows]


def all_active_signals(conn: sa.Connection, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    last = ""
    while True:
        rows = conn.execute(
            sa.select(dup_signals.c.application_id, dup_signals.c.call_id, dup_signals.c.signals)
            .where(dup_signals.c.application_id > last, dup_signals.c.status == "active")
            .order_by(dup_signals.c.application_id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for r in rows:
            yield _row(r)
        last = rows[-1].application_id


# -- candidate keys and postings (only under ``lock_postings``)

# One PostgreSQL advisory lock serialises every change to ``dup_keys`` and every posting write,
# whichever review replica runs its loop: a posting is recomputed and written while no one else
# can change its key, so writes reach the engine in commit order and the last one is current.
POSTINGS_LOCK = 0x6475705F6B657973  # "dup_keys"


def lock_postings(conn: sa.Connection, timeout_s: float | None = 60.0) -> None:
    """Take the postings lock for the current transaction (released at commit or rollback).
    Waits at most ``timeout_s`` (another replica's rebuild holds it for long), then raises."""
    if conn.dialect.name != "postgresql":
        return  # SQLite (embedded mode): one process, and the database serialises its writers
    if timeout_s is not None:
        conn.execute(sa.text(f"SET LOCAL lock_timeout = '{int(timeout_s * 1000)}ms'"))
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(POSTINGS_LOCK)))


def keys_of(conn: sa.Connection, application_ids: Iterable[str]) -> dict[str, set[str]]:
    ids = list(application_ids)
    out: dict[str, set[str]] = {i: set() for i in ids}
    if ids:
        rows = conn.execute(
            sa.select(dup_keys.c.application_id, dup_keys.c.key).where(dup_keys.c.application_id.in_(ids))
        )
        for app_id, key in rows:
            out[app_id].add(key)
    return out


def replace_keys(conn: sa.Connection, wanted: dict[str, set[str]], mark_dirty: bool = True) -> set[str]:
    """Make ``dup_keys`` hold exactly ``wanted[app]`` for each application given (an empty set
    takes it out); returns the keys that changed, marked dirty unless ``mark_dirty`` is False."""
    current = keys_of(conn, wanted)
    added = [{"key": k, "application_id": a} for a, keys in wanted.items() for k in keys - current[a]]
    changed = {r["key"] for r in added}
    for app_id, keys in wanted.items():
        gone = current[app_id] - keys
        if gone:
            conn.execute(dup_keys.delete().where(dup_keys.c.application_id == app_id, dup_keys.c.key.in_(gone)))
            changed |= gone
    if added:
        conn.execute(dup_keys.insert(), added)
    if changed and mark_dirty:
        mark_dirty_keys(conn, changed)
    return changed


def mark_dirty_keys(conn: sa.Connection, keys: Iterable[str], chunk: int = 1000) -> None:
    """Mark postings to be written again: one multi-row ``INSERT … ON CONFLICT DO NOTHING`` per
    chunk. (Given as executemany, psycopg2 ran one statement per key: 35 round trips per
    application in the pipeline benchmark.) Chunks stay under SQLite's bound-parameter limit."""
    rows = [{"key": k} for k in sorted(keys)]
    insert = conflict_insert(conn.dialect.name)
    for i in range(0, len(rows), chunk):
        conn.execute(insert(dup_keys_dirty).values(rows[i : i + chunk]).on_conflict_do_nothing())


def drop_inactive_keys(conn: sa.Connection) -> int:
    """Keys of applications that are no longer active (or no longer exist)."""
    active = sa.select(dup_signals.c.application_id).where(
        dup_signals.c.application_id == dup_keys.c.application_id, dup_signals.c.status == "active"
    )
    return conn.execute(dup_keys.delete().where(~active.exists())).rowcount


def analyse_keys(conn: sa.Connection) -> None:
    """Fresh planner statistics for ``dup_keys`` (after a bulk fill)."""
    conn.execute(sa.text("ANALYZE dup_keys"))


def dirty_keys(conn: sa.Connection, limit: int) -> list[str]:
    return list(conn.execute(sa.select(dup_keys_dirty.c.key).limit(limit)).scalars())


def clear_dirty(conn: sa.Connection, keys: Iterable[str] | None = None) -> None:
    q = dup_keys_dirty.delete()
    if keys is not None:
        q = q.where(dup_keys_dirty.c.key.in_(list(keys)))
    conn.execute(q)


def _grouped(rows: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    # rows ordered by key (the primary key's order): each key with its holders, on any database
    for key, pairs in groupby(rows, key=lambda r: r[0]):
        yield key, [app_id for _, app_id in pairs]


def holders_of(conn: sa.Connection, keys: Iterable[str]) -> dict[str, list[str]]:
    """Applications holding each of ``keys`` (keys nobody holds are absent)."""
    keys = list(keys)
    if not keys:
        return {}
    rows = conn.execute(
        sa.select(dup_keys.c.key, dup_keys.c.application_id).where(dup_keys.c.key.in_(keys)).order_by(dup_keys.c.key)
    )
    return dict(_grouped(rows.tuples()))


# A key's holders are counted up to DF_CAP: a common word's exact count would cost a scan of its
# tens of thousands of rows on every write (0.9 s per application at 100k projects). Above it the
# word is common anyway; its IDF is taken at this count, as the in-memory index does.
COUNT_CAP = DF_CAP
_COUNT_CHUNK = 200


def holder_counts(conn: sa.Connection, keys: Iterable[str], cap: int = COUNT_CAP) -> dict[str, int]:
    """How many applications hold each of ``keys``, counted up to ``cap`` (absent: none). Each
    count reads at most ``cap`` index entries, so writing a common word's posting costs the same
    at 1k and 100k projects, and its thousands of holders never come into Python."""
    keys = list(keys)
    out: dict[str, int] = {}
    for start in range(0, len(keys), _COUNT_CHUNK):
        part = keys[start : start + _COUNT_CHUNK]
        counts = [
            sa.select(sa.literal(k).label("key"), sa.func.count().label("n")).select_from(
                sa.select(sa.literal(1).label("one")).where(dup_keys.c.key == k).limit(cap).subquery()
            )
            for k in part
        ]
        for k, n in conn.execute(sa.union_all(*counts)).tuples():
            if n:
                out[k] = int(n)
    return out


def all_holders(conn: sa.Connection, chunk: int = 5000) -> Iterator[tuple[str, list[str]]]:
    """Every key with its holders, streamed (a server-side cursor: millions of keys at 100k projects)."""
    result = conn.execution_options(stream_results=True, yield_per=chunk).execute(
        sa.select(dup_keys.c.key, dup_keys.c.application_id).order_by(dup_keys.c.key, dup_keys.c.application_id)
    )
    yield from _grouped(result.tuples())
