"""Intake's refusals with their HTTP class and their Chinese and English text, raised by code:
``refuse("application_not_found", {"application_id": app_id})``.

The form's, the call document's and the rule-change findings keep their texts beside their rules
(domain/rules.py, domain/calls.py, domain/call_changes.py), each written once there.
"""

from __future__ import annotations

from gongyi.errors import Conflict, Forbidden, NotFound
from gongyi.refusals import Catalogue

CATALOGUE = Catalogue({
    "call_not_found": (NotFound, "征集活动不存在", "No call {call_id!r}"),
    "call_not_found/version": (NotFound, "征集活动版本不存在", "No version {version} of call {call_id!r}"),
    "rule_change_needs_acknowledgement": (
        Conflict, "规则变更可能使已受理的申报不再符合要求，请确认并填写变更说明",
        "This rule change may invalidate accepted applications; acknowledge it with a note"),
    "application_not_found": (NotFound, "申报不存在", "No application {application_id!r}"),
    "forbidden_role": (Forbidden, "只有申报主体可以修改申报表", "Only the applicant edits the form"),
    "form_frozen": (Conflict, "申报当前状态为“{state_zh}”，不能修改",
                    "The application is {state} and cannot be edited"),
    "forbidden_transition": (Forbidden, "当前角色不能执行此操作", "Role {role} may not {action}"),
    "invalid_transition": (Conflict, "申报当前状态为“{state_zh}”，不能执行此操作",
                           "Cannot {action} an application that is {state}"),
    "duplicate_application": (Conflict, "同一申报主体已以相同项目名称申报本次征集，每个项目限申报一次",
                              "The same organisation already applied with this project name in this call"),
    "idempotency_key_reused": (Conflict, "该幂等键已用于另一批次",
                               "This idempotency key was used for a different batch"),
    "batch_refused": (Conflict, "批次中有申报无法统一申报，本批次未提交任何申报",
                      "Some applications cannot be forwarded; nothing in this batch was forwarded"),
    "unit_not_in_call": (Forbidden, "本单位不是该征集活动的推荐单位",
                         "Unit {unit_code!r} is not a recommending unit of call {call_id!r}"),
})

refusal = CATALOGUE.refusal
refuse = CATALOGUE.refuse
issue = CATALOGUE.issue
