from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from intake_factories import DURING_2024, SHANGHAI, all_evidence, henan, national, valid_form, valid_form_data

from services.intake.domain.form import ApplicationForm
from services.intake.domain.rules import REQUIRED_FIELDS, check_draft, check_submission


def _codes(issues) -> dict[str, str]:
    return {i.path: i.code for i in issues}


def _submit(form: ApplicationForm, call=None, now: datetime = DURING_2024, owner=all_evidence):
    return check_submission(form, call or national(), now, owner)


def test_a_complete_form_passes():
    assert _submit(valid_form()) == []


def test_every_issue_is_bilingual_and_has_a_snake_case_code():
    issues = _submit(ApplicationForm(), now=datetime(2024, 3, 1, tzinfo=SHANGHAI))
    assert len(issues) > 10
    for issue in issues:
        assert issue.code.islower() and " " not in issue.code
        assert issue.message_zh and issue.message_en


@pytest.mark.parametrize(
    "now,expected",
    [
        (datetime(2024, 2, 29, 23, 59, 59, 500000, tzinfo=SHANGHAI), None),
        (datetime(2024, 3, 1, 0, 0, 0, tzinfo=SHANGHAI), "call_closed"),
        (datetime(2024, 2, 29, 16, 0, 0, tzinfo=UTC), "call_closed"),
        (datetime(2024, 2, 29, 15, 59, 59, tzinfo=UTC), None),
        (datetime(2024, 1, 28, 23, 59, 59, tzinfo=SHANGHAI), "call_not_open"),
        (datetime(2024, 1, 29, 0, 0, 0, tzinfo=SHANGHAI), None),
    ],
)
def test_window_is_judged_in_shanghai_time(now, expected):
    codes = [i.code for i in _submit(valid_form(), now=now)]
    assert codes == ([expected] if expected else [])


def test_naive_server_time_is_a_programming_error():
    with pytest.raises(ValueError):
        _submit(valid_form(), now=datetime(2024, 2, 1))


def test_empty_form_lists_every_required_field():
    issues = _submit(ApplicationForm(), owner=None)
    required = {i.path for i in issues if i.code == "field_required"}
    assert required == set(REQUIRED_FIELDS)
    assert _codes(issues)["platform"] == "platform_required"


def test_blank_strings_count_as_missing():
    form = valid_form(project_name="   ", summary="")
    assert _codes(_submit(form)) == {"project_name": "field_required", "summary": "field_required"}


def test_one_platform_is_enough():
    data = valid_form_data(platform={"account": "守护助学公众号"})
    assert _submit(ApplicationForm.model_validate(data)) == []


def test_incomplete_figures_and_media_reports_are_named():
    form = valid_form(
        figures=[{"label": "受益人数"}],
        media_reports=[{"title": "报道", "screenshot_evidence_id": "ev-shot-1"}],
    )
    assert _codes(_submit(form)) == {
        "figures[0].value": "field_required",
        "media_reports[0].outlet": "field_required",
        "media_reports[0].published_on": "field_required",
        "media_reports[0].url": "field_required",
    }


def test_category_type_and_unit_must_belong_to_the_call():
    form = valid_form(category="sports", unit_code="cac-zhengzhou")
    form.applicant.type = "individual"
    assert _codes(_submit(form)) == {
        "category": "unknown_category",
        "applicant.type": "unknown_applicant_type",
        "unit_code": "unknown_recommending_unit",
    }


@pytest.mark.parametrize(
    "started,running,expected",
    [
        (date(2022, 12, 31), True, {}),
        (date(2023, 1, 1), True, {"started_on": "started_too_late"}),
        (date(2020, 1, 1), False, {"still_running": "project_not_running"}),
    ],
)
def test_eligibility(started, running, expected):
    assert _codes(_submit(valid_form(started_on=started, still_running=running))) == expected


def test_henan_plan_accepts_planned_projects():
    form = valid_form(
        category="left_behind_children",
        started_on=date(2018, 3, 1),
        still_running=False,
        unit_code="cac-zhengzhou",
        media_reports=[],
    )
    form.applicant.type = "online_social_organisation"
    assert check_submission(form, henan(), datetime(2018, 5, 1, tzinfo=SHANGHAI), all_evidence) == []


def test_text_limit_counts_all_narrative_fields_together():
    ok = valid_form(summary="字" * 1000, implementation_results="字" * 600, innovation="字" * 400)
    assert _submit(ok) == []
    # Whitespace and line breaks are free.
    spaced = valid_form(
        summary="字 \n" * 1000, implementation_results="字\u3000" * 600, innovation="字" * 400
    )
    assert _submit(spaced) == []
    over = valid_form(summary="字" * 1000, implementation_results="字" * 600, innovation="字" * 401)
    issues = _submit(over)
    assert _codes(issues) == {"innovation": "text_too_long"}
    assert issues[0].details["count"] == 2001 and issues[0].details["max_chars"] == 2000
    assert issues[0].details["per_field"] == {
        "summary": 1000,
        "implementation_results": 600,
        "innovation": 401,
    }


def test_text_limit_points_at_the_field_where_the_text_runs_over():
    issues = _submit(valid_form(summary="字" * 2001, implementation_results="a", innovation="b"))
    assert _codes(issues) == {"summary": "text_too_long"}


def test_bad_credit_code_reports_its_reason():
    form = valid_form()
    code = form.applicant.credit_code
    form.applicant.credit_code = code[:-1] + ("0" if code[-1] != "0" else "1")
    issues = _submit(form)
    assert _codes(issues) == {"applicant.credit_code": "invalid_credit_code"}
    assert issues[0].details["reason"] == "check_digit"


