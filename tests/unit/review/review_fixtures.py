"""Shared builders for the review-domain tests (imported, not collected)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.review.domain.screening import SHANGHAI, ScreeningRules

CATEGORIES_2024 = frozenset({"共同富裕", "社会帮扶", "应急救援", "教育发展", "文化传承", "其他"})
TYPES_2024 = frozenset({"government", "social_organisation", "enterprise", "news_media", "platform"})


def rules_2024(**overrides: Any) -> ScreeningRules:
    values: dict[str, Any] = dict(
        started_before=date(2023, 1, 1),
        must_be_running=True,
        categories=CATEGORIES_2024,
        applicant_types=TYPES_2024,
        closes_at=datetime(2024, 2, 29, 23, 59, 59, tzinfo=SHANGHAI),
    )
    values.update(overrides)
    return ScreeningRules(**values)


def application(**overrides: Any) -> dict[str, Any]:
    app: dict[str, Any] = {
        "project_name": "乡村儿童线上阅读计划",
        "category": "教育发展",
        "applicant": {"name": "某某公益基金会", "type": "social_organisation",
                      "credit_code": "53100000MJ0000000X", "province": "河南"},
        "started_on": "2021-06-01",
        "still_running": True,
        "summary": "某某公益基金会通过网络平台为乡村儿童提供阅读资源。",
        "implementation_results": "覆盖200所学校。",
        "innovation": "线上线下结合。",
        "media_reports": [{"url": "https://news.example.cn/a", "screenshot_evidence_id": "ev-1"}],
        "image_evidence_ids": ["ev-2"],
        "video_evidence_ids": [],
        "unit_code": "HA-CAC",
        "forwarded_at": "2024-02-20T10:00:00+08:00",
    }
    app.update(overrides)
    return app


NOW = datetime(2024, 3, 5, 9, 0, tzinfo=SHANGHAI)
