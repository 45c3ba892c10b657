"""Expert assignment (专家分配): k experts per project, never a conflicted one.

The problem is solved as one min-cost flow (the approach of the Toronto Paper Matching System
and OpenReview's matcher, reduced to what a call of a few hundred projects needs)::

    source -> project      capacity = experts still needed, cost 0
    project -> expert      capacity 1 (distinct experts), only if not conflicted,
                           cost 0 when the expert covers the project's category, else 1
    expert -> sink         one unit arc per extra project, the j-th costing W * (2(l + j) - 1)
                           where l is the expert's existing load

The expert->sink costs are the marginal costs of ``W * load**2``, so after the flow is maximal
(as many seats filled as the conflicts allow) the solver minimises the sum of squared loads. For
a fixed total, every load vector with ``max - min <= 1`` has the smallest sum of squares, so when
such a balance is feasible the optimum has it. ``W`` exceeds any possible total expertise
penalty, so expertise only decides between equally balanced assignments. The result is
deterministic: inputs are sorted by id before the graph is built.

When a project cannot get k experts, or the balance cannot be reached, the result says so per
project with reasons; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gongyi.errors import InvalidInput, Issue
from services.review.domain.refusals import issue, refuse

from .conflicts import ConflictDeclaration, ConflictPolicy, ProjectProfile, conflicts_of
from .experts import Expert
from .mincostflow import MinCostFlow


@dataclass(frozen=True)
class AssignmentPolicy:
    conflicts: ConflictPolicy = field(default_factory=ConflictPolicy)
    declarations: tuple[ConflictDeclaration, ...] = ()
    prefer_expertise: bool = True
    default_max_load: int | None = None  # applies to experts without their own max_load


@dataclass(frozen=True)
class BalanceReport:
    achieved: bool
    feasible: bool
    min_load: int
    max_load: int
    underloaded: tuple[str, ...] = ()  # experts below max_load - 1 when balance failed


@dataclass(frozen=True)
class AssignmentResult:
    k: int
    assignments: Mapping[str, tuple[str, ...]]
    loads: Mapping[str, int]
    problems: Mapping[str, tuple[Issue, ...]]
    balance: BalanceReport
    declined: tuple[tuple[str, str], ...] = ()  # (project_id, expert_id)

    @property
    def complete(self) -> bool:
        return all(len(v) >= self.k for v in self.assignments.values())

    def experts_for(self, project_id: str) -> tuple[str, ...]:
        return self.assignments.get(project_id, ())


def _max_load(expert: Expert, policy: AssignmentPolicy) -> int | None:
    return expert.max_load if expert.max_load is not None else policy.default_max_load


def _eligibility(
    projects: Sequence[ProjectProfile], experts: Sequence[Expert], policy: AssignmentPolicy,
    declined: set[tuple[str, str]],
) -> tuple[dict[str, list[str]], dict[tuple[str, str], list[str]]]:
    eligible: dict[str, list[str]] = {}
    blocked: dict[tuple[str, str], list[str]] = {}
    for p in projects:
        eligible[p.id] = []
        for e in experts:
            if (p.id, e.id) in declined:
                blocked[(e.id, p.id)] = ["declined"]
                continue
            reasons = conflicts_of(e, p, policy.conflicts, policy.declarations)
            if reasons:
                blocked[(e.id, p.id)] = [r.code for r in reasons]
            else:
                eligible[p.id].append(e.id)
    return eligible, blocked


def balance_feasible(
    eligible: Mapping[str, Iterable[str]],
    need: Mapping[str, int],
    base_loads: Mapping[str, int],
    caps: Mapping[str, int | None],
    total_new: int,
) -> bool:
    """Can ``total_new`` new seats be filled so that every final load is in ``{m, m + 1}``?

    ``m`` is fixed by the total: ``m = (sum of base loads + total_new) // number of experts``.
    Expert e must receive between ``max(0, m - base)`` and ``m + 1 - base`` new seats; the lower
    bounds are enforced by routing them through a shared sink arc whose capacity equals their
    sum (a maximal flow then has to saturate every lower-bound arc).
    """
    experts = sorted(base_loads)
    if not experts:
        return total_new == 0
    total = sum(base_loads.values()) + total_new
    m = total // len(experts)
    lows, highs = {}, {}
    for e in experts:
        hi = m + 1 - base_loads[e]
        cap = caps.get(e)
        if cap is not None:
            hi = min(hi, cap - base_loads[e])
        lo = max(0, m - base_loads[e])
        if hi < lo:
            return False
        lows[e], highs[e] = lo, hi
    low_sum = sum(lows.values())
    if low_sum > total_new:
        return False
    projects = sorted(eligible)
    index = {p: i + 1 for i, p in enumerate(projects)}
    eidx = {e: len(projects) + 1 + i for i, e in enumerate(experts)}
    low_sink, high_sink = len(projects) + len(experts) + 1, len(projects) + len(experts) + 2
    sink = high_sink + 1
    g = MinCostFlow(sink + 1)
    for p in projects:
        g.add_edge(0, index[p], need.get(p, 0), 0)
        for e in eligible[p]:
            if e in eidx:
                g.add_edge(index[p], eidx[e], 1, 0)
    for e in experts:
        g.add_edge(eidx[e], low_sink, lows[e], 0)
        g.add_edge(eidx[e], high_sink, highs[e] - lows[e], 0)
    g.add_edge(low_sink, sink, low_sum, 0)
    g.add_edge(high_sink, sink, total_new - low_sum, 0)
    flow, _ = g.solve(0, sink)
    return flow == total_new


def _issue(key: str, project_id: str, words: dict[str, Any] | None = None, **details: Any) -> Issue:
    return issue(key, f"projects/{project_id}", details, **(words or {}))


def _existing_map(existing: AssignmentResult | Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    if existing is None:
        return {}
    source = existing.assignments if isinstance(existing, AssignmentResult) else existing
    return {p: list(dict.fromkeys(es)) for p, es in source.items()}


def _check_inputs(k: int, experts: Sequence[Expert]) -> None:
    if k < 1:
        raise InvalidInput([issue("k_invalid", "k")])
    ids = [e.id for e in experts]
    if len(set(ids)) != len(ids):
        raise InvalidInput([issue("duplicate_expert_id", "experts")])


def _keep_valid_seats(projects: Sequence[ProjectProfile], kept: dict[str, list[str]],
                      blocked: Mapping[tuple[str, str], list[str]], expert_by_id: Mapping[str, Expert],
                      problems: dict[str, list[Issue]]) -> None:
    """Keep valid existing seats; drop and report the ones that are conflicted now."""
    for p in projects:
        seats = []
        for e in kept.get(p.id, []):
            if e in expert_by_id and (e, p.id) in blocked:
                problems[p.id].append(_issue("existing_assignment_conflicted", p.id, expert_id=e,
                                             reasons=blocked[(e, p.id)]))
            else:
                seats.append(e)
        kept[p.id] = seats


def _solve_new_seats(projects: Sequence[ProjectProfile], experts: Sequence[Expert], policy: AssignmentPolicy,
                     candidates: Mapping[str, list[str]], need: Mapping[str, int], base: Mapping[str, int],
                     caps: Mapping[str, int | None]) -> tuple[dict[str, list[str]], int]:
    """The new seats per project from one min-cost flow (node 0 = source, then projects, experts,
    sink): each expert's n-th seat costs more than the one before, so loads even out first, and
    a seat outside the expert's expertise costs 1 more."""
    expert_by_id = {e.id: e for e in experts}
    offered = {e.id: 0 for e in experts}
    for p in projects:
        for e in candidates[p.id]:
            offered[e] += 1
    pidx = {p.id: 1 + i for i, p in enumerate(projects)}
    eidx = {e.id: 1 + len(projects) + i for i, e in enumerate(experts)}
    sink = 1 + len(projects) + len(experts)
    g = MinCostFlow(sink + 1)
    weight = sum(need.values()) + 1  # any balance improvement outweighs all expertise penalties
    seat_edges: dict[tuple[str, str], int] = {}
    for p in projects:
        if need[p.id]:
            g.add_edge(0, pidx[p.id], need[p.id], 0)
        for e in candidates[p.id]:
            penalty = 0 if (not policy.prefer_expertise or p.category in expert_by_id[e].expertise) else 1
            seat_edges[(p.id, e)] = g.add_edge(pidx[p.id], eidx[e], 1, penalty)
    for e in experts:
        units = offered[e.id] if caps[e.id] is None else min(offered[e.id], caps[e.id] or 0)
        for j in range(1, units + 1):
            g.add_edge(eidx[e.id], sink, 1, weight * (2 * (base[e.id] + j) - 1))
    flow, _ = g.solve(0, sink)
    new = {p.id: [e for e in candidates[p.id] if g.flow_on(seat_edges[(p.id, e)])] for p in projects}
    return new, flow


