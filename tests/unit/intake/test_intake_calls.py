from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import pytest
from intake_factories import ROOT, henan, national
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from gongyi.errors import InvalidInput
from services.intake.domain import calls as calls_mod
from services.intake.domain.calls import CallDocument, call_schema, load_call_text, parse_call


def _raw(call: CallDocument) -> dict:
    return call.model_dump(mode="json")


def _paths(exc: InvalidInput) -> dict[str, str]:
    return {i.path: i.code for i in exc.issues}


def test_national_call_holds_the_2024_rules():
    call = national()
    assert call.window.closes == datetime(2024, 2, 29, 15, 59, 59, tzinfo=UTC)
    assert call.window.opens.date() == date(2024, 1, 29)
    assert [t.label for t in call.applicant_types] == [
        "政府部门",
        "社会组织",
        "企事业单位",
        "新闻媒体",
        "商业网站平台",
    ]
    assert [c.label for c in call.categories][:5] == [
        "互联网+共同富裕",
        "互联网+社会帮扶",
        "互联网+应急救援",
        "互联网+教育发展",
        "互联网+文化传承",
    ]
    assert len(call.categories) == 6
    assert [c.label for c in call.criteria] == ["规范性", "平台化", "公益性", "实效性", "影响力", "示范性"]
    assert "业务主管部门审核批准" in call.criteria[0].definition
    assert call.eligibility.started_before == date(2023, 1, 1) and call.eligibility.must_be_running
    assert call.text_limit.max_chars == 2000
    assert call.quotas.select_about == 30
    assert [s.label for s in call.stages] == ["初审筛选", "专家评审", "终评公示"]
    cacs = [u for u in call.recommending_units if u.kind == "provincial_cyberspace_office"]
    assert len(cacs) == 32  # 31 provincial-level units + the XPCC
    assert call.unit("cac-beijing").name == "北京市委网信办"
    assert call.unit("cac-xinjiang").name == "新疆维吾尔自治区党委网信办"
    assert call.unit("cac-xpcc").name == "新疆生产建设兵团党委网信办"
    sites = {u.name for u in call.recommending_units if u.kind == "central_news_website"}
    assert {
        "人民网",
        "新华网",
        "中国网",
        "央视网",
        "国际在线",
        "中国日报网",
        "中青网",
        "中国经济网",
        "中国台湾网",
        "中国西藏网",
        "光明网",
        "中国新闻网",
        "央广网",
        "环球网",
    } <= sites
    assert call.unit("site-people").name == "人民网"
    assert all(u.code.isascii() for u in call.recommending_units)


def test_henan_call_holds_the_2018_plan():
    call = henan()
    assert [(s.label, s.starts, s.ends) for s in call.stages] == [
        ("动员部署", date(2018, 4, 1), date(2018, 4, 30)),
        ("全面实施", date(2018, 4, 1), date(2018, 10, 31)),
        ("总结提升", date(2018, 11, 1), date(2018, 12, 31)),
    ]
    by_label = {k.label: k for k in call.key_dates}
    assert by_label["学雷锋日"].on(2019) == date(2019, 3, 5)
    assert by_label["中华慈善日"].recurring and by_label["全国扶贫日"].date == "10-17"
    assert by_label["国际志愿者日"].date == "12-05"
    assert by_label["春节"].on(2018) == date(2018, 2, 16) and by_label["春节"].on(2019) is None
    assert {"端午节", "中秋节", "重阳节", "元宵节"} <= set(by_label)
    assert [k.label for k in call.reporting.kinds] == ["工作动态", "重大活动", "典型案例", "阶段性成果"]
    assert {"脱贫攻坚", "生态文明", "养老助残", "关爱留守儿童"} <= {t.label for t in call.themes}
    cities = [u for u in call.recommending_units if u.kind == "city_cyberspace_office"]
    assert len(cities) == 18
    assert cities[0].name == "郑州市委网信办" and call.unit("cac-jiyuan").name == "济源市委网信办"
    assert call.unit("henan-provincial-departments").name == "省直有关单位"
    assert call.eligibility.started_before is None and not call.review.conflict_same_province


@pytest.mark.parametrize("call", [national(), henan()], ids=["national", "henan"])
def test_parsed_calls_dump_back_to_schema_valid_documents(call):
    dumped = _raw(call)
    assert list(Draft202012Validator(call_schema()).iter_errors(dumped)) == []
    assert parse_call(dumped) == call


