"""A call document (contracts/calls/call.schema.json) read as the review rules it implies.

Intake announces every version of a call (``call.loaded.v1``); review keeps the documents and
turns them into the domain's parameters here, so nothing call-specific is hard-coded elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .aggregation import AggregationMethod
from .conflicts import ConflictPolicy
from .scoring import Criterion
from .screening import ScreeningRules

DEFAULT_TRIM_MIN_REVIEWS = 5


@dataclass(frozen=True)
class CallRules:
    call_id: str
    version: int
    title: str
    criteria: tuple[Criterion, ...]
    categories: tuple[str, ...]
    experts_per_project: int
    blind: bool
    conflicts: ConflictPolicy
    trim: bool
    quota: int
    per_category: Mapping[str, tuple[int, int | None]]  # max None: only a minimum
    screening: ScreeningRules

    def method(self, statistic: str | None = None, zscore: bool = False, trim_min_reviews: int | None = None,
               spread_threshold: float | None = None) -> AggregationMethod:
        """The call's default aggregation (trimmed mean when the call trims), with overrides."""
        return AggregationMethod(
            statistic=statistic or ("trimmed_mean" if self.trim else "mean"),  # type: ignore[arg-type]
            trim_min_reviews=trim_min_reviews or DEFAULT_TRIM_MIN_REVIEWS,
            zscore=zscore,
            spread_threshold=30.0 if spread_threshold is None else spread_threshold,
        )


def _closes_at(window: Mapping[str, Any]) -> str:
    closes = str(window["closes"])
    has_offset = closes.endswith("Z") or "+" in closes[10:] or "-" in closes[10:]
    if has_offset or window.get("timezone", "Asia/Shanghai") == "Asia/Shanghai":
        return closes  # naive values are read as Asia/Shanghai by ScreeningRules
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(closes).replace(tzinfo=ZoneInfo(window["timezone"])).isoformat()


def call_rules(document: Mapping[str, Any], version: int) -> CallRules:
    review = document.get("review") or {}
    quotas = document.get("quotas") or {}
    eligibility = document.get("eligibility") or {}
    text_limit = document.get("text_limit") or {}
    evidence = document.get("evidence") or {}
    criteria = tuple(
        Criterion(c["code"], c["label"], c["code"], float(c.get("max_score", 10)), float(c.get("weight", 1)),
                  c.get("definition", ""))
        for c in document.get("criteria") or ()
    )
    categories = tuple(c["code"] for c in document.get("categories") or ())
    screening = ScreeningRules.from_call({
        "started_before": eligibility.get("started_before"),
        "must_be_running": eligibility.get("must_be_running", True),
        "categories": categories,
        "applicant_types": [t["code"] for t in document.get("applicant_types") or ()],
        "closes_at": _closes_at(document["window"]),
        "text_limit": text_limit.get("max_chars"),
        "text_fields": text_limit.get("fields", ["summary", "implementation_results", "innovation"]),
        "require_evidence": bool(evidence.get("require_at_least_one", False)),
    })
    per_category = {code: (int(b["min"]), None if b.get("max") is None else int(b["max"]))
                    for code, b in (quotas.get("per_category") or {}).items()}
    return CallRules(
        call_id=document["id"],
        version=version,
        title=document.get("title", document["id"]),
        criteria=criteria,
        categories=categories,
        experts_per_project=int(review.get("experts_per_project", 5)),
        blind=bool(review.get("blind", False)),
        conflicts=ConflictPolicy(same_province=bool(review.get("conflict_same_province", False)),
                                 same_recommending_unit=bool(review.get("conflict_same_unit", True))),
        trim=bool(review.get("trim", True)),
        quota=int(quotas.get("select_about", 30)),
        per_category=per_category,
        screening=screening,
    )
