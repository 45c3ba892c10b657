"""The optional quota per recommending unit per call (``quotas.per_unit``): how many applications
a unit may forward to one call. Forwarded ones count; one withdrawn afterwards frees its place."""

from __future__ import annotations

from gongyi.errors import Conflict


def quota_refusal(per_unit: int | None, already_forwarded: int, position: int) -> Conflict | None:
    """The refusal for the ``position``-th (1-based) item of this batch in one call, if over quota."""
    if per_unit is None or already_forwarded + position <= per_unit:
        return None
    return Conflict(
        "unit_quota_exceeded",
        f"本单位在本次征集中最多可推荐{per_unit}个项目，已推荐{already_forwarded}个",
        f"This unit may forward at most {per_unit} applications to this call; {already_forwarded} already forwarded",
        {"per_unit": per_unit, "already_forwarded": already_forwarded},
    )
