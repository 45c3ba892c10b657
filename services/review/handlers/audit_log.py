"""Reading the audit log (who, what, when, before and after)."""

from __future__ import annotations

from typing import Any

from services.review.storage.unit_of_work import ReviewUnitOfWork


def entries(uow: ReviewUnitOfWork, entity_id: str | None, actor: str | None, action: str | None, limit: int,
            offset: int) -> dict[str, Any]:
    rows = uow.audit_log.entries(entity_id, actor, action, limit, offset)
    return {"items": [{k: getattr(r, k) for k in ("id", "at", "actor", "role", "action", "entity", "entity_id",
                                                  "before", "after", "reason")} for r in rows]}
