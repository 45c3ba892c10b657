"""Publish's refusals with their HTTP class and their Chinese and English text, raised by code:
``refuse("notice_not_found", {"notice_id": notice_id})``.

The notice, objection, report and working-day rules still word their own refusals beside the rule
(domain/notice.py, objections.py, reports.py, workdays.py, rate_limit.py).
"""

from __future__ import annotations

from gongyi.errors import Conflict, InvalidInput, NotFound
from gongyi.refusals import Catalogue

CATALOGUE = Catalogue({
    "call_not_found": (NotFound, "征集活动不存在", "No call {call_id!r}"),
    "notice_not_found": (NotFound, "公示不存在", "No notice {notice_id!r}"),
    "list_not_published": (NotFound, "入选名单尚未发布", "The final list is not published yet"),
    "objection_not_found": (NotFound, "未找到该异议，请核对查询码", "No objection with this tracking code"),
    "key_date_unknown": (InvalidInput, "该日期不是本次活动的重要节点", "Not one of the call's key dates"),
    "schedule_target_required": (InvalidInput, "请指定发布时间或活动重要节点（二选一）",
                                 "Give either publish_at or key_date"),
    "project_not_selected": (Conflict, "仅入选项目可报送工作信息",
                             "Only selected projects can submit progress reports"),
    "project_not_found": (NotFound, "未找到该项目", "No such project visible to you"),
    "report_not_found": (NotFound, "报送信息不存在", "No report {report_id!r}"),
    "case_already_published": (Conflict, "该报送信息已发布为典型案例", "This report is already a case"),
    "case_not_found": (NotFound, "典型案例不存在", "No case {case_id!r}"),
})

refusal = CATALOGUE.refusal
refuse = CATALOGUE.refuse
issue = CATALOGUE.issue
