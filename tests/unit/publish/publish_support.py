"""Builders and sample personal data shared by the publish-domain tests."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from services.publish.domain.objections import ObjectionInput
from services.publish.domain.selection import EvidenceRef, SelectionEntry

SH = ZoneInfo("Asia/Shanghai")
CALL_NAME = "2024年网络公益行动优秀网络公益项目征集"

# Personal data that must never appear in a public output.
APPLICANT_MOBILE = "13812345678"
APPLICANT_EMAIL = "zhangsan@example.com"
OBJECTOR_NAME = "李异议"
OBJECTOR_CONTACT = "13900001111"
PRIVATE_EVIDENCE_URL = "https://minio.internal/bucket/id-card-scan.jpg"
INDIVIDUAL_ID = "41010519900101123X"


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=SH)


CATEGORIES = [
    "互联网+共同富裕",
    "互联网+社会帮扶",
    "互联网+应急救援",
    "互联网+教育发展",
    "互联网+文化传承",
    "其他",
]


def make_entries(n: int, start_rank: int = 1, prefix: str = "a") -> list[SelectionEntry]:
    names = ["乡村儿童阅读点亮计划", "银龄数字课堂", "应急救援志愿者联盟", "非遗云上传承", "爱心助农直播间"]
    out = []
    for i, rank in enumerate(range(start_rank, start_rank + n)):
        out.append(
            SelectionEntry(
                application_id=f"{prefix}{rank}",
                project_name=f"{names[i % len(names)]}{rank}号",
                organisation=f"河南省公益促进会{rank}",
                category=CATEGORIES[i % len(CATEGORIES)],
                province=["河南省", "北京市", "广东省"][i % 3],
                unit=["河南省委网信办", "人民网"][i % 2],
                rank=rank,
                score=round(95 - rank * 0.5, 2),
                summary=(
                    f"项目联系人手机 {APPLICANT_MOBILE}，邮箱 {APPLICANT_EMAIL}，"
                    f"身份证 {INDIVIDUAL_ID}。服务留守儿童。"
                ),
                evidence=(
                    EvidenceRef(
                        "人民网报道", f"https://www.people.com.cn/report/{rank}", "media_report", True
                    ),
                    EvidenceRef("身份证扫描件", PRIVATE_EVIDENCE_URL, "image", False),
                    EvidenceRef("恶意链接", "javascript:alert(1)", "link", True),
                ),
                applicant_type="社会组织",
            )
        )
    return out


def objection_input(
    reason: str = "该项目实际于2023年6月才启动，不符合2023年1月1日前启动的申报条件。", **kw
) -> ObjectionInput:
    data = {
        "name": OBJECTOR_NAME,
        "contact": OBJECTOR_CONTACT,
        "relation": "项目所在社区居民",
        "reason": reason,
        "evidence_ids": ["ev-1"],
    }
    data.update(kw)
    return ObjectionInput(**data)


def sequential_codes():
    counter = itertools.count()
    return lambda: f"CODE{next(counter):06d}"
