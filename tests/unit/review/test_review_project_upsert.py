"""Review's copy of a forwarded application: the first forward inserts version 1, a re-forward
replaces the copy and bumps the version, so the index sync writes it again."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.review.storage.repository import ProjectRepository
from services.review.storage.tables import metadata, projects


def _data(name: str) -> dict:
    return {"application_id": "a1", "call_id": "c1", "call_version": 1, "unit_code": "u1", "project_name": name,
            "category": "education", "form": {"project_name": name}, "unit_opinion": "同意",
            "forwarded_at": "2026-03-01T10:00:00+08:00"}


def test_reforward_replaces_the_copy_and_bumps_the_version(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    metadata.create_all(engine, tables=[projects])
    with Session(engine) as session:
        repo = ProjectRepository(session)
        repo.upsert_forwarded(_data("第一版"))
        session.execute(projects.update().values(indexed_version=1))
        repo.upsert_forwarded(_data("第二版"))
        session.commit()
        row = repo.get("a1")
    assert (row["version"], row["indexed_version"], row["project_name"]) == (2, 1, "第二版")
    assert row["form"] == {"project_name": "第二版"} and row["status"] == "forwarded"
