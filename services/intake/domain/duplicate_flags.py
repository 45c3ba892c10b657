"""Duplicate flags: what intake keeps of the review service's near-duplicate findings.

Review decides what is a near-duplicate (``duplicate.suspected.v1``) and staff settle it there
(``duplicate.settled.v1``); intake stores one flag per application and suspicion so recommending
units and staff see it before forwarding, and applies a "same project, withdraw the other"
settlement to the application that is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPEN, SETTLED = "open", "settled"
DEFAULT_WITHDRAW_REASON = "经核查与另一申报为同一项目，按“每个项目限申报一次”由工作人员撤回"


@dataclass(frozen=True)
class Flag:
    """One application's view of one suspicion."""

    suspicion_id: str
    application_id: str
    other_application_id: str
    call_id: str | None
    other_call_id: str | None
    score: float | None
    reasons: list[dict[str, Any]]
    cluster_id: str | None
    cross_call: bool


def flags_from_suspicion(data: dict[str, Any]) -> list[Flag]:
    """Both sides of a suspicion: each application is flagged with the other."""
    ids = list(data["application_ids"])
    calls = list(data.get("call_ids") or [None, None])
    flags = []
    for i, j in ((0, 1), (1, 0)):
        flags.append(
            Flag(
                suspicion_id=data["suspicion_id"],
                application_id=ids[i],
                other_application_id=ids[j],
                call_id=calls[i],
                other_call_id=calls[j],
                score=data.get("score"),
                reasons=list(data.get("reasons") or []),
                cluster_id=data.get("cluster_id"),
                cross_call=bool(data.get("cross_call")),
            )
        )
    return flags


def to_withdraw(data: dict[str, Any]) -> list[str]:
    """Applications a settlement withdraws: every one but the kept one, when staff found the same
    project and chose to withdraw. Nothing otherwise (a merge is staff's bookkeeping, not a move)."""
    keep = data.get("keep_id")
    if data.get("outcome") != "same_project" or data.get("action") != "withdrawn" or not keep:
        return []
    if keep not in data["application_ids"]:
        return []  # a settlement that keeps neither side is malformed: withdraw nothing rather than both
    return [a for a in dict.fromkeys(data["application_ids"]) if a != keep]


def withdraw_reason(data: dict[str, Any]) -> str:
    note = (data.get("note") or "").strip()
    return f"{DEFAULT_WITHDRAW_REASON}：{note}" if note else DEFAULT_WITHDRAW_REASON
