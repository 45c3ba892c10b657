"""Review's use cases for the spine: keep the project read model and its search index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from gongyi.db import UnitOfWork
from services.review.domain.projects import index_document
from services.review.storage.repository import (
    ProjectRepository,
    all_projects,
    count_projects,
    mark_indexed,
    unindexed,
)
from services.review.storage.search_index import ProjectIndex


def record_forwarded(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    """Store a forwarded application; a redelivered event changes nothing."""
    if not uow.claim(event, "review.record_forwarded"):
        return False
    ProjectRepository(uow.session).upsert_forwarded(event["data"])
    uow.commit()
    return True


def record_withdrawn(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    if not uow.claim(event, "review.record_withdrawn"):
        return False
    ProjectRepository(uow.session).set_status(event["data"]["application_id"], "withdrawn")
    uow.commit()
    return True


def sync_index(engine: sa.Engine, index: ProjectIndex, batch: int = 500) -> int:
    """Push projects whose index copy is behind; returns how many were written."""
    with engine.begin() as conn:
        rows = unindexed(conn, batch)
        if not rows:
            return 0
        index.bulk_upsert(index_document(r) for r in rows)
        mark_indexed(conn, {r["application_id"]: r["version"] for r in rows})
    return len(rows)


def reset_index_marks(engine: sa.Engine) -> None:
    """Mark every project as not indexed, so the sync loop writes the whole read model again."""
    from services.review.storage.tables import projects

    with engine.begin() as conn:
        conn.execute(projects.update().values(indexed_version=0))


def rebuild_index(engine: sa.Engine, index: ProjectIndex, progress: Callable[[int], None] | None = None) -> str:
    """A new index from SQL, then the alias swap; searches keep working throughout."""
    with engine.connect() as conn:
        total = count_projects(conn)
        name = index.rebuild((index_document(p) for p in all_projects(conn)), total, progress)
    return name
