"""Call documents announced by intake (call.loaded.v1), kept per version."""

from __future__ import annotations

from typing import Any

from services.review.handlers.common import current_call, now
from services.review.storage.unit_of_work import ReviewUnitOfWork


def record_call_loaded(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    if not uow.claim(event, "review.record_call_loaded"):
        return False
    data = event["data"]
    if not uow.calls.has_version(data["call_id"], data["version"]):
        uow.calls.add(data["call_id"], data["version"], data["fingerprint"], data["document"], now())
    uow.commit()
    return True


def call_summary(uow: ReviewUnitOfWork, call_id: str) -> dict[str, Any]:
    document, rules = current_call(uow, call_id)
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
