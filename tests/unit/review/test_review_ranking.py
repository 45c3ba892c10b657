import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from gongyi.errors import InvalidInput
from services.review.domain.aggregation import AggregationMethod, ReviewInput, aggregate
from services.review.domain.call_rules import call_rules
from services.review.domain.ranking import (
    ProjectMeta,
    by_category,
    propose_selection,
    rank,
    take_snapshot,
)

T0 = datetime(2024, 2, 1, 9, 0)


def review(p, e, total, first=5.0):
    return ReviewInput(p, e, float(total), (("normative", first), ("platform", 5.0)))


def meta(pid, cat="教育发展", minutes=0):
    return ProjectMeta(pid, cat, T0 + timedelta(minutes=minutes))


def test_rank_by_score_then_each_documented_tie_break():
    data = [
        review("A", "E1", 80), review("A", "E2", 80),               # mean 80, median 80
        review("B", "E1", 90), review("B", "E2", 70),               # mean 80, median 80, same n -> criterion
        review("C", "E1", 90, first=9), review("C", "E2", 70, first=9),  # ties B but better first criterion
        review("D", "E1", 85), review("D", "E2", 75), review("D", "E3", 70),  # mean 76.67
        review("E", "E1", 100), review("E", "E2", 60), review("E", "E3", 80),  # mean 80, median 80, n=3
        review("F", "E1", 80), review("F", "E2", 80),               # identical to A, forwarded earlier
        review("G", "E1", 80), review("G", "E2", 80),               # identical to A, same time -> id
    ]
    m = {p: meta(p, minutes=10) for p in "ABCDEG"} | {"F": meta("F", minutes=1)}
    ranked = rank(aggregate(data, AggregationMethod(statistic="mean")), m, ("normative", "platform"))
    assert [r.project_id for r in ranked] == ["E", "C", "F", "A", "B", "G", "D"]
    assert [r.tie_break for r in ranked] == [None, "n_reviews", "first_criterion", "forwarded_at",
                                             "project_id", "project_id", "score"]
    assert [r.rank for r in ranked] == list(range(1, 8))


def test_median_breaks_a_score_tie():
    data = [review("A", "E1", 70), review("A", "E2", 70), review("A", "E3", 100),   # mean 80, median 70
            review("B", "E1", 60), review("B", "E2", 90), review("B", "E3", 90)]    # mean 80, median 90
    ranked = rank(aggregate(data, AggregationMethod(statistic="mean")), {})
    assert [(r.project_id, r.tie_break) for r in ranked] == [("B", None), ("A", "median")]


def test_category_ranks_and_grouping():
    data = [review("A", "E", 90), review("B", "E", 80), review("C", "E", 70)]
    m = {"A": meta("A", "教育发展"), "B": meta("B", "其他"), "C": meta("C", "教育发展")}
    ranked = rank(aggregate(data), m)
    assert [(r.project_id, r.rank, r.category_rank) for r in ranked] == [("A", 1, 1), ("B", 2, 1), ("C", 3, 2)]
    assert [r.project_id for r in by_category(ranked)["教育发展"]] == ["A", "C"]


def ranked_pool():
    # 10 projects, scores 95, 90, ..., 50; categories: X for even index, Y for odd, Z only the last.
    data, m = [], {}
    for i in range(10):
        pid = f"P{i:02d}"
        data.append(review(pid, "E", 95 - 5 * i))
        m[pid] = meta(pid, "Z" if i == 9 else ("X" if i % 2 == 0 else "Y"))
    return rank(aggregate(data), m)


def test_selection_by_score_without_category_rules():
    s = propose_selection(ranked_pool(), quota=3)
    assert s.project_ids == ("P00", "P01", "P02") and all(x.basis == "score" for x in s.selected)


