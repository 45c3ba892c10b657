from datetime import datetime

import pytest

from gongyi.errors import Conflict, Forbidden, InvalidInput
from services.review.domain.scoring import (
    CRITERIA_2024,
    Criterion,
    Review,
    reopen,
    save_draft,
    submit,
    validate_criteria,
    validate_scores,
    weighted_total,
)

NOW = datetime(2024, 3, 20, 10, 0)
TWO = (Criterion("a", "甲", "A", max_score=10, weight=2), Criterion("b", "乙", "B", max_score=20, weight=1))


def issue_codes(err):
    return [i.code for i in err.value.issues]


def test_weighted_total_hand_computed():
    # 100 * (2 * 8/10 + 1 * 10/20) / (2 + 1) = 100 * (1.6 + 0.5) / 3 = 70
    assert weighted_total({"a": 8, "b": 10}, TWO) == pytest.approx(70.0)
    assert weighted_total({"a": 10, "b": 20}, TWO) == pytest.approx(100.0)
    assert weighted_total({"a": 0, "b": 0}, TWO) == 0.0


def test_2024_criteria_are_the_six_of_the_call_in_order_with_equal_weights():
    assert [c.name_zh for c in CRITERIA_2024] == ["规范性", "平台化", "公益性", "实效性", "影响力", "示范性"]
    # Equal weights: 6 criteria, scores 10,8,6,10,8,6 of 10 -> 100 * 48 / 60 = 80
    scores = dict(zip([c.code for c in CRITERIA_2024], [10, 8, 6, 10, 8, 6], strict=True))
    assert weighted_total(scores, CRITERIA_2024) == pytest.approx(80.0)


def test_out_of_range_missing_unknown_and_non_numbers_are_refused_together():
    with pytest.raises(InvalidInput) as err:
        validate_scores({"a": 11, "c": 1}, TWO)
    assert issue_codes(err) == ["score_out_of_range", "score_missing", "unknown_criterion"]
    assert err.value.issues[0].details == {"value": 11, "min": 0, "max": 10}
    assert err.value.issues[0].path == "scores/a"
    with pytest.raises(InvalidInput) as err:
        validate_scores({"a": -0.5, "b": True}, TWO)
    assert issue_codes(err) == ["score_out_of_range", "score_not_a_number"]
    with pytest.raises(InvalidInput) as err:
        validate_scores({"a": float("nan"), "b": 1}, TWO)
    assert issue_codes(err) == ["score_not_a_number"]
    assert validate_scores({"a": 0, "b": 20}, TWO) == {"a": 0.0, "b": 20.0}


def test_criteria_configuration_is_checked():
    with pytest.raises(InvalidInput):
        validate_criteria((Criterion("a", "甲", "A"), Criterion("a", "甲", "A")))
    with pytest.raises(InvalidInput):
        validate_criteria((Criterion("a", "甲", "A", weight=0),))
    validate_criteria(CRITERIA_2024)


def test_submit_locks_and_edits_are_then_refused():
    r = save_draft(Review("e1", "P1"), {"a": 5}, "草稿", by_expert="e1")
    with pytest.raises(InvalidInput):
        submit(r, TWO, NOW)  # b is missing
    r = save_draft(r, {"a": 5, "b": 10}, "项目成效明显", by_expert="e1")
    done = submit(r, TWO, NOW)
    assert done.locked and done.submitted_at == NOW
    assert done.total(TWO) == pytest.approx(100 * (2 * 0.5 + 0.5) / 3)  # 50
    with pytest.raises(Conflict) as err:
        save_draft(done, {"a": 9, "b": 10}, "", by_expert="e1")
    assert err.value.code == "review_locked"
    with pytest.raises(Conflict):
        submit(done, TWO, NOW)


def test_only_the_assigned_expert_edits_and_comments_can_be_required():
    with pytest.raises(Forbidden):
        save_draft(Review("e1", "P1"), {}, "", by_expert="e2")
    r = Review("e1", "P1", {"a": 1, "b": 1}, comments="好")
    with pytest.raises(InvalidInput) as err:
        submit(r, TWO, NOW, min_comment_chars=5)
    assert issue_codes(err) == ["comment_too_short"]


def test_reopen_needs_a_reason_and_returns_an_audit_record():
    done = submit(Review("e1", "P1", {"a": 5, "b": 10}), TWO, NOW)
    with pytest.raises(InvalidInput) as err:
        reopen(done, "staff-1", "  ", NOW)
    assert issue_codes(err) == ["reopen_reason_required"]
    again, audit = reopen(done, "staff-1", "专家误填规范性分数", NOW)
    assert not again.locked and again.version == 2
    assert audit.previous_scores == {"a": 5.0, "b": 10.0} and audit.reason == "专家误填规范性分数"
    assert audit.reopened_by == "staff-1" and audit.previous_version == 1
    with pytest.raises(Conflict):
        reopen(again, "staff-1", "再次退回", NOW)
