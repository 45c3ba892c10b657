"""What staff decided about a group of suspected duplicates.

- ``same_project``: one application is kept, the others are withdrawn or merged into it, and
  the decision is recorded. Pairs inside the group are settled and never raised again.
- ``different_projects``: the applications are distinct projects; every pair among them is
  suppressed for good, even if later edits make them look alike again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

from gongyi.errors import DomainError

SettlementKind = Literal["same_project", "different_projects"]
MergeAction = Literal["withdrawn", "merged"]


@dataclass(frozen=True)
class Settlement:
    kind: SettlementKind
    ids: frozenset[str]
    decided_by: str
    decided_at: dt.datetime
    keep_id: str | None = None  # same_project only
    action: MergeAction | None = None  # what happens to the others (same_project only)
    note: str = ""

    @property
    def others(self) -> frozenset[str]:
        """Applications to withdraw or merge (same_project), else empty."""
        if self.kind != "same_project" or self.keep_id is None:
            return frozenset()
        return self.ids - {self.keep_id}

    def covers(self, pair: Iterable[str]) -> bool:
        p = set(pair)
        return len(p) == 2 and p <= self.ids


def _check_ids(ids: Iterable[str]) -> frozenset[str]:
    s = frozenset(ids)
    if len(s) < 2:
        raise DomainError(
            "settlement_needs_two",
            "至少需要两个申报项目才能作出重复认定",
            "a settlement needs at least two applications",
            {"ids": sorted(s)},
        )
    return s


def settle_same_project(
    ids: Iterable[str],
    keep_id: str,
    decided_by: str,
    action: MergeAction = "withdrawn",
    note: str = "",
    decided_at: dt.datetime | None = None,
) -> Settlement:
    """Record that ``ids`` are one project: keep ``keep_id``, withdraw or merge the rest."""
    s = _check_ids(ids)
    if keep_id not in s:
        raise DomainError(
            "settlement_keep_not_in_group",
            "保留的项目必须属于该重复组",
            "the application to keep must belong to the group",
            {"keep_id": keep_id, "ids": sorted(s)},
        )
    return Settlement(
        "same_project", s, decided_by, decided_at or dt.datetime.now(dt.UTC), keep_id, action, note
    )


def settle_different_projects(
    ids: Iterable[str], decided_by: str, note: str = "", decided_at: dt.datetime | None = None
) -> Settlement:
    """Record that ``ids`` are distinct projects: their pairs are never flagged again."""
    return Settlement(
        "different_projects", _check_ids(ids), decided_by, decided_at or dt.datetime.now(dt.UTC), note=note
    )


def is_suppressed(pair: Iterable[str], settlements: Iterable[Settlement]) -> bool:
    """True if staff decided the two applications are different projects."""
    p = tuple(pair)
    return any(s.kind == "different_projects" and s.covers(p) for s in settlements)


def is_settled(pair: Iterable[str], settlements: Iterable[Settlement]) -> bool:
    """True if any decision (same or different) already covers the pair."""
    p = tuple(pair)
    return any(s.covers(p) for s in settlements)


def settled_pairs(settlements: Iterable[Settlement]) -> set[frozenset[str]]:
    """Every pair any settlement covers (for bulk filtering)."""
    return {frozenset(p) for s in settlements for p in combinations(sorted(s.ids), 2)}