def test_selection_fills_minimums_first_and_respects_maximums():
    # Quota 4; Z needs 1 (its only project is last, P09); X at most 1.
    # Minimum: P09 (Z). Then by score: P00 (X, now X full), P01 (Y), P02 skipped (X full), P03 (Y).
    s = propose_selection(ranked_pool(), quota=4, per_category={"Z": (1, 1), "X": (0, 1)})
    assert s.project_ids == ("P00", "P01", "P03", "P09")
    assert {x.project_id: x.basis for x in s.selected}["P09"] == "category_minimum"
    assert s.skipped == (("P02", "category_full"),)


def test_selection_reports_unmet_minimum_unfilled_quota_and_bad_bounds():
    s = propose_selection(ranked_pool(), quota=30, per_category={"Z": (2, 5)})
    codes = [i.code for i in s.issues]
    assert codes == ["category_minimum_unmet", "quota_unfilled"]
    assert len(s.selected) == 10
    with pytest.raises(InvalidInput) as err:
        propose_selection(ranked_pool(), quota=2, per_category={"X": (2, 3), "Y": (1, 1)})
    assert err.value.issues[0].code == "category_minimums_exceed_quota"
    with pytest.raises(InvalidInput):
        propose_selection(ranked_pool(), quota=5, per_category={"X": (3, 2)})


def test_tie_at_the_cutoff_is_flagged():
    data = [review("A", "E", 90), review("B", "E", 80), review("C", "E", 80)]
    s = propose_selection(rank(aggregate(data), {}), quota=2)
    assert s.project_ids == ("A", "B")
    assert s.issues[0].code == "tie_at_cutoff" and s.issues[0].details["first_excluded"] == "C"


def test_snapshot_is_immutable_hashed_and_detects_tampering():
    ranked = ranked_pool()
    method = AggregationMethod()
    agg = aggregate([review(f"P{i:02d}", "E", 95 - 5 * i) for i in range(10)], method)
    sel = propose_selection(ranked, quota=3)
    snap = take_snapshot("call-2024", ranked, sel, method, T0, agg)
    again = take_snapshot("call-2024", ranked, sel, method, T0, agg)
    assert snap.verify() and snap == again and len(snap.content_hash) == 64
    assert [e.selected for e in snap.entries[:4]] == [True, True, True, False]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.quota = 4  # type: ignore[misc]
    forged = dataclasses.replace(snap, entries=snap.entries[1:] + snap.entries[:1])
    assert not forged.verify()
    other = take_snapshot("call-2024", ranked, sel, AggregationMethod(zscore=True), T0, agg)
    assert other.content_hash != snap.content_hash
    hash(snap)  # hashable: no mutable members


def test_a_minimum_without_a_maximum_is_honoured_and_not_a_cap():
    # Z and X need 1 and 2, neither has a maximum: the minimums first (P09; P00, P02), then by score.
    s = propose_selection(ranked_pool(), quota=4, per_category={"Z": (1, None), "X": (2, None)})
    assert s.project_ids == ("P00", "P01", "P02", "P09") and s.skipped == () and s.issues == ()
    assert {x.project_id: x.basis for x in s.selected} == {
        "P00": "category_minimum", "P02": "category_minimum", "P09": "category_minimum", "P01": "score"}
    # no cap: X takes more than its minimum when its projects rank high
    s = propose_selection(ranked_pool(), quota=4, per_category={"X": (1, None)})
    assert s.project_ids == ("P00", "P01", "P02", "P03") and s.skipped == ()
    with pytest.raises(InvalidInput) as err:  # the minimums still must fit the quota
        propose_selection(ranked_pool(), quota=2, per_category={"X": (3, None)})
    assert err.value.issues[0].code == "category_minimums_exceed_quota"


def test_call_rules_read_a_minimum_only_category_quota():
    doc = yaml.safe_load((Path(__file__).resolve().parents[3] / "calls" / "2024-national.yaml").read_text("utf-8"))
    doc["quotas"]["per_category"] = {"education": {"min": 2}, "other": {"min": 0, "max": 3}}
    assert dict(call_rules(doc, 1).per_category) == {"education": (2, None), "other": (0, 3)}
