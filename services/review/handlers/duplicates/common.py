"""What the duplicate use cases share: the event types they emit and the one id per pair."""

from __future__ import annotations

import uuid

SUSPECTED = "duplicate.suspected.v1"
SETTLED = "duplicate.settled.v1"
_NS = uuid.UUID("5b0f6d1e-7a53-4d1c-9a43-2f1f0b3c8d21")


def suspicion_id_for(a_id: str, b_id: str) -> str:
    """One id per pair, whichever check found it first."""
    lo, hi = sorted((a_id, b_id))
    return str(uuid.uuid5(_NS, f"{lo}|{hi}"))
