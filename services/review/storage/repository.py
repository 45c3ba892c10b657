"""Reading and writing review's project read model."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gongyi.db import conflict_insert
from services.review.storage.tables import projects


@cache
def _upsert_statement(dialect: str) -> Any:
    """One INSERT .. ON CONFLICT statement (a round trip instead of select-then-write), built once
    per dialect; a re-forwarded application replaces the copy and bumps its version."""
    stmt = conflict_insert(dialect)(projects)
    kept = ("application_id", "version", "indexed_version")
    return stmt.on_conflict_do_update(
        index_elements=[projects.c.application_id],
        set_={**{c.name: stmt.excluded[c.name] for c in projects.c if c.name not in kept},
              "version": projects.c.version + 1},
    )


class ProjectRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_forwarded(self, data: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        forwarded_at = datetime.fromisoformat(data["forwarded_at"]) if data.get("forwarded_at") else None
        values = dict(
            call_id=data["call_id"],
            call_version=data["call_version"],
            unit_code=data.get("unit_code"),
            status="forwarded",
            project_name=data.get("project_name"),
            category=data.get("category"),
            form=data["form"],
            unit_opinion=data.get("unit_opinion"),
            forwarded_at=forwarded_at,
            updated_at=now,
        )
        self.session.execute(
            _upsert_statement(self.session.get_bind().dialect.name),
            {"application_id": data["application_id"], "version": 1, "indexed_version": 0, **values},
        )

    def set_status(self, application_id: str, status: str) -> bool:
        result = self.session.execute(
            projects.update()
            .where(projects.c.application_id == application_id)
            .values(status=status, version=projects.c.version + 1, updated_at=datetime.now(UTC))
        )
        return result.rowcount > 0

    def get(self, application_id: str) -> dict[str, Any] | None:
        row = self.session.execute(sa.select(projects).where(projects.c.application_id == application_id)).first()
        return dict(row._mapping) if row else None


def unindexed(conn: sa.Connection, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(projects).where(projects.c.indexed_version < projects.c.version).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def mark_indexed(conn: sa.Connection, versions: dict[str, int]) -> None:
    """One UPDATE per distinct version (nearly always one), not one per project."""
    by_version: dict[int, list[str]] = {}
    for app_id, version in versions.items():
        by_version.setdefault(version, []).append(app_id)
    for version, ids in by_version.items():
        for i in range(0, len(ids), 1000):  # under SQLite's bound-parameter limit
            conn.execute(
                projects.update()
                .where(projects.c.application_id.in_(ids[i : i + 1000]), projects.c.indexed_version < version)
                .values(indexed_version=version)
            )


def all_projects(conn: sa.Connection, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    last = ""
    while True:
        rows = conn.execute(
            sa.select(projects).where(projects.c.application_id > last).order_by(projects.c.application_id).limit(chunk)
        ).all()
        if not rows:
            return
        for r in rows:
            yield dict(r._mapping)
        last = rows[-1].application_id


def count_projects(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(projects)).scalar_one()
