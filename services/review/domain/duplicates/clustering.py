"""Group suspected pairs into duplicate groups (A~B and B~C: one group of three)."""

from __future__ import annotations

from collections.abc import Iterable


class UnionFind:
    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self._parent.setdefault(x, x)
        if parent != x:
            parent = self._parent[x] = self.find(parent)  # path compression
        return parent

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # Smaller id becomes root so results do not depend on input order.
            lo, hi = sorted((ra, rb))
            self._parent[hi] = lo

    def groups(self) -> list[set[str]]:
        out: dict[str, set[str]] = {}
        for x in self._parent:
            out.setdefault(self.find(x), set()).add(x)
        return [g for _, g in sorted(out.items())]


def cluster(suspicions: Iterable[object]) -> list[set[str]]:
    """Connected groups (size >= 2) of suspected pairs, ordered by their smallest id.

    Accepts ``Suspicion`` objects (anything with ``a_id``/``b_id``) or plain id pairs. Pairs
    staff settled as different should be filtered out first (``is_settled``), or the group
    would join them again.
    """
    uf = UnionFind()
    for s in suspicions:
        a, b = (s.a_id, s.b_id) if hasattr(s, "a_id") else tuple(s)  # type: ignore[attr-defined]
        uf.union(str(a), str(b))
    return [g for g in uf.groups() if len(g) >= 2]
