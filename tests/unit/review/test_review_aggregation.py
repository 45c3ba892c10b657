import statistics

import pytest

from gongyi.errors import InvalidInput
from services.review.domain.aggregation import (
    AggregationMethod,
    ReviewInput,
    aggregate,
    inputs_from_reviews,
    recompute,
)
from services.review.domain.scoring import Criterion, Review


def rows(project, totals):
    return [ReviewInput(project, f"E{i}", float(t)) for i, t in enumerate(totals, start=1)]


def test_mean_median_trimmed_mean_hand_computed():
    # totals 60, 70, 80, 90, 100: mean 400/5... = (60+70+80+90+100)/5 = 80; median 80
    # trimmed (5 >= 5): drop 60 and 100 -> (70+80+90)/3 = 80
    # a skewed set 50, 78, 80, 82, 99: mean 389/5 = 77.8; median 80; trimmed (78+80+82)/3 = 80
    r = aggregate(rows("P1", [60, 70, 80, 90, 100]) + rows("P2", [50, 78, 80, 82, 99]))
    p1, p2 = r.for_project("P1"), r.for_project("P2")
    assert (p1.mean, p1.median, p1.trimmed_mean) == (80.0, 80.0, 80.0)
    assert p2.mean == pytest.approx(77.8) and p2.median == 80.0 and p2.trimmed_mean == pytest.approx(80.0)
    assert p2.score == p2.trimmed_mean  # default statistic


def test_no_trimming_below_the_threshold_and_threshold_is_configurable():
    # 4 reviews 60, 70, 80, 100: default (needs 5) -> plain mean 310/4 = 77.5
    # threshold 4 -> drop 60 and 100 -> (70+80)/2 = 75; median (70+80)/2 = 75
    assert aggregate(rows("P", [60, 70, 80, 100])).projects[0].trimmed_mean == 77.5
    p = aggregate(rows("P", [60, 70, 80, 100]), AggregationMethod(trim_min_reviews=4)).projects[0]
    assert p.trimmed_mean == 75.0 and p.median == 75.0
    with pytest.raises(InvalidInput):
        aggregate(rows("P", [1]), AggregationMethod(trim_min_reviews=2))


def test_statistic_chooses_the_ranking_score():
    data = rows("P", [50, 78, 80, 82, 99])
    assert aggregate(data, AggregationMethod(statistic="mean")).projects[0].score == pytest.approx(77.8)
    assert aggregate(data, AggregationMethod(statistic="median")).projects[0].score == 80.0


def test_disagreement_by_range_and_by_std():
    # range 90 - 50 = 40 > 30 -> flagged; std of (50, 90) = 20
    data = rows("P", [50, 90])
    assert aggregate(data).projects[0].spread == 40 and aggregate(data).projects[0].disagreement
    std = aggregate(data, AggregationMethod(spread_measure="std", spread_threshold=20)).projects[0]
    assert std.spread == 20.0 and not std.disagreement  # 20 is not above 20
    assert not aggregate(rows("P", [10])).projects[0].disagreement  # one review: nothing to disagree with


def test_zscore_correction_hand_computed():
    # Expert L (lenient) gives 90 and 80; expert S (severe) gives 60 and 40.
    # All totals: 90, 80, 60, 40 -> overall mean 67.5, population std sqrt(((22.5)^2+(12.5)^2+(7.5)^2+(27.5)^2)/4)
    #   = sqrt((506.25+156.25+56.25+756.25)/4) = sqrt(368.75) = 19.2029...
    # L: mean 85, std 5 -> z(90)=+1, z(80)=-1;  S: mean 50, std 10 -> z(60)=+1, z(40)=-1
    # corrected: +1 -> 67.5 + 19.2029 = 86.7029, -1 -> 67.5 - 19.2029 = 48.2971
    data = [ReviewInput("A", "L", 90), ReviewInput("B", "L", 80),
            ReviewInput("A", "S", 60), ReviewInput("B", "S", 40)]
    r = aggregate(data, AggregationMethod(statistic="mean", zscore=True))
    sd = 368.75 ** 0.5
    assert r.overall_mean == 67.5 and r.overall_std == pytest.approx(sd)
    a, b = r.for_project("A"), r.for_project("B")
    assert a.totals == pytest.approx((67.5 + sd, 67.5 + sd))
    assert b.totals == pytest.approx((67.5 - sd, 67.5 - sd))
    assert a.raw_totals == (90.0, 60.0)
    # Without correction A = (90+60)/2 = 75; with it both experts agree, so spread is 0.
    assert a.spread == pytest.approx(0.0) and a.score == pytest.approx(67.5 + sd)


