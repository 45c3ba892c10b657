"""Reading and writing media's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.media.domain.access import Grant
from services.media.storage.tables import access_grants, evidence, upload_sessions


class EvidenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: dict[str, Any]) -> None:
        self.session.execute(evidence.insert().values(**row))

    def get(self, evidence_id: str, for_update: bool = False) -> dict[str, Any] | None:
        query = sa.select(evidence).where(evidence.c.id == evidence_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return dict(row._mapping) if row else None

    def many(self, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        rows = self.session.execute(sa.select(evidence).where(evidence.c.id.in_(ids))).all()
        return [dict(r._mapping) for r in rows]

    def update(self, evidence_id: str, **values: Any) -> None:
        self.session.execute(evidence.update().where(evidence.c.id == evidence_id).values(**values))

    def others_using_object(self, object_key: str, except_id: str) -> int:
        return int(
            self.session.execute(
                sa.select(sa.func.count())
                .select_from(evidence)
                .where(evidence.c.object_key == object_key, evidence.c.status == "stored", evidence.c.id != except_id)
            ).scalar()
            or 0
        )

    def screenshots_of(self, screenshot_ids: list[str]) -> list[dict[str, Any]]:
        """Media-report rows citing any of these screenshots."""
        if not screenshot_ids:
            return []
        rows = self.session.execute(
            sa.select(evidence).where(evidence.c.screenshot_evidence_id.in_(screenshot_ids))
        ).all()
        return [dict(r._mapping) for r in rows]

    def unattached_before(self, cutoff: datetime, limit: int = 500) -> list[dict[str, Any]]:
        rows = self.session.execute(
            sa.select(evidence)
            .where(evidence.c.status == "stored", evidence.c.created_at < cutoff)
            .order_by(evidence.c.created_at)
            .limit(limit)
        ).all()
        return [dict(r._mapping) for r in rows if not r.attached_to]


class UploadRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: dict[str, Any]) -> None:
        self.session.execute(upload_sessions.insert().values(**row))

    def get(self, upload_id: str, for_update: bool = False) -> dict[str, Any] | None:
        query = sa.select(upload_sessions).where(upload_sessions.c.id == upload_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return dict(row._mapping) if row else None

    def set_status(self, upload_id: str, status: str, evidence_id: str | None = None) -> None:
        self.session.execute(
            upload_sessions.update()
            .where(upload_sessions.c.id == upload_id)
            .values(status=status, evidence_id=evidence_id)
        )

    def expired_pending(self, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
        rows = self.session.execute(
            sa.select(upload_sessions)
            .where(upload_sessions.c.status == "pending", upload_sessions.c.expires_at < now)
            .limit(limit)
        ).all()
        return [dict(r._mapping) for r in rows]


def _grant(row: Any) -> Grant:
    return Grant(row.application_id, row.unit_code, frozenset(row.expert_ids or []), bool(row.published))


class GrantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, application_id: str) -> dict[str, Any] | None:
        row = self.session.execute(
            sa.select(access_grants).where(access_grants.c.application_id == application_id).with_for_update()
        ).first()
        return dict(row._mapping) if row else None

    def upsert(self, application_id: str, now: datetime, **values: Any) -> dict[str, Any]:
        current = self.get(application_id)
        if current is None:
            row = {"application_id": application_id, "unit_code": None, "evidence_ids": [], "expert_ids": [],
                   "published": False, "updated_at": now, **values}
            self.session.execute(access_grants.insert().values(**row))
            return row
        self.session.execute(
            access_grants.update()
            .where(access_grants.c.application_id == application_id)
            .values(updated_at=now, **values)
        )
        return {**current, **values}

    def for_applications(self, application_ids: list[str]) -> list[Grant]:
        if not application_ids:
            return []
        rows = self.session.execute(
            sa.select(access_grants).where(access_grants.c.application_id.in_(application_ids))
        ).all()
        return [_grant(r) for r in rows]
