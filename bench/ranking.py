"""Ranking benchmark: 10,000 projects x 5 reviews, trimmed mean with per-expert z-score correction.

Baseline in the same run: a plain NumPy mean per project (the least work any ranking needs).
Also the pure-Python path, which small calls use.

    .venv/bin/python bench/ranking.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.environment import print_table, write_result  # noqa: E402
from services.review.domain.aggregation import AggregationMethod  # noqa: E402
from services.review.domain.bulk import aggregate_and_rank  # noqa: E402


def timed(fn, repeat: int = 5) -> float:  # noqa: ANN001
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> int:
    rng = random.Random(3)
    projects, reviews, experts = 10_000, 5, 400
    pids, eids, totals = [], [], []
    bias = {f"e{i}": rng.gauss(0, 8) for i in range(experts)}
    for p in range(projects):
        quality = rng.uniform(40, 95)
        for e in rng.sample(range(experts), reviews):
            pids.append(f"p{p:05d}")
            eids.append(f"e{e}")
            totals.append(min(100.0, max(0.0, quality + bias[f"e{e}"] + rng.gauss(0, 4))))
    method = AggregationMethod(statistic="trimmed_mean", zscore=True)
    platform_s = timed(lambda: aggregate_and_rank(pids, eids, totals, method))
    python_s = timed(lambda: aggregate_and_rank(pids, eids, totals, method, force_python=True), repeat=1)

    def raw() -> None:
        _, inv = np.unique(np.asarray(pids), return_inverse=True)
        t = np.asarray(totals)
        np.argsort(-(np.bincount(inv, t) / np.bincount(inv)))

    raw_s = timed(raw)
    rows = [("platform (NumPy, trimmed mean + z-score + tie-break)", f"{platform_s * 1000:.0f} ms", "goal < 1 s"),
            ("pure Python path", f"{python_s * 1000:.0f} ms", ""),
            ("raw NumPy mean + sort (baseline)", f"{raw_s * 1000:.0f} ms", f"platform/raw {platform_s / raw_s:.1f}x")]
    print_table(f"ranking: {projects} projects x {reviews} reviews", rows, ("path", "median time", "note"))
    print(f"written {write_result('ranking', {'projects': projects, 'reviews': reviews, 'platform_s': platform_s, 'python_s': python_s, 'raw_s': raw_s})}")  # noqa: E501
    return 0


if __name__ == "__main__":
    sys.exit(main())
