"""Shared builders for the intake tests: the shipped calls, a complete valid form, credit codes."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from services.intake.domain.calls import CallDocument, load_call_file
from services.intake.domain.form import ApplicationForm
from services.intake.domain.uscc import check_char, org_check_char

ROOT = Path(__file__).resolve().parents[3]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Inside the 2024 window.
DURING_2024 = datetime(2024, 2, 20, 10, 0, tzinfo=SHANGHAI)


@cache
def national() -> CallDocument:
    return load_call_file(ROOT / "calls" / "2024-national.yaml")


@cache
def henan() -> CallDocument:
    return load_call_file(ROOT / "calls" / "2018-henan.yaml")


def make_credit_code(head: str = "91", region: str = "110108", body: str = "55138508") -> str:
    """A valid code: both GB 11714 and GB 32100 check characters computed."""
    first17 = head + region + body + org_check_char(body)
    return first17 + check_char(first17)


def valid_form_data(**overrides: object) -> dict:
    data: dict = {
        "project_name": "《守护留守儿童》网络助学项目",
        "category": "education",
        "applicant": {
            "name": "某某公益基金会",
            "type": "social_organisation",
            "credit_code": make_credit_code("53", "100000", "50001908"),
            "province": "北京市",
            "address": "北京市海淀区某路1号",
        },
        "contact": {
            "name": "张三",
            "title": "项目主管",
            "mobile": "13800138000",
            "email": "zhang@example.org",
        },
        "started_on": date(2021, 6, 1),
        "still_running": True,
        "summary": "项目简介" * 50,
        "implementation_results": "实施成效" * 50,
        "innovation": "创新做法" * 50,
        "approval": {"department": "北京市民政局", "document_no": "京民字〔2021〕1号"},
        "platform": {"website": "https://www.example.org/project", "mini_program": "守护助学"},
        "beneficiaries": 12000,
        "figures": [{"label": "受益学生", "value": "12000人"}],
        "media_reports": [
            {
                "title": "网络助学项目惠及万名学生",
                "outlet": "人民网",
                "published_on": date(2023, 5, 1),
                "url": "http://www.people.com.cn/a.html",
                "screenshot_evidence_id": "ev-shot-1",
            }
        ],
        "image_evidence_ids": ["ev-img-1", "ev-img-2"],
        "video_evidence_ids": ["ev-vid-1"],
        "unit_code": "cac-beijing",
    }
    data.update(overrides)
    return data


def valid_form(**overrides: object) -> ApplicationForm:
    return ApplicationForm.model_validate(valid_form_data(**overrides))


def all_evidence(ids: list[str]) -> set[str]:
    return set(ids)