def _model_for_defs() -> dict[str, type[BaseModel] | None]:
    m = calls_mod
    return {
        "labelled": m.Labelled,
        "window": m.Window,
        "category": m.Category,
        "criterion": m.Criterion,
        "eligibility": m.Eligibility,
        "text_limit": m.TextLimit,
        "evidence": m.EvidenceRules,
        "unit": m.RecommendingUnit,
        "quotas": m.Quotas,
        "review": m.ReviewRules,
        "notice": m.Notice,
        "stage": m.Stage,
        "key_date": m.KeyDate,
        "reporting": m.Reporting,
    }


def test_schema_and_model_have_the_same_fields_and_required_fields():
    schema = call_schema()
    pairs = [(schema, CallDocument)] + [(schema["$defs"][k], v) for k, v in _model_for_defs().items()]
    for part, model in pairs:
        assert set(part["properties"]) == set(model.model_fields), model.__name__
        required = {n for n, f in model.model_fields.items() if f.is_required()}
        assert set(part.get("required", [])) == required, model.__name__
        assert part.get("additionalProperties") is False, model.__name__
    assert schema["$defs"]["text_limit"]["properties"]["fields"]["items"]["enum"] == [
        "summary",
        "implementation_results",
        "innovation",
    ]


MUTATIONS = [
    ("id", lambda d: d.update(id="2024 National")),
    ("unknown key", lambda d: d.update(colour="red")),
    ("window", lambda d: d["window"].pop("closes")),
    ("window", lambda d: d["window"].update(closes="29/02/2024")),
    ("categories", lambda d: d.update(categories=[])),
    ("categories[0]", lambda d: d["categories"][0].pop("definition")),
    ("criteria[0].weight", lambda d: d["criteria"][0].update(weight=0)),
    ("eligibility.must_be_running", lambda d: d["eligibility"].update(must_be_running="yes")),
    ("eligibility.started_before", lambda d: d["eligibility"].update(started_before="2023-1-1")),
    ("text_limit.max_chars", lambda d: d["text_limit"].update(max_chars=0)),
    ("text_limit.fields[0]", lambda d: d["text_limit"].update(fields=["contact"])),
    ("evidence.on_low_resolution", lambda d: d["evidence"].update(on_low_resolution="ignore")),
    ("recommending_units[0].kind", lambda d: d["recommending_units"][0].update(kind="ministry")),
    ("quotas.select_about", lambda d: d["quotas"].update(select_about=2.5)),
    ("review.blind", lambda d: d["review"].update(blind=1)),
    ("notice", lambda d: d.update(notice={})),
    ("key_dates[0].date", lambda d: d.update(key_dates=[{"date": "3-5", "label": "学雷锋日"}])),
    ("applicant_types[0].code", lambda d: d["applicant_types"][0].update(code="政府")),
]


@pytest.mark.parametrize("path,mutate", MUTATIONS, ids=[m[0] + str(i) for i, m in enumerate(MUTATIONS)])
def test_schema_and_model_both_reject_bad_documents(path, mutate):
    data = copy.deepcopy(_raw(national()))
    mutate(data)
    assert list(Draft202012Validator(call_schema()).iter_errors(data)), "schema accepted it"
    with pytest.raises(ValidationError):
        CallDocument.model_validate(data)
    with pytest.raises(InvalidInput) as err:
        parse_call(data)
    assert all(i.code == "call_schema_violation" for i in err.value.issues)
    assert any(i.path.startswith(path) or path == "unknown key" for i in err.value.issues)


def test_parse_call_reports_cross_field_problems_with_paths():
    data = copy.deepcopy(_raw(national()))
    data["window"]["closes"] = "2024-01-01T00:00:00"
    data["categories"][1]["code"] = data["categories"][0]["code"]
    data["quotas"]["per_category"] = {"space_travel": {"min": 1, "max": 2}, "education": {"min": 3, "max": 1}}
    data["stages"][0].update(starts="2024-03-10", ends="2024-03-01")
    with pytest.raises(InvalidInput) as err:
        parse_call(data)
    assert _paths(err.value) == {
        "window.closes": "call_window_inverted",
        "categories[1].code": "call_duplicate_code",
        "quotas.per_category.space_travel": "call_unknown_category",
        "quotas.per_category.education": "call_quota_inverted",
        "stages[0].ends": "call_stage_inverted",
    }
    assert all(i.message_zh and i.message_en for i in err.value.issues)


