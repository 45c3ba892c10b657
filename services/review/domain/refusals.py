"""Every refusal review can give, with its HTTP class and its Chinese and English text.

Raise with ``refuse("project_not_found", {"application_id": app_id})``; an input problem is
``issue("score_missing", path, name_zh=..., name_en=...)`` inside an ``InvalidInput``.
(Duplicate scoring's own texts stay in domain/duplicates/.)
"""

from __future__ import annotations

from gongyi.errors import BadRequest, Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from gongyi.refusals import Catalogue

CATALOGUE = Catalogue({
    # calls and projects
    "call_not_found": (NotFound, "评审服务尚未收到该征集活动的规则", "Review knows no call {call_id!r}"),
    "project_not_found": (NotFound, "项目不存在", "No project {application_id!r}"),
    "project_not_found/expert": (NotFound, "项目不存在或未分配给您", "No project {application_id!r} assigned to you"),
    "project_not_found/decision": (InvalidInput, "项目不存在", "No such project"),
    "project_withdrawn": (InvalidInput, "项目已撤回，不能筛选", "The project was withdrawn"),
    # screening
    "screening_decision_invalid": (InvalidInput, "筛选结论只能是通过或不通过", "The decision must be pass or fail"),
    "screening_reason_required": (InvalidInput, "不通过时必须填写理由", "A reason is required to fail an application"),
    "override_reason_required": (InvalidInput, "初审规则未通过，如仍判定通过须填写理由",
                                 "Passing an application that failed a rule needs a reason"),
    # experts, conflicts, assignment
    "expert_scope_missing": (Forbidden, "登录凭证未包含专家编号", "The token carries no expert id"),
    "expert_exists": (Conflict, "专家编号已存在", "Expert {expert_id!r} exists"),
    "expert_not_found": (NotFound, "专家不存在", "No expert {expert_id!r}"),
    "expert_conflicted": (Forbidden, "存在利益冲突，需回避该项目",
                          "The expert has a conflict of interest with this project"),
    "conflict_reason_required": (InvalidInput, "申报回避须说明理由", "A conflict declaration needs a reason"),
    "already_assigned": (Conflict, "该专家已分配评审此项目", "The expert is already assigned"),
    "assignment_not_found": (NotFound, "该专家未被分配评审此项目", "The expert is not assigned to this project"),
    "assignment_not_found/expert": (NotFound, "未分配给您评审的项目", "This project is not assigned to you"),
    "expert_not_assigned": (Conflict, "该专家未被分配评审此项目", "The expert is not assigned to this project"),
    "project_unknown": (InvalidInput, "项目不存在", "Unknown project"),
    "existing_assignment_conflicted": (InvalidInput, "原分配专家存在利益冲突，已撤回",
                                       "An existing assignment is conflicted and was withdrawn"),
    "too_few_eligible_experts": (InvalidInput, "无利益冲突的专家仅{eligible}人，少于所需{needed}人",
                                 "Only {eligible} unconflicted expert(s), {needed} needed"),
    "expert_capacity_exhausted": (InvalidInput, "可分配专家的评审数量已达上限",
                                  "The unconflicted experts have reached their maximum load"),
    "balance_blocked_by_conflicts": (
        InvalidInput, "因利益冲突，负荷较轻的专家无法评审本项目，专家负荷无法均衡",
        "Conflicts keep less-loaded experts off this project, so loads cannot be balanced"),
    "no_replacement_available": (
        InvalidInput, "没有符合回避规则且有余量的替补专家",
        "No unconflicted expert with spare capacity can replace the one who declined"),
    "k_invalid": (InvalidInput, "每个项目的评审专家数至少为1", "k must be at least 1"),
    "duplicate_expert_id": (InvalidInput, "专家编号重复", "Expert ids must be unique"),
    # scoring
    "criteria_invalid": (InvalidInput, "评分标准为空或编号重复", "Criteria are empty or repeat a code"),
    "criteria_invalid/values": (InvalidInput, "满分和权重须为正数", "max_score and weight must be positive"),
    "score_missing": (InvalidInput, "未对“{name_zh}”评分", "No score for {name_en}"),
    "score_not_a_number": (InvalidInput, "“{name_zh}”的评分须为数字", "The score for {name_en} must be a number"),
    "score_out_of_range": (InvalidInput, "“{name_zh}”的评分须在0到{max_score:g}之间",
                           "The score for {name_en} must be between 0 and {max_score:g}"),
    "score_out_of_range/total": (InvalidInput, "总分须在0到100之间", "A total must be within 0..100"),
    "unknown_criterion": (InvalidInput, "评分包含本次征集未设置的标准",
                          "The scores name a criterion this call does not have"),
    "review_locked": (Conflict, "评分已提交并锁定，如需修改请申请退回",
                      "The review is submitted and locked; ask for it to be reopened"),
    "not_review_owner": (Forbidden, "只能修改本人的评分", "Only the assigned expert can edit this review"),
    "not_review_owner/submit": (Forbidden, "只能提交本人的评分", "Only the assigned expert can submit this review"),
    "comment_too_short": (InvalidInput, "评审意见不少于{min}字", "Comments need at least {min} characters"),
    "review_not_submitted": (Conflict, "评分尚未提交，无需退回", "The review is not submitted"),
    "reopen_reason_required": (InvalidInput, "退回评分须填写理由", "A reason is required to reopen a review"),
    "review_not_found": (NotFound, "评分不存在", "No such review"),
    "review_not_found/unsaved": (NotFound, "尚未保存评分", "No review saved yet"),
    # aggregation, ranking, selection
    "duplicate_review": (InvalidInput, "同一专家对同一项目有多份评分",
                         "One expert has more than one review of a project"),
    "trim_min_reviews_invalid": (InvalidInput, "去极值至少需要3份评分", "Trimming needs at least 3 reviews"),
    "ranking_not_found": (NotFound, "排名结果不存在", "No ranking {ranking_id!r}"),
    "ranking_not_found/other_call": (NotFound, "排名结果不属于该征集活动", "The ranking belongs to another call"),
    "category_bounds_invalid": (InvalidInput, "类别名额下限不得大于上限",
                                "A category's minimum must not exceed its maximum"),
    "category_minimums_exceed_quota": (InvalidInput, "各类别最低名额之和超过总名额",
                                       "The category minimums add up to more than the quota"),
    "category_minimum_unmet": (InvalidInput, "类别“{code}”的候选项目不足最低名额{lo}个",
                               "Category {code} has fewer candidates than its minimum of {lo}"),
    "quota_unfilled": (InvalidInput, "符合条件的项目不足{quota}个", "Fewer than {quota} projects qualify"),
    "tie_at_cutoff": (InvalidInput, "入围线上存在同分项目，按并列规则排序",
                      "A tie at the cut-off was decided by the tie-break rules"),
    "proposal_not_found": (NotFound, "建议名单不存在", "No proposal {proposal_id!r}"),
    "selection_already_confirmed": (Conflict, "名单已确认", "The selection is already confirmed"),
    "selection_already_confirmed/adjust": (Conflict, "名单已确认，不能再调整", "The selection is already confirmed"),
    "adjust_reason_required": (InvalidInput, "调整名单须填写理由", "A reason is required"),
    "not_in_ranking": (InvalidInput, "项目不在该排名中", "The project is not in the ranking"),
    "not_selected": (InvalidInput, "项目不在建议名单中", "The project is not in the proposal"),
    "selection_not_found": (NotFound, "尚无确认的名单", "No confirmed selection"),
    # duplicates (staff)
    "duplicate_not_found": (NotFound, "未找到该疑似重复记录", "No such suspected duplicate"),
    "duplicate_already_settled": (Conflict, "该疑似重复已认定", "This suspected duplicate is already settled"),
    "keep_id_required": (InvalidInput, "认定为同一项目时须指定保留的申报", "keep_id is required for same_project"),
    # search
    "invalid_cursor": (BadRequest, "翻页游标无效", "The cursor is not valid"),
    "search_unavailable": (Unavailable, "检索服务暂不可用，请稍后重试", "Search is temporarily unavailable"),
})

refusal = CATALOGUE.refusal
refuse = CATALOGUE.refuse
issue = CATALOGUE.issue