def _shortfall(project_id: str, seated: int, k: int, eligible: Sequence[str],
               blocked: Mapping[tuple[str, str], list[str]]) -> Issue | None:
    """Why a project has fewer than k seats: too few unconflicted experts, or their loads are full."""
    missing = k - seated
    if missing <= 0:
        return None
    n_eligible = len(eligible)
    if n_eligible < k:
        return _issue("too_few_eligible_experts", project_id, eligible=n_eligible, needed=k, missing=missing,
                      conflicted={e: r for (e, q), r in sorted(blocked.items()) if q == project_id})
    return _issue("expert_capacity_exhausted", project_id, eligible=n_eligible, needed=k, missing=missing)


def assign(
    projects: Sequence[ProjectProfile],
    experts: Sequence[Expert],
    k: int,
    policy: AssignmentPolicy | None = None,
    existing: AssignmentResult | Mapping[str, Sequence[str]] | None = None,
    declined: Iterable[tuple[str, str]] = (),
) -> AssignmentResult:
    """Give each project ``k`` distinct, unconflicted experts, loads as even as feasible.

    ``existing`` assignments are kept (and count toward loads) unless they have become
    conflicted, in which case they are removed and reported. ``declined`` holds
    ``(project_id, expert_id)`` pairs that must not be proposed again.
    """
    policy = policy or AssignmentPolicy()
    _check_inputs(k, experts)
    projects = sorted(projects, key=lambda p: p.id)
    experts = sorted(experts, key=lambda e: e.id)
    declined_set = set(declined)
    if isinstance(existing, AssignmentResult):
        declined_set |= set(existing.declined)
    kept = _existing_map(existing)
    eligible, blocked = _eligibility(projects, experts, policy, declined_set)
    expert_by_id = {e.id: e for e in experts}
    problems: dict[str, list[Issue]] = {p.id: [] for p in projects}
    _keep_valid_seats(projects, kept, blocked, expert_by_id, problems)
    base = _loads(kept, expert_by_id)

    need = {p.id: max(0, k - len(kept.get(p.id, []))) for p in projects}
    candidates = {p.id: [e for e in eligible[p.id] if e not in kept.get(p.id, [])] for p in projects}
    caps: dict[str, int | None] = {}
    for e in experts:
        limit = _max_load(e, policy)
        caps[e.id] = None if limit is None else max(0, limit - base[e.id])
    new, flow = _solve_new_seats(projects, experts, policy, candidates, need, base, caps)

    assignments: dict[str, tuple[str, ...]] = {}
    for p in projects:
        assignments[p.id] = tuple(kept.get(p.id, [])) + tuple(new[p.id])
        issue = _shortfall(p.id, len(assignments[p.id]), k, eligible[p.id], blocked)
        if issue is not None:
            problems[p.id].append(issue)
    # Projects outside this run that already hold seats keep counting toward loads.
    for pid, seats in kept.items():
        if pid not in assignments:
            assignments[pid] = tuple(seats)
    loads = _loads(assignments, expert_by_id)
    balance = _balance(loads, caps, base, candidates, need, flow)
    if not balance.achieved:
        _explain_imbalance(assignments, loads, blocked, problems, balance)
    return AssignmentResult(
        k=k,
        assignments=assignments,
        loads=loads,
        problems={p: tuple(v) for p, v in problems.items() if v},
        balance=balance,
        declined=tuple(sorted(declined_set)),
    )


