"""What every review use case needs: the clock, the call's rules, projects, and the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from gongyi import pii
from gongyi.http.auth import Principal
from gongyi.timestamps import rfc3339
from services.review.domain.call_rules import CallRules, call_rules
from services.review.domain.refusals import refuse
from services.review.storage.unit_of_work import ReviewUnitOfWork


def now() -> datetime:
    return datetime.now(UTC)


def plain(value: Any) -> Any:
    """JSON-safe copy (datetimes as ISO strings) for JSON columns and the audit log."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


@lru_cache(maxsize=64)
def _rules(document_json: str, version: int) -> CallRules:
    return call_rules(json.loads(document_json), version)


def findable(key: str, limit: int = 64) -> bool:
    """Keys that cannot exist (too long, NUL) are answered 404 without asking the database."""
    return 0 < len(key) <= limit and "\x00" not in key


def current_call(uow: ReviewUnitOfWork, call_id: str) -> tuple[dict[str, Any], CallRules]:
    row = None if not findable(call_id) else uow.calls.latest(call_id)
    if row is None:
        refuse("call_not_found", {"call_id": call_id})
    return row.document, _rules(json.dumps(row.document, sort_keys=True), row.version)


def project_or_404(uow: ReviewUnitOfWork, application_id: str) -> dict[str, Any]:
    project = None if not findable(application_id, 36) else uow.projects.get(application_id)
    if project is None:
        refuse("project_not_found", {"application_id": application_id})
    return project


def application_view(project: dict[str, Any]) -> dict[str, Any]:
    """The form as the domain reads it: the form plus what the unit added on forwarding."""
    forwarded = project.get("forwarded_at")
    return {
        **(project.get("form") or {}),
        "unit_code": project.get("unit_code"),
        "unit_opinion": project.get("unit_opinion"),
        "forwarded_at": rfc3339(forwarded) if isinstance(forwarded, datetime) else forwarded,
    }


def expert_id_of(principal: Principal) -> str:
    if not principal.expert:
        refuse("expert_scope_missing")
    return principal.expert


def may_see_personal_data(principal: Principal) -> bool:
    """Staff whose token carries ``pii: true`` may see contacts; nobody else in review does
    (the platform's one policy, gongyi/pii.py)."""
    return pii.may_see_personal_data(principal)


def audit(uow: ReviewUnitOfWork, principal: Principal, action: str, entity: str, entity_id: str,
          before: Any = None, after: Any = None, reason: str | None = None) -> None:
    """Who did what to which record, when, and the record before and after (same transaction)."""
    uow.audit_log.add(
        at=now(), actor=principal.sub, role=principal.role, action=action, entity=entity, entity_id=entity_id,
        before=plain(before) if before is not None else None, after=plain(after) if after is not None else None,
        reason=reason,
    )
