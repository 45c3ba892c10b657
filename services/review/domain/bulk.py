"""Vectorised aggregation and ranking for large calls (e.g. 10,000 projects x 5 reviews).

Same definitions as :mod:`aggregation` and :mod:`ranking` (trimmed mean, population std,
z-score correction, spread, tie-break keys), computed with NumPy array operations instead of
per-project Python loops. Without NumPy it falls back to the pure-Python path. Results agree
with the pure path to floating-point rounding (NumPy sums in a different order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .aggregation import AggregationMethod, ReviewInput, aggregate
from .ranking import ProjectMeta, rank

try:  # NumPy is optional: only large calls need it.
    import numpy as np
except ImportError:  # pragma: no cover - exercised only where NumPy is absent
    np = None  # type: ignore[assignment]


@dataclass(frozen=True)
class BulkRanking:
    """Projects in rank order (index 0 is rank 1), one value per project in each column."""

    project_ids: tuple[str, ...]
    score: tuple[float, ...]
    mean: tuple[float, ...]
    median: tuple[float, ...]
    trimmed_mean: tuple[float, ...]
    n_reviews: tuple[int, ...]
    spread: tuple[float, ...]
    disagreement: tuple[bool, ...]
    engine: str


def _pure(project_ids: Sequence[str], expert_ids: Sequence[str], totals: Sequence[float],
          first_criterion: Sequence[float] | None, forwarded_at: dict[str, datetime] | None,
          method: AggregationMethod) -> BulkRanking:
    inputs = [ReviewInput(p, e, float(t), (("first", float(first_criterion[i])),) if first_criterion else ())
              for i, (p, e, t) in enumerate(zip(project_ids, expert_ids, totals, strict=True))]
    result = aggregate(inputs, method)
    meta = {p: ProjectMeta(p, "", (forwarded_at or {}).get(p)) for p in set(project_ids)}
    ranked = rank(result, meta, ("first",))
    agg = {p.project_id: p for p in result.projects}
    rows = [agg[r.project_id] for r in ranked]
    return BulkRanking(tuple(p.project_id for p in rows), tuple(p.score for p in rows), tuple(p.mean for p in rows),
                       tuple(p.median for p in rows), tuple(p.trimmed_mean for p in rows),
                       tuple(p.n_reviews for p in rows), tuple(p.spread for p in rows),
                       tuple(p.disagreement for p in rows), "python")


def aggregate_and_rank(
    project_ids: Sequence[str],
    expert_ids: Sequence[str],
    totals: Sequence[float],
    method: AggregationMethod | None = None,
    first_criterion: Sequence[float] | None = None,
    forwarded_at: dict[str, datetime] | None = None,
    force_python: bool = False,
) -> BulkRanking:
    """One row per review (parallel sequences); returns every project ranked."""
    method = method or AggregationMethod()
    if np is None or force_python:
        return _pure(project_ids, expert_ids, totals, first_criterion, forwarded_at, method)
    pid_u, p = np.unique(np.asarray(project_ids), return_inverse=True)  # sorted ids: index order = id order
    _, e = np.unique(np.asarray(expert_ids), return_inverse=True)
    t = np.asarray(totals, dtype=float)
    vals = t
    if method.zscore:
        n_e = np.bincount(e)
        mean_e = np.bincount(e, t) / n_e
        std_e = np.sqrt(np.bincount(e, (t - mean_e[e]) ** 2) / n_e)
        ok = (n_e > 1) & (std_e > 0)
        om, osd = t.mean(), t.std()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (t - mean_e[e]) / std_e[e]
        vals = np.where(ok[e], np.clip(om + z * osd, 0.0, 100.0), t)
    order = np.lexsort((vals, p))
    v = vals[order]
    n = np.bincount(p)
    starts = np.cumsum(n) - n
    sums = np.bincount(p, vals)
    mean = sums / n
    median = (v[starts + (n - 1) // 2] + v[starts + n // 2]) / 2.0
    lo, hi = v[starts], v[starts + n - 1]
    trim = n >= max(3, method.trim_min_reviews)
    with np.errstate(divide="ignore", invalid="ignore"):
        tmean = np.where(trim, (sums - lo - hi) / np.maximum(n - 2, 1), mean)
    std = np.sqrt(np.bincount(p, (vals - mean[p]) ** 2) / n)
    spread = (hi - lo) if method.spread_measure == "range" else std
    score = {"mean": mean, "median": median, "trimmed_mean": tmean}[method.statistic]
    first = (np.bincount(p, np.asarray(first_criterion, dtype=float)) / n) if first_criterion is not None \
        else np.zeros(len(pid_u))
    fwd = np.array([(forwarded_at or {}).get(str(x)).timestamp() if (forwarded_at or {}).get(str(x))
                    else np.inf for x in pid_u]) if forwarded_at else np.full(len(pid_u), np.inf)
    # np.lexsort: the last key is the primary one; project index breaks final ties by id.
    idx = np.lexsort((np.arange(len(pid_u)), fwd, -np.round(first, 9), -n, -np.round(median, 9),
                      -np.round(score, 9)))
    disagree = (n > 1) & (spread > method.spread_threshold)

    def col(a: Any, kind: type = float) -> tuple[Any, ...]:
        return tuple(kind(x) for x in a[idx])

    return BulkRanking(tuple(str(x) for x in pid_u[idx]), col(score), col(mean), col(median), col(tmean),
                       col(n, int), col(spread), col(disagree, bool), "numpy")
