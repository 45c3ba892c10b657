"""Ranking and the proposed selection (终评建议名单).

Order, best first (each key only breaks ties left by the ones before it):

1. higher aggregate score (the method's statistic),
2. higher median total,
3. more reviews,
4. higher mean score on the first criterion in the call's order (规范性 in 2024),
5. earlier ``forwarded_at`` (missing sorts last),
6. smaller application id (always unique, so the order is total).

Scores are compared rounded to 9 decimals, so floating-point noise never decides a rank. Each
ranked entry names the key that separated it from the entry above (``tie_break``), so staff can
see where a tie was decided by rule rather than by score.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from gongyi.errors import InvalidInput, Issue
from gongyi.timestamps import rfc3339
from services.review.domain.refusals import issue

from .aggregation import AggregationMethod, AggregationResult

TIE_KEYS = ("score", "median", "n_reviews", "first_criterion", "forwarded_at", "project_id")


@dataclass(frozen=True)
class ProjectMeta:
    project_id: str
    category: str
    forwarded_at: datetime | None = None


@dataclass(frozen=True)
class RankedProject:
    project_id: str
    category: str
    rank: int
    category_rank: int
    score: float
    median: float
    n_reviews: int
    first_criterion: float
    forwarded_at: str | None
    disagreement: bool
    tie_break: str | None  # the key that put this entry below the previous one


def _r(x: float) -> float:
    return round(x, 9)


def sort_key(score: float, median: float, n_reviews: int, first: float, forwarded_at: datetime | None,
             project_id: str) -> tuple[Any, ...]:
    ts = forwarded_at.timestamp() if forwarded_at is not None else math.inf
    return (-_r(score), -_r(median), -n_reviews, -_r(first), ts, project_id)


def rank(
    result: AggregationResult,
    meta: Mapping[str, ProjectMeta],
    criteria_order: Sequence[str] = (),
) -> tuple[RankedProject, ...]:
    """Overall ranks (1..n) and ranks within each category, by the documented keys."""
    rows = []
    for p in result.projects:
        m = meta.get(p.project_id) or ProjectMeta(p.project_id, "")
        means = dict(p.criterion_means)
        first_code = criteria_order[0] if criteria_order else (p.criterion_means[0][0] if p.criterion_means else None)
        first = means.get(first_code, 0.0) if first_code else 0.0
        key = sort_key(p.score, p.median, p.n_reviews, first, m.forwarded_at, p.project_id)
        rows.append((key, p, m, first))
    rows.sort(key=lambda row: row[0])
    ranked = []
    per_cat: dict[str, int] = {}
    prev_key = None
    for i, (key, p, m, first) in enumerate(rows, start=1):
        per_cat[m.category] = per_cat.get(m.category, 0) + 1
        tie = None
        if prev_key is not None:
            tie = next(name for name, a, b in zip(TIE_KEYS, prev_key, key, strict=True) if a != b)
        prev_key = key
        ranked.append(RankedProject(
            project_id=p.project_id, category=m.category, rank=i, category_rank=per_cat[m.category],
            score=p.score, median=p.median, n_reviews=p.n_reviews, first_criterion=first,
            forwarded_at=rfc3339(m.forwarded_at),
            disagreement=p.disagreement, tie_break=tie))
    return tuple(ranked)


def by_category(ranked: Sequence[RankedProject]) -> dict[str, tuple[RankedProject, ...]]:
    out: dict[str, list[RankedProject]] = {}
    for r in ranked:
        out.setdefault(r.category, []).append(r)
    return {c: tuple(v) for c, v in sorted(out.items())}


@dataclass(frozen=True)
class SelectedProject:
    project_id: str
    category: str
    rank: int
    score: float
    basis: Literal["category_minimum", "score"]


@dataclass(frozen=True)
class Selection:
    quota: int
    per_category: Mapping[str, tuple[int, int | None]]
    selected: tuple[SelectedProject, ...]
    skipped: tuple[tuple[str, str], ...]  # (project_id, reason code) ranked above the cut but left out
    issues: tuple[Issue, ...] = ()

    @property
    def project_ids(self) -> tuple[str, ...]:
        return tuple(s.project_id for s in self.selected)


def propose_selection(
    ranked: Sequence[RankedProject],
    quota: int = 30,
    per_category: Mapping[str, tuple[int, int | None]] | None = None,
) -> Selection:
    """Fill each category's minimum with its best projects, then the rest of the quota by
    overall rank, never exceeding a category's maximum (``None``: only a minimum, no cap).
    A proposal: staff decide the final list."""
    per_category = dict(per_category or {})
    problems = []
    for code, (lo, hi) in sorted(per_category.items()):
        if lo < 0 or (hi is not None and hi < lo):
            problems.append(issue("category_bounds_invalid", f"per_category/{code}", {"min": lo, "max": hi}))
    mins = sum(lo for lo, _ in per_category.values())
    if quota < 1 or mins > quota:
        problems.append(issue("category_minimums_exceed_quota", "per_category",
                              {"quota": quota, "sum_of_minimums": mins}))
    if problems:
        raise InvalidInput(problems)
    ordered = sorted(ranked, key=lambda r: r.rank)
    chosen: dict[str, str] = {}
    counts: dict[str, int] = {}
    issues: list[Issue] = []
    for code, (lo, _hi) in sorted(per_category.items()):
        pool = [r for r in ordered if r.category == code][:lo]
        for r in pool:
            chosen[r.project_id] = "category_minimum"
        counts[code] = len(pool)
        if len(pool) < lo:
            issues.append(issue("category_minimum_unmet", f"per_category/{code}",
                                {"available": len(pool), "minimum": lo}, code=code, lo=lo))
    skipped = []
    for r in ordered:
        if len(chosen) >= quota:
            break
        if r.project_id in chosen:
            continue
        cap = per_category.get(r.category, (0, None))[1]
        if cap is not None and counts.get(r.category, 0) >= cap:
            skipped.append((r.project_id, "category_full"))
            continue
        chosen[r.project_id] = "score"
        counts[r.category] = counts.get(r.category, 0) + 1
    selected = tuple(SelectedProject(r.project_id, r.category, r.rank, r.score, chosen[r.project_id])  # type: ignore[arg-type]
                     for r in ordered if r.project_id in chosen)
    if len(selected) < quota:
        issues.append(issue("quota_unfilled", "quota", {"selected": len(selected), "quota": quota}))
    rest = [r for r in ordered if r.project_id not in chosen and (r.project_id, "category_full") not in skipped]
    if selected and rest and _r(rest[0].score) == _r(min(s.score for s in selected)):
        issues.append(issue("tie_at_cutoff", "ranking",
                            {"first_excluded": rest[0].project_id, "tie_break": rest[0].tie_break}))
    return Selection(quota, per_category, selected, tuple(skipped), tuple(issues))


@dataclass(frozen=True)
class SnapshotEntry:
    rank: int
    project_id: str
    category: str
    score: float
    median: float
    n_reviews: int
    selected: bool
    basis: str | None


@dataclass(frozen=True)
class SelectionSnapshot:
    """An immutable record of a ranking and proposal, sealed by a SHA-256 content hash."""

    call_id: str
    taken_at: str
    method: tuple[tuple[str, Any], ...]
    quota: int
    per_category: tuple[tuple[str, int, int], ...]
    entries: tuple[SnapshotEntry, ...]
    inputs_digest: str
    content_hash: str = field(default="")

    def canonical(self) -> bytes:
        body = asdict(self)
        body.pop("content_hash")
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def verify(self) -> bool:
        return self.content_hash == hashlib.sha256(self.canonical()).hexdigest()


def inputs_digest(result: AggregationResult) -> str:
    rows = [[r.project_id, r.expert_id, r.total, [list(c) for c in r.criterion_scores]] for r in result.inputs]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def take_snapshot(
    call_id: str,
    ranked: Sequence[RankedProject],
    selection: Selection,
    method: AggregationMethod,
    taken_at: datetime,
    aggregation: AggregationResult | None = None,
) -> SelectionSnapshot:
    chosen = {s.project_id: s.basis for s in selection.selected}
    entries = tuple(
        SnapshotEntry(r.rank, r.project_id, r.category, r.score, r.median, r.n_reviews,
                      r.project_id in chosen, chosen.get(r.project_id))
        for r in sorted(ranked, key=lambda x: x.rank)
    )
    snap = SelectionSnapshot(
        call_id=call_id, taken_at=rfc3339(taken_at), method=tuple(sorted(asdict(method).items())),
        quota=selection.quota,
        per_category=tuple((c, lo, hi) for c, (lo, hi) in sorted(selection.per_category.items())),
        entries=entries, inputs_digest=inputs_digest(aggregation) if aggregation else "",
    )
    object.__setattr__(snap, "content_hash", hashlib.sha256(snap.canonical()).hexdigest())
    return snap
