"""Review's use cases for the spine: keep the project read model and its search index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.review.domain.projects import index_document
from services.review.storage.repository import (
    ProjectRepository,
    all_projects,
    count_projects,
    mark_indexed,
    unindexed,
)
from services.review.storage.search_index import ProjectIndex
from services.review.storage.unit_of_work import ReviewUnitOfWork


def record_forwarded(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    """Store a forwarded application; a redelivered event changes nothing."""
    if not uow.claim(event, "review.record_forwarded"):
        return False
    uow.projects.upsert_forwarded(event["data"])
    uow.commit()
    return True


def record_withdrawn(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    if not uow.claim(event, "review.record_withdrawn"):
        return False
    uow.projects.set_status(event["data"]["application_id"], "withdrawn")
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
    with Session(engine) as session, session.begin():
        ProjectRepository(session).reset_index_marks()


def project_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return count_projects(conn)


def rebuild_index(engine: sa.Engine, index: ProjectIndex, progress: Callable[[int], None] | None = None) -> str:
    """A new index from SQL, then the alias swap; searches keep working throughout."""
    with engine.connect() as conn:
        total = count_projects(conn)
        name = index.rebuild((index_document(p) for p in all_projects(conn)), total, progress)
    return name
