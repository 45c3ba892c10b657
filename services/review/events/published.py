"""The events review sends (routing key = type). Schemas: contracts/events/<type>.schema.json.

None of them carries personal data: ``selection.confirmed.v1`` is what publish shows the public.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gongyi.timestamps import rfc3339

SCREENING_DECIDED = "screening.decided.v1"
ASSIGNMENT_MADE = "assignment.made.v1"
ASSIGNMENT_REMOVED = "assignment.removed.v1"
REVIEW_SUBMITTED = "review.submitted.v1"
SELECTION_CONFIRMED = "selection.confirmed.v1"
REVIEW_DUE = "review.due.v1"


def screening_decided(application_id: str, call_id: str, decision: str, reason: str, by: str,
                      at: datetime) -> dict[str, Any]:
    return {"application_id": application_id, "call_id": call_id, "decision": decision, "reason": reason,
            "decided_by": by, "decided_at": rfc3339(at)}


def assignment(application_id: str, call_id: str, expert_id: str, reason: str) -> dict[str, Any]:
    return {"application_id": application_id, "call_id": call_id, "expert_id": expert_id, "reason": reason}


def review_submitted(review_id: str, application_id: str, expert_id: str, total: float,
                     at: datetime) -> dict[str, Any]:
    return {"review_id": review_id, "application_id": application_id, "expert_id": expert_id,
            "total": round(total, 6), "submitted_at": rfc3339(at)}


def review_due(call_id: str, expert_id: str, due_at: datetime, pending: list[str], overdue: bool) -> dict[str, Any]:
    return {"call_id": call_id, "expert_id": expert_id, "due_at": rfc3339(due_at), "pending": pending,
            "pending_count": len(pending), "overdue": overdue}
