"""Scores (专家评分): criteria, validation, weighted totals, locking and reopening.

Weighted total, on a 0..100 scale::

    total = 100 * sum(w_c * s_c / max_c) / sum(w_c)

Each criterion's score is first made a fraction of its own maximum, so criteria scored out of
different maxima mix fairly; dividing by the sum of weights means weights need not add up to 1
(equal weights of 1 are the default, since the 2024 call lists six criteria without weights).
An expert who gives every criterion its maximum gets 100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from gongyi.errors import InvalidInput, Issue
from services.review.domain.refusals import issue, refuse


@dataclass(frozen=True)
class Criterion:
    code: str
    name_zh: str
    name_en: str
    max_score: float = 10.0
    weight: float = 1.0
    definition_zh: str = ""


# The six criteria of the 2024 call (三、推荐标准), in the call's order. A call's configuration
# may replace maxima and weights; these are only the default.
CRITERIA_2024: tuple[Criterion, ...] = (
    Criterion("normative", "规范性", "Compliance", definition_zh="经业务主管部门审核批准，履行备案程序，合法合规"),
    Criterion("platform", "平台化", "Platform-based", definition_zh="基于互联网平台或运用互联网手段组织开展"),
    Criterion("public_benefit", "公益性", "Public benefit", definition_zh="具备社会公益属性，让相关群体切实受益"),
    Criterion("effectiveness", "实效性", "Effectiveness", definition_zh="前期实践取得明显成效，获得良好社会效益"),
    Criterion("influence", "影响力", "Influence", definition_zh="群众普遍认可，公益理念有效触达网民"),
    Criterion("exemplary", "示范性", "Exemplary value", definition_zh="内容方式具有创新性，经验可复制可推广"),
)


def validate_criteria(criteria: Sequence[Criterion]) -> None:
    issues = []
    codes = [c.code for c in criteria]
    if not criteria or len(set(codes)) != len(codes):
        issues.append(issue("criteria_invalid", "criteria"))
    for c in criteria:
        if not (c.max_score > 0 and c.weight > 0):
            issues.append(issue("criteria_invalid/values", f"criteria/{c.code}"))
    if issues:
        raise InvalidInput(issues)


def validate_scores(scores: Mapping[str, Any], criteria: Sequence[Criterion]) -> dict[str, float]:
    """Every criterion scored, each within ``[0, max_score]``; returns the scores as floats."""
    issues: list[Issue] = []
    known = {c.code for c in criteria}
    clean: dict[str, float] = {}
    for c in criteria:
        path = f"scores/{c.code}"
        if c.code not in scores or scores[c.code] is None:
            issues.append(issue("score_missing", path, name_zh=c.name_zh, name_en=c.name_en))
            continue
        value = scores[c.code]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            issues.append(issue("score_not_a_number", path, {"value": repr(value)}, name_zh=c.name_zh,
                                name_en=c.name_en))
            continue
        if not 0 <= value <= c.max_score:
            issues.append(issue("score_out_of_range", path, {"value": value, "min": 0, "max": c.max_score},
                                name_zh=c.name_zh, name_en=c.name_en, max_score=c.max_score))
            continue
        clean[c.code] = float(value)
    for code in sorted(set(scores) - known):
        issues.append(issue("unknown_criterion", f"scores/{code}"))
    if issues:
        raise InvalidInput(issues)
    return clean


def weighted_total(scores: Mapping[str, float], criteria: Sequence[Criterion]) -> float:
    """``100 * sum(w * s / max) / sum(w)``; see the module docstring."""
    weights = sum(c.weight for c in criteria)
    return 100.0 * sum(c.weight * scores[c.code] / c.max_score for c in criteria) / weights


@dataclass(frozen=True)
class Review:
    expert_id: str
    project_id: str
    scores: Mapping[str, float] = field(default_factory=dict)
    comments: str = ""
    status: Literal["draft", "submitted"] = "draft"
    submitted_at: datetime | None = None
    version: int = 1

    @property
    def locked(self) -> bool:
        return self.status == "submitted"

    def total(self, criteria: Sequence[Criterion]) -> float:
        return weighted_total(validate_scores(self.scores, criteria), criteria)


@dataclass(frozen=True)
class ReopenAudit:
    """Who reopened a submitted review, when, why, and the scores it had then."""

    expert_id: str
    project_id: str
    reopened_by: str
    reopened_at: datetime
    reason: str
    previous_scores: Mapping[str, float]
    previous_comments: str
    previous_version: int


def _refuse_locked(review: Review) -> None:
    if review.locked:
        refuse("review_locked", {"expert_id": review.expert_id, "project_id": review.project_id})


def save_draft(review: Review, scores: Mapping[str, Any], comments: str, by_expert: str) -> Review:
    """Drafts may be partial; only ranges of the scores given are checked here."""
    if by_expert != review.expert_id:
        refuse("not_review_owner")
    _refuse_locked(review)
    return replace(review, scores=dict(scores), comments=comments)


def submit(review: Review, criteria: Sequence[Criterion], now: datetime, min_comment_chars: int = 0,
           by_expert: str | None = None) -> Review:
    """Validate every criterion and lock the review."""
    if by_expert is not None and by_expert != review.expert_id:
        refuse("not_review_owner/submit")
    _refuse_locked(review)
    clean = validate_scores(review.scores, criteria)
    if len((review.comments or "").strip()) < min_comment_chars:
        raise InvalidInput([issue("comment_too_short", "comments", {"min": min_comment_chars})])
    return replace(review, scores=clean, status="submitted", submitted_at=now)


def reopen(review: Review, by: str, reason: str, now: datetime) -> tuple[Review, ReopenAudit]:
    """Staff reopen a submitted review; the reason is mandatory and the old scores are kept."""
    if not review.locked:
        refuse("review_not_submitted")
    if not (reason or "").strip():
        raise InvalidInput([issue("reopen_reason_required", "reason")])
    audit = ReopenAudit(review.expert_id, review.project_id, by, now, reason.strip(), dict(review.scores),
                        review.comments, review.version)
    return replace(review, status="draft", submitted_at=None, version=review.version + 1), audit
