import random
import time
from datetime import datetime, timedelta

import numpy as np
import pytest

from services.review.domain.aggregation import AggregationMethod
from services.review.domain.bulk import aggregate_and_rank


def random_reviews(n_projects, per_project, n_experts, seed):
    rng = random.Random(seed)
    pids, eids, totals, first = [], [], [], []
    for p in range(n_projects):
        for e in rng.sample(range(n_experts), per_project):
            pids.append(f"P{p:05d}")
            eids.append(f"E{e:03d}")
            totals.append(round(rng.uniform(30, 100), 1))
            first.append(float(rng.randint(0, 10)))
    return pids, eids, totals, first


@pytest.mark.parametrize("method", [
    AggregationMethod(),
    AggregationMethod(statistic="median", zscore=True, spread_measure="std", spread_threshold=15),
    AggregationMethod(statistic="mean", zscore=True, trim_min_reviews=3),
])
def test_numpy_path_matches_the_pure_python_path(method):
    pids, eids, totals, first = random_reviews(300, 5, 40, seed=7)
    # Coarse totals make real ties, so the tie-break keys are exercised too.
    totals = [float(round(t / 5) * 5) for t in totals]
    fwd = {p: datetime(2024, 2, 1) + timedelta(minutes=i % 17) for i, p in enumerate(sorted(set(pids)))}
    fast = aggregate_and_rank(pids, eids, totals, method, first, fwd)
    slow = aggregate_and_rank(pids, eids, totals, method, first, fwd, force_python=True)
    assert (fast.engine, slow.engine) == ("numpy", "python")
    assert fast.project_ids == slow.project_ids
    assert np.allclose(fast.score, slow.score) and np.allclose(fast.median, slow.median)
    assert np.allclose(fast.trimmed_mean, slow.trimmed_mean) and np.allclose(fast.spread, slow.spread)
    assert fast.n_reviews == slow.n_reviews and fast.disagreement == slow.disagreement


def test_hand_computed_small_case():
    # P1: 60, 70, 80 -> trimmed (3 < 5) = mean 70; P2: 90 -> 90. P2 first.
    r = aggregate_and_rank(["P1", "P1", "P1", "P2"], ["a", "b", "c", "a"], [60, 70, 80, 90])
    assert r.project_ids == ("P2", "P1") and r.score == (90.0, 70.0) and r.spread == (0.0, 20.0)


def test_ten_thousand_projects_five_reviews_with_zscore_prints_timing():
    pids, eids, totals, first = random_reviews(10_000, 5, 200, seed=1)
    started = time.perf_counter()
    r = aggregate_and_rank(pids, eids, totals, AggregationMethod(zscore=True), first)
    elapsed = time.perf_counter() - started
    print(f"\nbulk aggregate+rank 10k x 5 with z-score: {elapsed:.3f}s ({r.engine})")
    assert len(r.project_ids) == 10_000 and set(r.n_reviews) == {5}
    assert bool(np.all(np.diff(np.round(r.score, 9)) <= 0))  # best first
    assert all(0 <= s <= 100 for s in r.score)
