from datetime import datetime

import pytest

from gongyi.errors import Forbidden, InvalidInput
from services.review.domain.conflicts import (
    ConflictPolicy,
    ProjectProfile,
    conflict_table,
    conflicts_of,
    declare_on_open,
    ensure_no_conflict,
)
from services.review.domain.experts import Expert
from services.review.domain.names import normalise_credit_code, normalise_org_name

PROJECT = ProjectProfile("A-1", "教育发展", "北京某某（公益）基金会", "53100000mj0000000x", "北京", "BJ-CAC")


def codes(reasons):
    return [r.code for r in reasons]


def test_unrelated_expert_has_no_conflict():
    e = Expert("e1", "张三", "某大学", province="上海", expertise=frozenset({"教育发展"}))
    assert conflicts_of(e, PROJECT, ConflictPolicy()) == []


def test_same_credit_code_is_a_conflict_despite_case_and_spaces():
    e = Expert("e1", "张三", "别的名字", credit_code=" 53100000MJ0000000X ")
    assert codes(conflicts_of(e, PROJECT, ConflictPolicy())) == ["same_organisation_credit_code"]


def test_same_organisation_name_after_normalising_width_brackets_and_spaces():
    assert normalise_org_name("北京 某某(公益)基金会") == normalise_org_name("北京某某（公益）基金会")
    assert normalise_credit_code("５３１ ０") == "5310"
    e = Expert("e1", "张三", "北京 某某(公益)基金会")
    assert codes(conflicts_of(e, PROJECT, ConflictPolicy())) == ["same_organisation_name"]
    # A different legal body with a longer name is not the same organisation.
    e2 = Expert("e2", "李四", "北京某某（公益）基金会有限公司")
    assert conflicts_of(e2, PROJECT, ConflictPolicy()) == []


def test_declared_application_and_declared_organisation():
    e = Expert("e1", "张三", declared_application_ids=frozenset({"A-1"}),
               declared_organisations=frozenset({"北京某某(公益)基金会"}))
    assert codes(conflicts_of(e, PROJECT, ConflictPolicy())) == ["declared_application", "declared_organisation"]
    e2 = Expert("e2", "李四", declared_credit_codes=frozenset({"53100000MJ0000000X"}))
    assert codes(conflicts_of(e2, PROJECT, ConflictPolicy())) == ["declared_organisation"]


def test_province_and_recommending_unit_follow_the_call_policy():
    e = Expert("e1", "张三", province="北京", unit_codes=frozenset({"BJ-CAC"}))
    assert codes(conflicts_of(e, PROJECT, ConflictPolicy())) == ["same_recommending_unit"]
    both = ConflictPolicy(same_province=True, same_recommending_unit=True)
    assert codes(conflicts_of(e, PROJECT, both)) == ["same_province", "same_recommending_unit"]
    assert conflicts_of(e, PROJECT, ConflictPolicy(same_province=False, same_recommending_unit=False)) == []


def test_declaration_on_opening_a_project_needs_a_reason_and_then_blocks():
    at = datetime(2024, 3, 10, 9, 0)
    with pytest.raises(InvalidInput) as err:
        declare_on_open("e1", "A-1", " ", at)
    assert err.value.issues[0].code == "conflict_reason_required"
    d = declare_on_open("e1", "A-1", "曾担任该项目顾问", at)
    e = Expert("e1", "张三")
    assert codes(conflicts_of(e, PROJECT, ConflictPolicy(), [d])) == ["declared_on_open"]
    with pytest.raises(Forbidden) as err:
        ensure_no_conflict(e, PROJECT, ConflictPolicy(), [d])
    assert err.value.code == "expert_conflicted"
    ensure_no_conflict(Expert("e2", "李四"), PROJECT, ConflictPolicy(), [d])  # another expert is fine


def test_conflict_table_lists_only_conflicted_pairs():
    experts = [Expert("e1", "张三", "北京某某（公益）基金会"), Expert("e2", "李四")]
    other = ProjectProfile("A-2", "其他", "另一家机构")
    table = conflict_table(experts, [PROJECT, other], ConflictPolicy())
    assert list(table) == [("e1", "A-1")]


def test_profile_and_expert_from_plain_documents():
    app = {"category": "其他", "unit_code": "HA-CAC",
           "applicant": {"name": "某某协会", "credit_code": "51410000X", "province": "河南",
                         "type": "social_organisation"}}
    p = ProjectProfile.from_application("A-7", app)
    assert (p.id, p.category, p.applicant_name) == ("A-7", "其他", "某某协会")
    assert (p.province, p.unit_code) == ("河南", "HA-CAC")
    e = Expert.from_dict({"id": 5, "name": "王五", "organisation": "某某协会", "expertise": ["其他"],
                          "unit_codes": ["HA-CAC"], "max_load": 8})
    assert e.id == "5" and e.expertise == frozenset({"其他"}) and e.max_load == 8
    assert codes(conflicts_of(e, p, ConflictPolicy())) == ["same_organisation_name", "same_recommending_unit"]
