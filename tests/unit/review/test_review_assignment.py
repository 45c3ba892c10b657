import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongyi.errors import Conflict
from services.review.domain.assignment import (
    AssignmentPolicy,
    assign,
    balance_feasible,
    replace_declined,
)
from services.review.domain.conflicts import ConflictDeclaration, ConflictPolicy, ProjectProfile, conflicts_of
from services.review.domain.experts import Expert


def project(pid, category="教育发展", org=None):
    return ProjectProfile(pid, category, org or f"机构{pid}")


def expert(eid, expertise=(), org="", declared=(), max_load=None):
    return Expert(eid, eid, org, expertise=frozenset(expertise), declared_application_ids=frozenset(declared),
                  max_load=max_load)


def test_each_project_gets_k_distinct_experts_with_loads_within_one():
    projects = [project(f"P{i}") for i in range(7)]
    experts = [expert(f"E{i}") for i in range(5)]
    r = assign(projects, experts, 3)
    assert all(len(set(r.assignments[p.id])) == 3 for p in projects)
    # 7 projects * 3 seats = 21 seats over 5 experts: loads 4 or 5 (4*4 + 5 = 21).
    assert sorted(r.loads.values()) == [4, 4, 4, 4, 5]
    assert r.balance.achieved and r.problems == {} and r.complete


def test_conflicted_expert_is_never_assigned():
    projects = [project("P1", org="某某基金会"), project("P2")]
    experts = [expert("E1", org="某某基金会"), expert("E2"), expert("E3", declared=["P2"]), expert("E4")]
    r = assign(projects, experts, 2)
    assert "E1" not in r.assignments["P1"]
    assert "E3" not in r.assignments["P2"]
    assert r.problems == {}


def test_expertise_is_preferred_when_it_costs_no_balance():
    projects = [project("P1", "应急救援"), project("P2", "文化传承")]
    experts = [expert("E1", ["文化传承"]), expert("E2", ["应急救援"])]
    r = assign(projects, experts, 1)
    assert r.assignments == {"P1": ("E2",), "P2": ("E1",)}


def test_balance_beats_expertise():
    # Both projects are education; only E1 knows it. Balance wants one project each.
    projects = [project("P1"), project("P2")]
    experts = [expert("E1", ["教育发展"]), expert("E2")]
    r = assign(projects, experts, 1)
    assert sorted(r.loads.values()) == [1, 1]


def test_too_few_unconflicted_experts_is_reported_per_project_not_silent():
    projects = [project("P1", org="某某基金会"), project("P2")]
    experts = [expert("E1", org="某某基金会"), expert("E2"), expert("E3")]
    r = assign(projects, experts, 3)
    (issue,) = r.problems["P1"]
    assert issue.code == "too_few_eligible_experts"
    assert issue.details["eligible"] == 2 and issue.details["missing"] == 1
    assert issue.details["conflicted"] == {"E1": ["same_organisation_name"]}
    assert set(r.assignments["P1"]) == {"E2", "E3"}
    assert r.assignments["P2"] == ("E1", "E2", "E3")
    assert not r.complete


def test_balance_impossible_because_of_conflicts_is_explained():
    # E3 is conflicted with all three projects, so it must stay at 0 while others carry 3.
    projects = [project(f"P{i}") for i in range(3)]
    experts = [expert("E1"), expert("E2"), expert("E3", declared=["P0", "P1", "P2"])]
    r = assign(projects, experts, 2)
    assert r.loads == {"E1": 3, "E2": 3, "E3": 0}
    assert not r.balance.achieved and not r.balance.feasible
    assert r.balance.underloaded == ("E3",)
    for p in projects:
        assert [i.code for i in r.problems[p.id]] == ["balance_blocked_by_conflicts"]
        assert r.problems[p.id][0].details["underloaded_experts"] == {"E3": ["declared_application"]}


def test_max_load_exhaustion_is_reported():
    projects = [project("P1"), project("P2")]
    experts = [expert("E1", max_load=1), expert("E2", max_load=1)]
    r = assign(projects, experts, 2)
    assert sum(len(v) for v in r.assignments.values()) == 2
    codes = {i.code for issues in r.problems.values() for i in issues}
    assert codes == {"expert_capacity_exhausted"}


def test_existing_assignments_are_kept_counted_and_dropped_when_conflicted():
    projects = [project("P1"), project("P2")]
    experts = [expert("E1"), expert("E2"), expert("E3")]
    policy = AssignmentPolicy(declarations=(ConflictDeclaration("E1", "P2", "旧同事"),))
    r = assign(projects, experts, 1, policy, existing={"P1": ["E1"], "P2": ["E1"]})
    assert r.assignments["P1"] == ("E1",)
    assert r.assignments["P2"] in {("E2",), ("E3",)}
    assert r.problems["P2"][0].code == "existing_assignment_conflicted"


def test_assignment_is_deterministic_and_input_order_free():
    projects = [project(f"P{i}", ["教育发展", "其他"][i % 2]) for i in range(9)]
    experts = [expert(f"E{i}", [["教育发展"], ["其他"], []][i % 3]) for i in range(6)]
    a = assign(projects, experts, 3)
    b = assign(list(reversed(projects)), list(reversed(experts)), 3)
    assert a == b


