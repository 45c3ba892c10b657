"""The events media sends (routing key = type) and what each carries.

Schemas: contracts/events/<type>.schema.json. ``owner_sub`` is personal data (an account id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gongyi.timestamps import rfc3339

EVIDENCE_STORED = "evidence.stored.v1"
EVIDENCE_REJECTED = "evidence.rejected.v1"
EVIDENCE_DELETED = "evidence.deleted.v1"


def subject(evidence_id: str) -> str:
    return f"evidence/{evidence_id}"


def _iso(value: datetime | None) -> str | None:
    return rfc3339(value)


def stored_data(row: dict[str, Any]) -> dict[str, Any]:
    published_on = row.get("published_on")
    return {
        "evidence_id": row["id"],
        "owner_sub": row["owner_sub"],
        "kind": row["kind"],
        "mime": row.get("mime"),
        "size": row.get("size"),
        "sha256": row.get("sha256"),
        "phash": row.get("phash"),
        "phash_bands": list(row.get("phash_bands") or []),
        "width": row.get("width"),
        "height": row.get("height"),
        "duration_s": row.get("duration_s"),
        "normalised_link": row.get("normalised_link"),
        "outlet": row.get("outlet"),
        "title": row.get("title"),
        "published_on": published_on.isoformat() if published_on else None,
        "screenshot_evidence_id": row.get("screenshot_evidence_id"),
        "warnings": [
            {"code": w["code"], "message_zh": w["message_zh"], "message_en": w["message_en"],
             "details": dict(w.get("details") or {})}
            for w in row.get("warnings") or []
        ],
        "stored_at": _iso(row.get("stored_at")),
    }


def rejected_data(
    evidence_id: str, owner_sub: str, code: str, message_zh: str, message_en: str, at: datetime
) -> dict[str, Any]:
    return {
        "evidence_id": evidence_id,
        "owner_sub": owner_sub,
        "code": code,
        "message_zh": message_zh,
        "message_en": message_en,
        "rejected_at": at.isoformat(),
    }


def deleted_data(evidence_id: str, owner_sub: str, reason: str, at: datetime) -> dict[str, Any]:
    return {"evidence_id": evidence_id, "owner_sub": owner_sub, "reason": reason, "deleted_at": at.isoformat()}
