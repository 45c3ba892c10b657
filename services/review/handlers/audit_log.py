"""Reading the audit log (who, what, when, before and after)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gongyi.db import UnitOfWork
from services.review.storage.tables import audit_log


def entries(uow: UnitOfWork, entity_id: str | None, actor: str | None, action: str | None, limit: int,
            offset: int) -> dict[str, Any]:
    q = sa.select(audit_log)
    if entity_id:
        q = q.where(audit_log.c.entity_id.startswith(entity_id, autoescape=True))
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if action:
        q = q.where(audit_log.c.action == action)
    rows = uow.session.execute(q.order_by(audit_log.c.id.desc()).limit(limit).offset(offset)).all()
    return {"items": [{k: getattr(r, k) for k in ("id", "at", "actor", "role", "action", "entity", "entity_id",
                                                  "before", "after", "reason")} for r in rows]}