def test_zscore_leaves_single_review_and_zero_std_experts_alone():
    # X has one review (uncorrected); Y gives 70 twice (std 0, uncorrected).
    # Z gives 100 and 0. All totals 50, 70, 70, 100, 0: mean 290/5 = 58,
    # deviations -8, 12, 12, 42, -58 -> squares 64+144+144+1764+3364 = 5480, /5 = 1096, std sqrt(1096) = 33.106
    # Z: mean 50, std 50 -> z(100) = +1 -> 58 + 33.106 = 91.106
    data = [ReviewInput("A", "X", 50), ReviewInput("A", "Y", 70), ReviewInput("B", "Y", 70),
            ReviewInput("A", "Z", 100), ReviewInput("B", "Z", 0)]
    r = aggregate(data, AggregationMethod(zscore=True))
    cal = {c.expert_id: c for c in r.calibration}
    assert not cal["X"].corrected and not cal["Y"].corrected and cal["Z"].corrected
    a = r.for_project("A")
    assert a.expert_ids == ("X", "Y", "Z")
    assert a.totals[:2] == (50.0, 70.0)
    assert a.totals[2] == pytest.approx(58 + 1096 ** 0.5)
    assert r.for_project("B").totals[1] == pytest.approx(58 - 1096 ** 0.5)


def test_zscore_clips_to_the_0_100_scale():
    # W: 100, 0, 0, 0 -> mean 25, std sqrt((75^2 + 3 * 25^2) / 4) = sqrt(1875) = 43.30, z(100) = 1.732
    # H: 90, 100, 90, 100. All totals: mean 480/8 = 60, std 46.64
    # corrected W/100 = 60 + 1.732 * 46.64 = 140.8 -> clipped to 100
    data = [ReviewInput(f"P{i}", "W", t) for i, t in enumerate([100, 0, 0, 0])] + \
        [ReviewInput(f"P{i}", "H", t) for i, t in enumerate([90, 100, 90, 100])]
    r = aggregate(data, AggregationMethod(zscore=True))
    # H: mean 95, std 5, z(90) = -1 -> 60 - sqrt(2175) (deviations 40,-60,-60,-60,30,40,30,40: 17400 / 8)
    assert r.for_project("P0").expert_ids == ("H", "W")
    assert r.for_project("P0").totals[0] == pytest.approx(60 - 2175 ** 0.5)
    assert r.for_project("P0").totals[1] == 100.0  # W's 100, clipped (raw correction 140.8)
    assert all(0 <= t <= 100 for p in r.projects for t in p.totals)


def test_recompute_reproduces_the_result_exactly_and_inputs_are_recorded():
    data = rows("P1", [61.5, 72, 88, 93, 55]) + rows("P2", [70, 71])
    r = aggregate(list(reversed(data)), AggregationMethod(zscore=True, spread_measure="std"))
    assert recompute(r) == r
    assert len(r.inputs) == 7 and r.method.zscore


def test_duplicate_review_and_bad_total_are_refused():
    with pytest.raises(InvalidInput) as err:
        aggregate([ReviewInput("P", "E", 50), ReviewInput("P", "E", 60), ReviewInput("Q", "E", 101)])
    assert [i.code for i in err.value.issues] == ["duplicate_review", "score_out_of_range"]


def test_inputs_from_reviews_uses_submitted_reviews_and_keeps_criterion_scores():
    crit = (Criterion("a", "甲", "A"), Criterion("b", "乙", "B"))
    reviews = [Review("E1", "P", {"a": 8, "b": 6}, status="submitted"), Review("E2", "P", {"a": 1, "b": 1})]
    (only,) = inputs_from_reviews(reviews, crit)
    assert only.total == pytest.approx(70.0)  # 100 * (0.8 + 0.6) / 2
    assert only.criterion_scores == (("a", 8.0), ("b", 6.0))
    agg = aggregate([only]).projects[0]
    assert agg.criterion_means == (("a", 8.0), ("b", 6.0))
    assert statistics.fmean([8.0]) == dict(agg.criterion_means)["a"]