def test_credit_code_typed_in_lower_case_is_accepted():
    data = valid_form_data()
    data["applicant"]["credit_code"] = data["applicant"]["credit_code"].lower()
    assert _submit(ApplicationForm.model_validate(data)) == []


@pytest.mark.parametrize(
    "mobile,ok",
    [
        ("13800138000", True),
        ("+86 138-0013-8000", True),
        ("19912345678", True),
        ("12800138000", False),
        ("1380013800", False),
        ("010-65905052", False),
    ],
)
def test_mobile(mobile, ok):
    data = valid_form_data()
    data["contact"]["mobile"] = mobile
    assert _codes(_submit(ApplicationForm.model_validate(data))) == (
        {} if ok else {"contact.mobile": "invalid_mobile"}
    )


@pytest.mark.parametrize("email,ok", [("wxbspc@163.com", True), ("wxbspc@", False), ("a b@c.cn", False)])
def test_email(email, ok):
    data = valid_form_data()
    data["contact"]["email"] = email
    assert _codes(_submit(ApplicationForm.model_validate(data))) == (
        {} if ok else {"contact.email": "invalid_email"}
    )


@pytest.mark.parametrize(
    "url,ok",
    [
        ("https://gongyi.example.cn/p?id=1", True),
        ("ftp://example.cn/a", False),
        ("www.example.cn", False),
        ("https://exa mple.cn", False),
        ("javascript:alert(1)", False),
    ],
)
def test_links_must_be_http(url, ok):
    form = valid_form(platform={"website": url})
    form.media_reports[0].url = url
    expected = {} if ok else {"platform.website": "invalid_url", "media_reports[0].url": "invalid_url"}
    assert _codes(_submit(form)) == expected


def test_dates_cannot_be_in_the_future_of_the_server_day():
    now = datetime(2024, 2, 20, 16, 30, tzinfo=UTC)  # already 2024-02-21 in Shanghai
    form = valid_form()
    form.media_reports[0].published_on = date(2024, 2, 21)
    assert _submit(form, now=now) == []
    form.media_reports[0].published_on = date(2024, 2, 22)
    assert _codes(_submit(form, now=now)) == {"media_reports[0].published_on": "date_in_future"}


def test_started_on_in_the_future_is_refused_where_eligibility_allows_it():
    form = valid_form(
        category="other", started_on=date(2018, 6, 1), still_running=False, unit_code="cac-luoyang"
    )
    form.applicant.type = "website"
    form.media_reports = []
    issues = check_submission(form, henan(), datetime(2018, 5, 1, tzinfo=SHANGHAI), all_evidence)
    assert _codes(issues) == {"started_on": "date_in_future"}


def test_negative_beneficiaries_and_long_name():
    form = valid_form(beneficiaries=-1, project_name="长" * 101)
    assert _codes(_submit(form)) == {
        "beneficiaries": "invalid_number",
        "project_name": "project_name_too_long",
    }


def test_media_report_needs_a_screenshot():
    form = valid_form()
    form.media_reports[0].screenshot_evidence_id = None
    assert _codes(_submit(form)) == {
        "media_reports[0].screenshot_evidence_id": "media_report_screenshot_missing"
    }


def test_evidence_can_be_required_by_the_call():
    strict = national().model_copy(
        update={"evidence": national().evidence.model_copy(update={"require_at_least_one": True})}
    )
    form = valid_form(image_evidence_ids=[], video_evidence_ids=[])
    assert _submit(form) == []
    assert _codes(_submit(form, call=strict)) == {"image_evidence_ids": "evidence_required"}


def test_evidence_must_exist_and_belong_to_the_applicant():
    seen: list[list[str]] = []

    def owner(ids: list[str]) -> set[str]:
        seen.append(ids)
        return {"ev-img-1", "ev-shot-1"}

    form = valid_form(image_evidence_ids=["ev-img-1", "ev-img-9", "ev-img-1"])
    issues = _submit(form, owner=owner)
    assert _codes(issues) == {
        "image_evidence_ids[1]": "evidence_not_found",
        "video_evidence_ids[0]": "evidence_not_found",
    }
    assert seen == [["ev-img-1", "ev-img-9", "ev-vid-1", "ev-shot-1"]]  # asked once, without repeats
    assert issues[0].details["evidence_id"] == "ev-img-9"


def test_without_a_callback_ownership_is_not_checked():
    assert _submit(valid_form(image_evidence_ids=["whatever"]), owner=None) == []


def test_draft_checks_only_what_is_present():
    assert check_draft(ApplicationForm(), national()) == []
    late = DURING_2024 + timedelta(days=60)
    assert check_draft(valid_form(), national(), today=late.date()) == []
    draft = ApplicationForm.model_validate(
        {
            "contact": {"mobile": "123"},
            "category": "sports",
            "started_on": "2023-06-01",
            "summary": "字" * 2001,
        }
    )
    assert _codes(check_draft(draft, national())) == {
        "contact.mobile": "invalid_mobile",
        "category": "unknown_category",
        "started_on": "started_too_late",
        "summary": "text_too_long",
    }
    future = ApplicationForm(started_on=date(2030, 1, 1))
    assert "date_in_future" in {i.code for i in check_draft(future, henan(), today=date(2024, 1, 1))}
    assert check_draft(future, henan()) == []  # no date, no future check
