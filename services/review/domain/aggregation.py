"""Aggregating expert totals per project (汇总).

Every project gets its mean, median and trimmed mean; ``AggregationMethod.statistic`` names the
one that ranks. Trimmed mean (去掉一个最高分和一个最低分) drops one highest and one lowest total
when a project has at least ``trim_min_reviews`` reviews, otherwise it equals the mean.

Optional z-score correction offsets lenient and severe experts: each expert's totals are
standardised by that expert's own mean and population standard deviation (over all the
expert's reviews in the input), then mapped onto the overall mean and population standard
deviation of all totals, and clipped to 0..100. An expert with one review, or whose totals are
all equal (std 0), has no scale to correct and is left as is.

Disagreement: with at least two reviews, a project is flagged when the spread of its (corrected)
totals, measured as ``max - min`` or as population std, exceeds ``spread_threshold``.

The result keeps the method and every input, so ``recompute(result) == result``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from gongyi.errors import InvalidInput
from services.review.domain.refusals import issue

from .scoring import Criterion, Review, weighted_total


@dataclass(frozen=True)
class ReviewInput:
    project_id: str
    expert_id: str
    total: float
    criterion_scores: tuple[tuple[str, float], ...] = ()  # in the call's criterion order


@dataclass(frozen=True)
class AggregationMethod:
    statistic: Literal["mean", "median", "trimmed_mean"] = "trimmed_mean"
    trim_min_reviews: int = 5
    zscore: bool = False
    spread_measure: Literal["range", "std"] = "range"
    spread_threshold: float = 30.0


@dataclass(frozen=True)
class ExpertCalibration:
    expert_id: str
    n_reviews: int
    mean: float
    std: float
    corrected: bool


@dataclass(frozen=True)
class ProjectAggregate:
    project_id: str
    expert_ids: tuple[str, ...]
    raw_totals: tuple[float, ...]
    totals: tuple[float, ...]  # after z-score correction when the method asks for it
    n_reviews: int
    mean: float
    median: float
    trimmed_mean: float
    std: float
    spread: float
    disagreement: bool
    score: float  # the method's statistic
    criterion_means: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class AggregationResult:
    method: AggregationMethod
    inputs: tuple[ReviewInput, ...]
    projects: tuple[ProjectAggregate, ...]
    calibration: tuple[ExpertCalibration, ...]
    overall_mean: float
    overall_std: float

    def for_project(self, project_id: str) -> ProjectAggregate:
        for p in self.projects:
            if p.project_id == project_id:
                return p
        raise KeyError(project_id)


def inputs_from_reviews(reviews: Iterable[Review], criteria: Sequence[Criterion]) -> tuple[ReviewInput, ...]:
    """Submitted reviews only; drafts do not count."""
    return tuple(
        ReviewInput(r.project_id, r.expert_id, weighted_total(r.scores, criteria),
                    tuple((c.code, float(r.scores[c.code])) for c in criteria))
        for r in reviews
        if r.locked
    )


def trimmed_mean(values: Sequence[float], trim_min_reviews: int) -> float:
    if len(values) >= max(3, trim_min_reviews):
        ordered = sorted(values)[1:-1]
        return statistics.fmean(ordered)
    return statistics.fmean(values)


def _validate(inputs: Sequence[ReviewInput], method: AggregationMethod) -> None:
    issues = []
    seen = set()
    for r in inputs:
        key = (r.project_id, r.expert_id)
        if key in seen:
            issues.append(issue("duplicate_review", f"reviews/{key[0]}/{key[1]}"))
        seen.add(key)
        if not 0 <= r.total <= 100:
            issues.append(issue("score_out_of_range/total", f"reviews/{key[0]}/{key[1]}", {"value": r.total}))
    if method.trim_min_reviews < 3:
        issues.append(issue("trim_min_reviews_invalid", "method/trim_min_reviews"))
    if issues:
        raise InvalidInput(issues)


def calibrate(inputs: Sequence[ReviewInput]) -> tuple[dict[tuple[str, str], float], tuple[ExpertCalibration, ...],
                                                       float, float]:
    """Z-score correction of every total: ``(corrected, calibration, overall_mean, overall_std)``."""
    totals = [r.total for r in inputs]
    overall_mean = statistics.fmean(totals) if totals else 0.0
    overall_std = statistics.pstdev(totals) if len(totals) > 1 else 0.0
    by_expert: dict[str, list[float]] = defaultdict(list)
    for r in inputs:
        by_expert[r.expert_id].append(r.total)
    cal: dict[str, ExpertCalibration] = {}
    for e, vals in sorted(by_expert.items()):
        mean = statistics.fmean(vals)
        std = statistics.pstdev(vals) if len(vals) > 1 else 0.0
        cal[e] = ExpertCalibration(e, len(vals), mean, std, corrected=len(vals) > 1 and std > 0)
    corrected = {}
    for r in inputs:
        c = cal[r.expert_id]
        if c.corrected:
            value = overall_mean + (r.total - c.mean) / c.std * overall_std
            corrected[(r.project_id, r.expert_id)] = min(100.0, max(0.0, value))
        else:
            corrected[(r.project_id, r.expert_id)] = r.total
    return corrected, tuple(cal.values()), overall_mean, overall_std


def aggregate(inputs: Iterable[ReviewInput], method: AggregationMethod | None = None) -> AggregationResult:
    method = method or AggregationMethod()
    rows = tuple(sorted(inputs, key=lambda r: (r.project_id, r.expert_id)))
    _validate(rows, method)
    corrected, calibration, overall_mean, overall_std = calibrate(rows)
    by_project: dict[str, list[ReviewInput]] = defaultdict(list)
    for r in rows:
        by_project[r.project_id].append(r)
    projects = []
    for pid, reviews in by_project.items():
        raw = tuple(r.total for r in reviews)
        totals = tuple(corrected[(pid, r.expert_id)] for r in reviews) if method.zscore else raw
        mean = statistics.fmean(totals)
        median = statistics.median(totals)
        tmean = trimmed_mean(totals, method.trim_min_reviews)
        std = statistics.pstdev(totals) if len(totals) > 1 else 0.0
        spread = (max(totals) - min(totals)) if method.spread_measure == "range" else std
        score = {"mean": mean, "median": median, "trimmed_mean": tmean}[method.statistic]
        crit: dict[str, list[float]] = defaultdict(list)
        for r in reviews:
            for code, value in r.criterion_scores:
                crit[code].append(value)
        projects.append(ProjectAggregate(
            project_id=pid, expert_ids=tuple(r.expert_id for r in reviews), raw_totals=raw, totals=totals,
            n_reviews=len(reviews), mean=mean, median=median, trimmed_mean=tmean, std=std, spread=spread,
            disagreement=len(totals) > 1 and spread > method.spread_threshold, score=score,
            criterion_means=tuple((code, statistics.fmean(v)) for code, v in crit.items()),
        ))
    return AggregationResult(method, rows, tuple(projects), calibration, overall_mean, overall_std)


def recompute(result: AggregationResult) -> AggregationResult:
    """Recompute from the recorded inputs and method (audit: the figures must match)."""
    return aggregate(result.inputs, result.method)
