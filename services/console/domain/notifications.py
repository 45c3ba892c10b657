"""Which events need someone, who that is, and what the e-mail says.

Each rule maps one event type to the people it concerns. Recipients are described, not looked up
(the handler finds the accounts): the applicant who owns an application (the console records the
owner when the applicant creates the draft through it), every account of a recommending unit, an
expert, or all staff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BEIJING = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Audience:
    kind: str  # owner | unit | expert | staff
    key: str = ""


@dataclass(frozen=True)
class Message:
    audience: Audience
    subject: str
    body: str
    link: str  # a console path, e.g. /console/applicant/applications/<id>


def _name(data: dict[str, Any]) -> str:
    return data.get("project_name") or data.get("application_id", "")


def _submitted(d: dict[str, Any]) -> list[Message]:
    app = d["application_id"]
    return [
        Message(Audience("owner", app), f"申报已提交：{_name(d)}",
                f"您的申报“{_name(d)}”已提交至推荐单位，请等待审核。", f"/console/applicant/applications/{app}"),
        Message(Audience("unit", d["unit_code"]), f"有新的申报待审核：{_name(d)}",
                f"申报主体{d.get('applicant_name', '')}提交了“{_name(d)}”，请审核并填写推荐意见。",
                f"/console/unit/applications/{app}"),
    ]


def _returned(d: dict[str, Any]) -> list[Message]:
    app = d["application_id"]
    return [Message(Audience("owner", app), f"申报被退回修改：{_name(d)}",
                    f"推荐单位退回了“{_name(d)}”，原因：{d.get('reason', '')}。请修改后重新提交。",
                    f"/console/applicant/applications/{app}")]


def _forwarded(d: dict[str, Any]) -> list[Message]:
    app = d["application_id"]
    return [Message(Audience("owner", app), f"申报已报送：{_name(d)}",
                    f"推荐单位已将“{_name(d)}”报送组织方，推荐意见：{d.get('unit_opinion') or '无'}。",
                    f"/console/applicant/applications/{app}"),
            Message(Audience("staff"), f"收到推荐单位报送：{_name(d)}",
                    f"推荐单位{d['unit_code']}报送了“{_name(d)}”，请进行初审筛选。", "/console/staff/screening")]


def _assigned(d: dict[str, Any]) -> list[Message]:
    return [Message(Audience("expert", d["expert_id"]), "您有新的评审任务",
                    "组织方为您分配了一个待评审项目，请在评审期内完成六项指标评分。", "/console/expert/")]


def _selected(d: dict[str, Any]) -> list[Message]:
    return [Message(Audience("owner", e["application_id"]), "您的项目拟入选",
                    f"您的项目在“{d.get('call_title', '')}”中拟入选，将进入公示。",
                    f"/console/applicant/applications/{e['application_id']}")
            for e in d.get("entries", []) if e.get("application_id")]


def _objection_filed(d: dict[str, Any]) -> list[Message]:
    return [Message(Audience("staff"), "公示期收到异议",
                    f"公示中的项目收到一条异议（查询码 {d.get('tracking_code', '')}），请处理。",
                    f"/console/staff/notices/{d['notice_id']}")]


def _objection_resolved(d: dict[str, Any]) -> list[Message]:
    outcome = {"upheld": "异议成立", "dismissed": "异议不成立"}.get(d.get("outcome", ""), d.get("outcome", ""))
    return [Message(Audience("owner", d["application_id"]), "针对您项目的异议已答复",
                    f"处理结果：{outcome}。说明：{d.get('resolution_note_zh', '')}",
                    f"/console/applicant/applications/{d['application_id']}")]


def _report_returned(d: dict[str, Any]) -> list[Message]:
    return [Message(Audience("owner", d["application_id"]), f"跟踪报告需修改：{d.get('title', '')}",
                    f"跟踪报告被退回，说明：{d.get('review_note', '')}。请修改后重新提交。",
                    f"/console/applicant/applications/{d['application_id']}")]


def _beijing(instant: str) -> str:
    """An RFC 3339 instant as people in the call read it: Beijing wall-clock time."""
    moment = dt.datetime.fromisoformat(instant).astimezone(BEIJING)
    return f"{moment:%Y年%m月%d日 %H:%M}（北京时间）"


def _review_due(d: dict[str, Any]) -> list[Message]:
    count, due = d.get("pending_count", len(d.get("pending", []))), _beijing(d["due_at"])
    if d.get("overdue"):
        subject, body = (f"评审已过截止时间：仍有 {count} 个项目未提交评分",
                         f"评审已于{due}截止，您仍有 {count} 个项目的评分未提交，请尽快完成或联系组织方。")
    else:
        subject, body = (f"评审即将截止：还有 {count} 个项目待评分",
                         f"评审将于{due}截止，您还有 {count} 个项目的评分未提交，请在截止前完成六项指标评分。")
    return [Message(Audience("expert", d["expert_id"]), subject, body, "/console/expert/")]


def _report_due(d: dict[str, Any]) -> list[Message]:
    app, due, name = d["application_id"], _beijing(d["due_at"]), _name(d)
    late = "已过截止时间" if d.get("overdue") else "即将截止"
    body = (f"入选项目“{name}”的跟踪报告{late}（{due}）。自上一截止日以来尚未收到该项目的进展报告，"
            "请报送工作动态、重大活动、典型案例或阶段性成果。")
    messages = [Message(Audience("owner", app), f"跟踪报告{late}：{name}", body, "/console/applicant/reports")]
    if d.get("unit_code"):
        messages.append(Message(Audience("unit", d["unit_code"]), f"推荐项目的跟踪报告{late}：{name}", body,
                                "/console/unit/reports"))
    return messages


RULES: dict[str, Callable[[dict[str, Any]], list[Message]]] = {
    "application.submitted.v1": _submitted,
    "application.returned.v1": _returned,
    "application.forwarded.v1": _forwarded,
    "assignment.made.v1": _assigned,
    "selection.confirmed.v1": _selected,
    "objection.filed.v1": _objection_filed,
    "objection.resolved.v1": _objection_resolved,
    "report.returned.v1": _report_returned,
    "review.due.v1": _review_due,
    "report.due.v1": _report_due,
}


def messages_for(event_type: str, data: dict[str, Any]) -> list[Message]:
    rule = RULES.get(event_type)
    return rule(data) if rule else []


def retry_delay_s(attempts: int, first: float = 5.0, cap: float = 600.0) -> float:
    """Back off between SMTP attempts: 5 s, 10 s, 20 s ... at most 10 minutes."""
    return min(cap, first * (2 ** max(0, attempts - 1)))