def _loads(assignments: Mapping[str, Sequence[str]], experts: Mapping[str, Expert]) -> dict[str, int]:
    loads = {e: 0 for e in sorted(experts)}
    for seats in assignments.values():
        for e in seats:
            if e in loads:
                loads[e] += 1
    return loads


def _balance(loads: Mapping[str, int], caps: Mapping[str, int | None], base: Mapping[str, int],
             candidates: Mapping[str, list[str]], need: Mapping[str, int], flow: int) -> BalanceReport:
    if not loads:
        return BalanceReport(True, True, 0, 0)
    lo, hi = min(loads.values()), max(loads.values())
    achieved = hi - lo <= 1
    feasible = achieved or balance_feasible(candidates, need, base, caps, flow)
    under = () if achieved else tuple(e for e, n in loads.items() if n < hi - 1)
    return BalanceReport(achieved, feasible, lo, hi, under)


def _explain_imbalance(assignments: Mapping[str, tuple[str, ...]], loads: Mapping[str, int],
                       blocked: Mapping[tuple[str, str], list[str]], problems: dict[str, list[Issue]],
                       balance: BalanceReport) -> None:
    """Name the projects whose conflicts kept an underloaded expert away from them."""
    heavy = {e for e, n in loads.items() if n == balance.max_load}
    for pid, seats in assignments.items():
        if pid not in problems or not heavy.intersection(seats):
            continue
        why = {u: blocked[(u, pid)] for u in balance.underloaded if (u, pid) in blocked}
        if why:
            problems[pid].append(_issue(
                "balance_blocked_by_conflicts", pid, underloaded_experts=why,
                loads={e: loads[e] for e in sorted(set(seats) | set(why))}))


