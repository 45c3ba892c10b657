from __future__ import annotations

from datetime import date

import pytest

from gongyi.errors import InvalidInput
from services.intake.domain.form import NARRATIVE_FIELDS, ApplicationForm, narrative_fields, parse_form


def test_an_empty_draft_is_a_valid_form():
    form = parse_form({})
    assert form.project_name is None and form.applicant.name is None and form.media_reports == []


def test_blank_text_is_absent_and_text_is_trimmed():
    form = parse_form(
        {"project_name": "  网络助学  ", "summary": " \n ", "applicant": {"credit_code": " 91abc "}}
    )
    assert form.project_name == "网络助学" and form.summary is None
    assert form.applicant.credit_code == "91ABC"


def test_types_and_unknown_fields_are_refused_with_paths():
    with pytest.raises(InvalidInput) as err:
        parse_form(
            {"started_on": "yesterday", "contact": {"wechat": "x"}, "media_reports": [{"published_on": "x"}]}
        )
    paths = {i.path for i in err.value.issues}
    assert paths == {"started_on", "contact.wechat", "media_reports[0].published_on"}
    assert {i.code for i in err.value.issues} == {"form_field_invalid"}


def test_dates_parse_from_iso_strings():
    assert parse_form({"started_on": "2022-12-31"}).started_on == date(2022, 12, 31)


def test_narrative_fields_returns_only_present_texts():
    form = ApplicationForm(summary="简介", innovation="创新")
    assert narrative_fields(form) == {"summary": "简介", "innovation": "创新"}
    assert narrative_fields(form, ["innovation"]) == {"innovation": "创新"}
    assert NARRATIVE_FIELDS == ("summary", "implementation_results", "innovation")
    with pytest.raises(ValueError):
        narrative_fields(form, ["project_name"])