def test_replace_declined_picks_least_loaded_unconflicted_and_remembers_the_decline():
    projects = [project("P1"), project("P2"), project("P3")]
    experts = [expert("E1"), expert("E2"), expert("E3", declared=["P1"]), expert("E4")]
    r = assign(projects, experts, 2)
    victim = r.assignments["P1"][0]
    r2 = replace_declined(r, "P1", victim, projects, experts)
    seats = r2.assignments["P1"]
    assert victim not in seats and "E3" not in seats and len(set(seats)) == 2
    assert ("P1", victim) in r2.declined
    # A rerun on top keeps the decline.
    assert victim not in assign(projects, experts, 2, existing=r2).assignments["P1"]
    with pytest.raises(Conflict):
        replace_declined(r2, "P1", victim, projects, experts)


def test_replace_declined_reports_when_nobody_is_left():
    projects = [project("P1")]
    experts = [expert("E1"), expert("E2")]
    r = assign(projects, experts, 2)
    r2 = replace_declined(r, "P1", "E1", projects, experts)
    assert r2.assignments["P1"] == ("E2",)
    assert r2.problems["P1"][0].code == "no_replacement_available"


def brute_force_balanced(eligible, k, experts):
    """Exhaustive: can every project get min(k, eligible) experts with max - min load <= 1?"""
    options = [list(itertools.combinations(sorted(es), min(k, len(es)))) for es in eligible.values()]
    for combo in itertools.product(*options):
        loads = dict.fromkeys(experts, 0)
        for seats in combo:
            for e in seats:
                loads[e] += 1
        if max(loads.values()) - min(loads.values()) <= 1:
            return True
    return False


@st.composite
def pools(draw, max_projects=8, max_experts=8):
    n_e = draw(st.integers(1, max_experts))
    n_p = draw(st.integers(1, max_projects))
    cats = ["共同富裕", "教育发展", "其他"]
    experts = [
        Expert(f"E{i}", f"E{i}", organisation=draw(st.sampled_from(["甲", "乙", "丙", "丁"])),
               province=draw(st.sampled_from(["京", "沪", "豫"])),
               expertise=frozenset(draw(st.lists(st.sampled_from(cats), max_size=2))),
               declared_application_ids=frozenset(draw(st.lists(st.sampled_from([f"P{j}" for j in range(n_p)]),
                                                                max_size=2))))
        for i in range(n_e)
    ]
    projects = [ProjectProfile(f"P{j}", draw(st.sampled_from(cats)), draw(st.sampled_from(["甲", "乙", "戊"])),
                               province=draw(st.sampled_from(["京", "沪", "豫"]))) for j in range(n_p)]
    k = draw(st.integers(1, 3))
    policy = AssignmentPolicy(conflicts=ConflictPolicy(same_province=draw(st.booleans())))
    return projects, experts, k, policy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools())
def test_property_no_conflicts_k_distinct_when_feasible_and_balanced_when_achievable(pool):
    projects, experts, k, policy = pool
    r = assign(projects, experts, k, policy)
    by_id = {e.id: e for e in experts}
    for p in projects:
        seats = r.assignments[p.id]
        assert len(seats) == len(set(seats))
        for e in seats:
            assert not conflicts_of(by_id[e], p, policy.conflicts)
        eligible = [e for e in experts if not conflicts_of(e, p, policy.conflicts)]
        if len(eligible) >= k:
            assert len(seats) == k  # no max loads, so every feasible project is full
        else:
            assert len(seats) == len(eligible)
            assert r.problems[p.id][0].code == "too_few_eligible_experts"
    eligible = {p.id: [e.id for e in experts if not conflicts_of(e, p, policy.conflicts)] for p in projects}
    need = {p.id: min(k, len(eligible[p.id])) for p in projects}
    feasible = balance_feasible(eligible, need, dict.fromkeys(by_id, 0), {}, sum(need.values()))
    assert r.balance.feasible == feasible
    if feasible:
        assert max(r.loads.values()) - min(r.loads.values()) <= 1


@settings(max_examples=120, deadline=None)
@given(pools(max_projects=4, max_experts=5))
def test_property_feasibility_check_agrees_with_brute_force(pool):
    projects, experts, k, policy = pool
    eligible = {p.id: [e.id for e in experts if not conflicts_of(e, p, policy.conflicts)] for p in projects}
    need = {p: min(k, len(v)) for p, v in eligible.items()}
    ids = [e.id for e in experts]
    assert balance_feasible(eligible, need, dict.fromkeys(ids, 0), {}, sum(need.values())) == \
        brute_force_balanced(eligible, k, ids)


def test_min_cost_flow_hand_example():
    from services.review.domain.mincostflow import MinCostFlow

    # s=0 -> 1 (cap 2, cost 1), s -> 2 (cap 1, cost 5), 1 -> t=3 (cap 1, cost 1), 1 -> 2 (cap 1, cost 1),
    # 2 -> t (cap 2, cost 1). Max flow 3: paths s-1-t (2), s-1-2-t (3), s-2-t (6) -> cost 11.
    g = MinCostFlow(4)
    g.add_edge(0, 1, 2, 1)
    g.add_edge(0, 2, 1, 5)
    g.add_edge(1, 3, 1, 1)
    g.add_edge(1, 2, 1, 1)
    g.add_edge(2, 3, 2, 1)
    assert g.solve(0, 3) == (3, 11)
