from __future__ import annotations

from datetime import date, datetime, timedelta

from intake_factories import henan, national

from services.intake.domain.call_changes import rule_changes, rules_fingerprint
from services.intake.domain.calls import CallDocument, parse_call


def _edit(call: CallDocument, part: str, **changes) -> CallDocument:
    return call.model_copy(update={part: getattr(call, part).model_copy(update=changes)})


def _codes(old: CallDocument, new: CallDocument) -> list[str]:
    return [i.code for i in rule_changes(old, new)]


def test_fingerprint_is_stable_and_ignores_presentation():
    call = national()
    fp = rules_fingerprint(call)
    assert fp.startswith("sha256:") and len(fp) == 7 + 64
    data = call.model_dump(mode="json")
    data["title"] = "另一个标题"
    data["categories"].reverse()
    data["window"]["closes"] = "2024-02-29T15:59:59Z"  # the same instant in UTC
    data["quotas"]["select_about"] = 31
    assert rules_fingerprint(parse_call(data)) == fp
    assert rules_fingerprint(henan()) != fp


def test_fingerprint_changes_with_each_rule_part():
    call = national()
    fp = rules_fingerprint(call)
    variants = [
        _edit(call, "window", closes=call.window.closes + timedelta(days=1)),
        _edit(call, "eligibility", started_before=date(2022, 1, 1)),
        _edit(call, "text_limit", max_chars=3000),
        _edit(call, "evidence", min_image_width=800),
        call.model_copy(update={"categories": call.categories[:-1]}),
        call.model_copy(update={"applicant_types": call.applicant_types[1:]}),
        call.model_copy(update={"recommending_units": call.recommending_units[1:]}),
    ]
    assert len({rules_fingerprint(v) for v in variants} | {fp}) == len(variants) + 1


def test_relaxing_is_not_a_breaking_change():
    call = national()
    relaxed = _edit(call, "window", closes=call.window.closes + timedelta(days=7))
    relaxed = _edit(relaxed, "text_limit", max_chars=3000)
    relaxed = _edit(relaxed, "eligibility", started_before=date(2023, 6, 1), must_be_running=False)
    assert rule_changes(call, relaxed) == []
    assert rule_changes(call, call) == []


def test_each_tightening_is_reported_with_its_path():
    call = national()
    tz = call.window.tz
    cases = {
        "deadline_moved_earlier": _edit(call, "window", closes=datetime(2024, 2, 20, tzinfo=tz)),
        "opening_moved_later": _edit(call, "window", opens=datetime(2024, 2, 1, tzinfo=tz)),
        "started_before_moved_earlier": _edit(call, "eligibility", started_before=date(2022, 1, 1)),
        "text_limit_reduced": _edit(call, "text_limit", max_chars=1500),
        "category_removed": call.model_copy(update={"categories": call.categories[:-1]}),
        "applicant_type_removed": call.model_copy(update={"applicant_types": call.applicant_types[:-1]}),
        "recommending_unit_removed": call.model_copy(
            update={"recommending_units": call.recommending_units[1:]}
        ),
        "evidence_now_required": _edit(call, "evidence", require_at_least_one=True),
        "image_resolution_tightened": _edit(call, "evidence", on_low_resolution="reject"),
    }
    for code, new in cases.items():
        assert _codes(call, new) == [code], code
    removed = rule_changes(call, cases["category_removed"])[0]
    assert removed.path == "categories.other" and removed.message_zh and removed.message_en


def test_tightenings_from_a_looser_call():
    old = henan()  # no started_before, running not required, no screenshot rule... per the plan
    old = _edit(old, "evidence", media_report_requires_screenshot=False)
    old = _edit(old, "text_limit", fields=["summary"])
    new = _edit(old, "eligibility", started_before=date(2018, 1, 1), must_be_running=True)
    new = _edit(new, "evidence", media_report_requires_screenshot=True)
    new = _edit(new, "text_limit", fields=["summary", "innovation"])
    assert sorted(_codes(old, new)) == [
        "running_now_required",
        "screenshot_now_required",
        "started_before_moved_earlier",
        "text_limit_fields_added",
    ]
    details = {i.code: i.details for i in rule_changes(old, new)}
    assert details["started_before_moved_earlier"] == {"old": None, "new": "2018-01-01"}


def test_document_changes_lists_every_changed_field():
    from services.intake.domain.call_changes import document_changes

    old = {"id": "c", "window": {"opens": "2024-01-01T00:00:00+08:00", "closes": "2024-02-29T23:59:59+08:00"},
           "categories": [{"code": "a", "label": "甲"}, {"code": "b", "label": "乙"}], "title": "征集"}
    new = {"id": "c", "window": {"opens": "2024-01-01T00:00:00+08:00", "closes": "2099-12-31T23:59:59+08:00"},
           "categories": [{"code": "a", "label": "甲一"}, {"code": "c", "label": "丙"}], "title": "征集",
           "key_dates": [{"date": "03-05", "label": "学雷锋日"}]}
    assert document_changes(old, new) == [
        {"field": "window.closes", "from": "2024-02-29T23:59:59+08:00", "to": "2099-12-31T23:59:59+08:00"},
        {"field": "categories.a.label", "from": "甲", "to": "甲一"},
        {"field": "categories.b", "from": {"code": "b", "label": "乙"}, "to": None},
        {"field": "categories.c", "from": None, "to": {"code": "c", "label": "丙"}},
        {"field": "key_dates", "from": None, "to": [{"date": "03-05", "label": "学雷锋日"}]},
    ]
    assert document_changes(old, old) == []
    reordered = {**old, "categories": old["categories"][::-1]}
    assert document_changes(old, reordered) == [{"field": "categories", "from": ["a", "b"], "to": ["b", "a"]}]
    # a new call: every top-level field is new
    assert [c["field"] for c in document_changes({}, old)] == ["id", "window", "categories", "title"]