def replace_declined(
    result: AssignmentResult,
    project_id: str,
    expert_id: str,
    projects: Sequence[ProjectProfile],
    experts: Sequence[Expert],
    policy: AssignmentPolicy | None = None,
) -> AssignmentResult:
    """The expert declined (or withdrew from) the project: pick a replacement by the same rules.

    The candidate must be unconflicted, not already on the project, not have declined it and be
    under its maximum load; among candidates the least loaded wins, then category expertise,
    then the smaller id (deterministic). If none exists the project is reported short.
    """
    policy = policy or AssignmentPolicy()
    seats = list(result.assignments.get(project_id, ()))
    if expert_id not in seats:
        refuse("expert_not_assigned", {"project_id": project_id, "expert_id": expert_id})
    project = next((p for p in projects if p.id == project_id), None)
    if project is None:
        raise InvalidInput([issue("project_unknown", "project_id")])
    seats.remove(expert_id)
    declined = set(result.declined) | {(project_id, expert_id)}
    by_id = {e.id: e for e in experts}
    loads = _loads({**result.assignments, project_id: tuple(seats)}, by_id)
    options = []
    for e in sorted(experts, key=lambda x: x.id):
        if e.id in seats or (project_id, e.id) in declined:
            continue
        if conflicts_of(e, project, policy.conflicts, policy.declarations):
            continue
        limit = _max_load(e, policy)
        if limit is not None and loads[e.id] >= limit:
            continue
        options.append((loads[e.id], 0 if project.category in e.expertise else 1, e.id))
    problems = {p: list(v) for p, v in result.problems.items()}
    problems.pop(project_id, None)
    if options:
        seats.append(min(options)[2])
    else:
        problems[project_id] = [_issue("no_replacement_available", project_id, declined_by=expert_id,
                                       missing=result.k - len(seats))]
    assignments = {**result.assignments, project_id: tuple(seats)}
    loads = _loads(assignments, by_id)
    lo, hi = (min(loads.values()), max(loads.values())) if loads else (0, 0)
    balance = replace(result.balance, achieved=hi - lo <= 1, min_load=lo, max_load=hi,
                      underloaded=tuple(e for e, n in loads.items() if n < hi - 1))
    return AssignmentResult(result.k, assignments, loads, {p: tuple(v) for p, v in problems.items() if v},
                            balance, tuple(sorted(declined)))