def test_unknown_time_zone_is_refused_by_the_model():
    data = copy.deepcopy(_raw(national()))
    data["window"]["timezone"] = "Mars/Olympus"
    with pytest.raises(InvalidInput) as err:
        parse_call(data)
    assert [i.code for i in err.value.issues] == ["call_invalid"]
    assert err.value.issues[0].path == "window"


def test_naive_times_are_read_in_the_call_zone_and_offsets_are_kept():
    data = copy.deepcopy(_raw(national()))
    data["window"].update(opens="2024-01-29T00:00:00", closes="2024-02-29T15:59:59Z")
    call = parse_call(data)
    assert call.window.opens.utcoffset() == timedelta(hours=8)
    assert call.window.closes == national().window.closes


def test_yaml_dates_are_not_turned_into_objects_before_validation():
    text = (ROOT / "calls" / "2024-national.yaml").read_text(encoding="utf-8")
    assert load_call_text(text) == national()
    with pytest.raises(InvalidInput) as err:
        load_call_text("id: [unclosed")
    assert err.value.issues[0].code == "call_yaml_invalid"
    with pytest.raises(InvalidInput) as err:
        load_call_text("- just\n- a list\n")
    assert err.value.issues[0].code == "call_not_mapping"


def test_parse_call_accepts_date_objects_from_other_loaders():
    data = copy.deepcopy(_raw(national()))
    data["eligibility"]["started_before"] = date(2023, 1, 1)
    data["window"]["closes"] = datetime(2024, 2, 29, 23, 59, 59)
    assert parse_call(data).window.closes == national().window.closes


def test_a_category_quota_may_give_only_a_minimum():
    data = copy.deepcopy(_raw(national()))
    data["quotas"]["per_category"] = {"education": {"min": 2}, "emergency_rescue": {"min": 1, "max": None}}
    assert list(Draft202012Validator(call_schema()).iter_errors(data)) == []
    call = parse_call(data)
    assert call.quotas.per_category["education"].max is None and call.quotas.per_category["education"].min == 2
    # what intake sends on call.loaded.v1 stays valid, with no maximum
    assert list(Draft202012Validator(call_schema()).iter_errors(_raw(call))) == []
    data["quotas"]["per_category"]["education"] = {"max": 3}  # a maximum alone is not a quota
    with pytest.raises(InvalidInput):
        parse_call(data)


def test_review_and_report_deadlines_are_read_in_the_calls_zone_and_reports_sorted():
    raw = _raw(henan())
    raw["review"]["due"] = "2018-09-30T18:00:00"
    raw["reporting"]["due"] = ["2018-12-31T23:59:59", "2018-06-30T23:59:59+08:00"]
    call = parse_call(raw)
    assert call.review.due == datetime(2018, 9, 30, 10, 0, tzinfo=UTC)
    assert call.review.remind_days_before == 3 and call.reporting.remind_days_before == 7
    assert [d.isoformat() for d in call.reporting.due] == ["2018-06-30T23:59:59+08:00", "2018-12-31T23:59:59+08:00"]
    dumped = call.model_dump(mode="json")
    assert dumped["review"]["due"] == "2018-09-30T18:00:00+08:00"
    assert not schema_issues_of(dumped)  # what intake announces passes its own contract


def schema_issues_of(document: dict) -> list:
    return calls_mod.schema_issues(document)


@pytest.mark.parametrize(("path", "value"), [
    (("review", "remind_days_before"), 61),
    (("review", "due"), "next friday"),
    (("reporting", "due"), ["30/06/2018"]),
])
def test_bad_deadlines_are_refused_with_their_path(path, value):
    raw = _raw(henan())
    raw[path[0]][path[1]] = value
    with pytest.raises(InvalidInput) as err:
        parse_call(raw)
    # ``reporting`` may be null (oneOf): the schema names the section, the model the field
    assert any(p.startswith(".".join(path)) or p == path[0] for p in _paths(err.value)), _paths(err.value)
