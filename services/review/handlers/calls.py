"""Call documents announced by intake (call.loaded.v1), kept per version."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gongyi.db import UnitOfWork
from services.review.handlers.common import current_call, now
from services.review.storage.tables import calls


def record_call_loaded(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    if not uow.claim(event, "review.record_call_loaded"):
        return False
    data = event["data"]
    exists = uow.session.execute(
        sa.select(calls.c.version).where(calls.c.call_id == data["call_id"], calls.c.version == data["version"])
    ).first()
    if exists is None:
        uow.session.execute(calls.insert().values(
            call_id=data["call_id"], version=data["version"], fingerprint=data["fingerprint"],
            document=data["document"], loaded_at=now()))
    uow.commit()
    return True


def call_summary(uow: UnitOfWork, call_id: str) -> dict[str, Any]:
    document, rules = current_call(uow.session, call_id)
    return {
        "call_id": call_id,
        "version": rules.version,
        "title": rules.title,
        "criteria": [{"code": c.code, "label": c.name_zh, "max_score": c.max_score, "weight": c.weight}
                     for c in rules.criteria],
        "categories": list(rules.categories),
        "review": document.get("review") or {},
        "quotas": document.get("quotas") or {},
    }
