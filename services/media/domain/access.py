"""Who may read a piece of evidence (metadata and download link).

The owner (the applicant who uploaded it), staff, the recommending unit of an application it is
attached to, an expert assigned to such an application, and anyone once the project is
published. Grants come from other services' events (see docs/media.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Viewer:
    role: str
    sub: str
    unit: str | None = None
    expert: str | None = None


@dataclass(frozen=True)
class Grant:
    """One application's access facts: its unit, its assigned experts, whether it is published."""

    application_id: str
    unit_code: str | None = None
    expert_ids: frozenset[str] = field(default_factory=frozenset)
    published: bool = False


def can_read(viewer: Viewer | None, owner_sub: str, public: bool, grants: Iterable[Grant]) -> bool:
    if public:
        return True
    grants = list(grants)
    if any(g.published for g in grants):
        return True
    if viewer is None:
        return False
    if viewer.role == "staff":
        return True
    if viewer.role == "applicant" and viewer.sub == owner_sub:
        return True
    if viewer.role == "unit" and viewer.unit:
        return any(g.unit_code == viewer.unit for g in grants)
    if viewer.role == "expert":
        ids = {i for i in (viewer.expert, viewer.sub) if i}
        return any(ids & g.expert_ids for g in grants)
    return False


def can_delete(viewer: Viewer, owner_sub: str) -> bool:
    return viewer.role == "staff" or (viewer.role == "applicant" and viewer.sub == owner_sub)
