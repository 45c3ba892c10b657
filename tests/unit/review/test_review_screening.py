from datetime import date, datetime

import pytest
from review_fixtures import NOW, application, rules_2024

from gongyi.errors import InvalidInput
from services.review.domain.screening import (
    RULE_ORDER,
    SHANGHAI,
    ScreeningRules,
    count_chars,
    decide,
    screen,
)


def outcome(report, rule):
    return report.finding(rule).outcome


def test_clean_application_passes_every_rule_in_order():
    report = screen(application(), rules_2024(), NOW)
    assert [f.rule for f in report.findings] == list(RULE_ORDER)
    assert report.outcome == "passed"
    assert all(f.reason_zh and f.reason_en for f in report.findings)


def test_started_on_the_cutoff_day_fails_because_the_rule_is_strictly_before():
    report = screen(application(started_on="2023-01-01"), rules_2024(), NOW)
    assert outcome(report, "started_before") == "failed"
    assert "2023-01-01" in report.finding("started_before").reason_zh
    assert outcome(screen(application(started_on="2022-12-31"), rules_2024(), NOW), "started_before") == "passed"


def test_start_date_missing_invalid_or_future_fails():
    assert outcome(screen(application(started_on=None), rules_2024(), NOW), "started_before") == "failed"
    assert outcome(screen(application(started_on="去年"), rules_2024(), NOW), "started_before") == "failed"
    rules = rules_2024(started_before=None)
    assert outcome(screen(application(started_on="2025-01-01"), rules, NOW), "started_before") == "failed"
    assert outcome(screen(application(started_on="2023-06-01"), rules, NOW), "started_before") == "passed"


def test_project_no_longer_running_fails_unless_call_allows_it():
    app = application(still_running=False)
    assert outcome(screen(app, rules_2024(), NOW), "still_running") == "failed"
    assert outcome(screen(app, rules_2024(must_be_running=False), NOW), "still_running") == "passed"


def test_category_and_applicant_type_must_belong_to_the_call():
    report = screen(application(category="体育健身"), rules_2024(), NOW)
    assert outcome(report, "category_allowed") == "failed"
    assert report.finding("category_allowed").details["value"] == "体育健身"
    app = application()
    app["applicant"] = dict(app["applicant"], type="individual")
    assert outcome(screen(app, rules_2024(), NOW), "applicant_type_allowed") == "failed"


def test_forwarded_after_close_fails_and_naive_close_is_read_in_shanghai():
    # 2024-02-29 23:59:59 Shanghai == 15:59:59 UTC; 16:00 UTC is one second late.
    late = application(forwarded_at="2024-02-29T16:00:00+00:00")
    on_time = application(forwarded_at="2024-02-29T15:59:59+00:00")
    rules = rules_2024(closes_at=datetime(2024, 2, 29, 23, 59, 59))
    assert rules.closes_at.tzinfo == SHANGHAI
    assert outcome(screen(late, rules, NOW), "submitted_on_time") == "failed"
    assert outcome(screen(on_time, rules, NOW), "submitted_on_time") == "passed"
    assert outcome(screen(application(forwarded_at=None), rules, NOW), "submitted_on_time") == "failed"


def test_from_call_reads_iso_strings_and_treats_naive_times_as_shanghai():
    rules = ScreeningRules.from_call({
        "started_before": "2023-01-01", "categories": ["教育发展"], "applicant_types": ["enterprise"],
        "closes_at": "2024-02-29T23:59:59", "text_limit": 100,
    })
    assert rules.started_before == date(2023, 1, 1)
    assert rules.closes_at.utcoffset().total_seconds() == 8 * 3600
    assert rules.text_limit == 100 and rules.must_be_running is True


def test_completeness_lists_missing_fields_evidence_and_media_report_parts():
    app = application(summary="  ", media_reports=[{"url": "https://x.cn/1"}], image_evidence_ids=[])
    f = screen(app, rules_2024(), NOW).finding("complete")
    assert f.outcome == "failed"
    assert f.details["missing_fields"] == ["summary"]
    assert f.details["incomplete_media_reports"] == [{"index": 0, "missing": ["screenshot_evidence_id"]}]
    assert "截图" in f.reason_zh


def test_no_evidence_at_all_fails_only_when_the_call_requires_it():
    app = application(media_reports=[], image_evidence_ids=[], video_evidence_ids=[])
    assert screen(app, rules_2024(), NOW).finding("complete").details["no_evidence"] is True
    assert outcome(screen(app, rules_2024(require_evidence=False), NOW), "complete") == "passed"


def test_text_limit_counts_non_whitespace_characters_over_the_narrative_fields():
    # summary 10 + results 5 + innovation 6 = 21 characters; spaces and newlines do not count.
    app = application(summary="一二三四五六七八九十", implementation_results="abc d\ne", innovation="  六个字符号啊 ")
    assert count_chars("abc d\ne") == 5
    f = screen(app, rules_2024(text_limit=21), NOW).finding("text_limit")
    assert (f.outcome, f.details["chars"]) == ("passed", 21)
    assert outcome(screen(app, rules_2024(text_limit=20), NOW), "text_limit") == "failed"


def test_quality_warnings_and_duplicate_suspicions_warn_but_do_not_fail():
    report = screen(application(), rules_2024(), NOW,
                    evidence_warnings=[{"code": "image_too_small", "evidence_id": "ev-2"}],
                    duplicate_suspicions=[{"other_application_id": "A-9", "score": 0.93}])
    assert outcome(report, "evidence_quality") == "warning"
    assert outcome(report, "duplicates") == "warning"
    assert report.finding("duplicates").details["items"][0]["other_application_id"] == "A-9"
    assert report.outcome == "warning"


def test_fail_decision_needs_a_reason_and_overriding_a_failed_rule_too():
    failed = screen(application(still_running=False), rules_2024(), NOW)
    with pytest.raises(InvalidInput) as e:
        decide("A-1", failed, "fail", "staff-1", NOW)
    assert e.value.issues[0].code == "screening_reason_required"
    with pytest.raises(InvalidInput) as e:
        decide("A-1", failed, "pass", "staff-1", NOW)
    assert e.value.issues[0].code == "override_reason_required"
    d = decide("A-1", failed, "pass", "staff-1", NOW, reason="项目已于2024年恢复实施，经核实")
    assert d.overrides == ("still_running",) and d.report_outcome == "failed"
    ok = decide("A-2", screen(application(), rules_2024(), NOW), "pass", "staff-1", NOW)
    assert ok.decision == "pass" and ok.overrides == ()
    with pytest.raises(InvalidInput):
        decide("A-2", failed, "maybe", "staff-1", NOW, reason="x")
