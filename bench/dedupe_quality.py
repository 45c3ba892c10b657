"""Duplicate detection: quality on the evaluation set, and cost of one check as the corpus grows.

    .venv/bin/python bench/dedupe_quality.py            # full run (~2-3 min on 2 cores)
    .venv/bin/python bench/dedupe_quality.py --quick    # scaling only up to 10k

Candidates come from an in-memory index (band key -> ids, ``InMemoryCandidateIndex``) exactly
as the search engine's terms query will provide them: no pairwise scan of the corpus. Pairs
are counted once; a pair is a true duplicate if both ids are in one labelled group.
Writes bench/results/dedupe_quality.json.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "data" / "dedupe"))

from make_eval_set import background_projects  # noqa: E402

from services.review.domain.duplicates import (  # noqa: E402
    FLAG_THRESHOLD,
    InMemoryCandidateIndex,
    ProjectSignals,
    compute_signals,
    explain_pair,
    find_suspicions,
)
from services.review.domain.duplicates.detector import PRIOR_LOG_ODDS  # noqa: E402

EVAL_SET = ROOT / "bench" / "data" / "dedupe" / "eval_set.json"
RESULTS = ROOT / "bench" / "results" / "dedupe_quality.json"
SIZES = (1_000, 10_000, 100_000)
N_QUERIES = 200

# Each signal alone, at the level where it means "same project" on its own.
SINGLE_SIGNAL_RULES: dict[str, Callable[[dict[str, float]], bool]] = {
    "credit_code (same)": lambda f: f["credit_same"] > 0,
    "org_name (same core)": lambda f: f["org_same"] > 0,
    "project_name (similarity >= 0.85)": lambda f: f["name_similarity"] >= 0.85,
    "text (J >= 0.5 or contained >= 0.85)": lambda f: f["text_jaccard"] >= 0.5
    or (f["text_containment"] >= 0.85 and f["text_size_ratio"] <= 0.6),
    "figures (>= 50% shared, >= 3 each)": lambda f: f["facts_min"] >= 3 and f["facts_containment"] >= 0.5,
    "images (>= 1 identical or near)": lambda f: max(f["images_near"], f["images_identical"]) >= 1,
    "media_link (same)": lambda f: f["links_shared"] >= 1,
}
# Reason codes of each signal, for leave-one-signal-out.
SIGNAL_GROUPS = {
    "identity": {"same_credit_code", "different_credit_code", "same_org", "similar_org"},
    "name": {"name_similarity", "names_differ"},
    "text": {"text_similarity", "text_differs", "text_contained"},
    "figures": {"same_figures", "different_figures"},
    "images": {"same_images"},
    "links": {"same_media_link"},
}


def prf(predicted: set[frozenset[str]], truth: set[frozenset[str]]) -> dict[str, float]:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "tp": tp,
            "fp": len(predicted) - tp, "fn": len(truth) - tp}


def line(name: str, m: dict[str, float]) -> str:
    return (f"  {name:40s} P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} "
            f"(tp={m['tp']} fp={m['fp']} fn={m['fn']})")


def _signals_chunk(args: tuple[int, int, int]) -> list[ProjectSignals]:
    start, n, seed = args
    records = background_projects(n, seed, prefix=f"BG{start:06d}-")
    return [compute_signals(r, r["evidence"]) for r in records]


def synthesise(n: int, workers: int = 2) -> list[ProjectSignals]:
    chunk = 2_500
    jobs = [(s, min(chunk, n - s), 1_000_003 + s) for s in range(0, n, chunk)]
    with Pool(workers) as pool:
        out: list[ProjectSignals] = []
        for part in pool.imap(_signals_chunk, jobs):
            out.extend(part)
    return out


def quality(records: list[dict], groups: list[dict], negatives: list[dict]) -> dict:
    t0 = time.perf_counter()
    signals = [compute_signals(r, r["evidence"]) for r in records]
    t_signals = time.perf_counter() - t0
    index = InMemoryCandidateIndex()
    index.add_all(signals)

    truth = {frozenset((a, b)) for g in groups for i, a in enumerate(g["ids"]) for b in g["ids"][i + 1:]}
    by_id = {s.id: s for s in signals}
    scored: dict[frozenset[str], tuple[float, list, list, dict]] = {}
    for s in signals:
        for other_id in index.candidate_ids(_keys(s), s.id):
            pair = frozenset((s.id, other_id))
            if pair not in scored:
                scored[pair] = explain_pair(s, by_id[other_id])
    candidates = set(scored)
    flagged = {p for p, (score, *_rest) in scored.items() if score >= FLAG_THRESHOLD}

    res: dict = {
        "records": len(records), "true_pairs": len(truth), "candidate_pairs": len(candidates),
        "candidate_recall": round(len(candidates & truth) / len(truth), 4),
        "signals_ms_per_record": round(1000 * t_signals / len(records), 3),
        "combined": prf(flagged, truth),
    }
    res["single_signal"] = {
        name: prf({p for p, (_, _, _, f) in scored.items() if rule(f)}, truth)
        for name, rule in SINGLE_SIGNAL_RULES.items()
    }

    def log_odds_without(group: set[str], item: tuple) -> float:
        _, pro, con, f = item
        return f["log_odds"] - sum(r.weight for r in pro + con if r.code in group)

    res["leave_one_signal_out"] = {
        g: prf({p for p, it in scored.items() if log_odds_without(codes, it) >= 0}, truth)
        for g, codes in SIGNAL_GROUPS.items()
    }
    res["threshold_sensitivity"] = {
        f"{t:.1f}": prf({p for p, it in scored.items() if it[0] >= t}, truth)
        for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    }
    # All evidence weights scaled by k (prior unchanged): how much do the hand-set weights matter?
    res["weight_scale_sensitivity"] = {
        f"x{k}": prf({p for p, it in scored.items()
                      if PRIOR_LOG_ODDS + k * (it[3]["log_odds"] - PRIOR_LOG_ODDS) >= 0}, truth)
        for k in (0.75, 0.9, 1.1, 1.25)
    }
    res["prior_sensitivity"] = {
        f"{d:+.1f}": prf({p for p, it in scored.items() if it[3]["log_odds"] + d >= 0}, truth)
        for d in (-1.0, -0.5, 0.5, 1.0)
    }
    kinds = Counter(n["kind"] for n in negatives)
    res["hard_negatives_flagged"] = {
        k: f"{sum(1 for n in negatives if n['kind'] == k and frozenset(n['ids']) in flagged)}/{c}"
        for k, c in kinds.items()
    }
    tag_total: Counter = Counter()
    tag_found: Counter = Counter()
    for g in groups:
        for copy_id, tags in zip(g["ids"][1:], g["copy_transforms"], strict=True):
            found = frozenset((g["ids"][0], copy_id)) in flagged
            for t in tags:
                tag_total[t] += 1
                tag_found[t] += found
    res["recall_by_transform"] = {t: f"{tag_found[t]}/{tag_total[t]}" for t in sorted(tag_total)}
    return res


def _keys(s: ProjectSignals) -> dict[str, list[str]]:
    from services.review.domain.duplicates import candidate_keys

    return candidate_keys(s)


def time_checks(index: InMemoryCandidateIndex, queries: Iterable[ProjectSignals]) -> dict[str, float]:
    qs = list(queries)
    best = math.inf
    counts: list[int] = []
    for _ in range(5):
        counts = []
        t0 = time.perf_counter()
        for q in qs:
            find_suspicions(q, index.lookup)
            counts.append(index.last_candidate_count)
        best = min(best, (time.perf_counter() - t0) / len(qs))
    return {"ms_per_check": round(best * 1000, 4), "mean_candidates": round(statistics.mean(counts), 2),
            "max_candidates": max(counts)}


def scaling(eval_signals: list[ProjectSignals], sizes: tuple[int, ...]) -> dict:
    t0 = time.perf_counter()
    background = synthesise(max(sizes) - len(eval_signals))
    t_synth = time.perf_counter() - t0
    index = InMemoryCandidateIndex()
    index.add_all(eval_signals)
    queries = eval_signals[:N_QUERIES]
    out: dict = {"synthesis_seconds": round(t_synth, 1), "sizes": {}}
    added = 0
    for n in sizes:
        need = n - len(eval_signals) - added
        index.add_all(background[added: added + need])
        added += need
        out["sizes"][str(n)] = time_checks(index, queries)
        print(f"  corpus {len(index):>7,}: {out['sizes'][str(n)]['ms_per_check']:.3f} ms per check, "
              f"{out['sizes'][str(n)]['mean_candidates']:.1f} candidates on average", flush=True)
    first, last = out["sizes"][str(sizes[0])], out["sizes"][str(sizes[-1])]
    out["ratio_largest_to_smallest"] = round(last["ms_per_check"] / first["ms_per_check"], 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="scaling only up to 10k")
    args = ap.parse_args()
    data = json.loads(EVAL_SET.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    res = quality(data["records"], data["duplicate_groups"], data["hard_negatives"])
    print(f"Evaluation set: {res['records']} records, {res['true_pairs']} duplicate pairs, "
          f"{res['candidate_pairs']} candidate pairs from the index (candidate recall {res['candidate_recall']})")
    print(line("combined detector (score >= 0.5)", res["combined"]))
    print("Each signal alone (on the same candidates):")
    for k, m in res["single_signal"].items():
        print(line(k, m))
    print("Combined, leaving one signal out:")
    for k, m in res["leave_one_signal_out"].items():
        print(line("without " + k, m))
    print("Sensitivity to the flag threshold:")
    for k, m in res["threshold_sensitivity"].items():
        print(line("score >= " + k, m))
    print("Sensitivity to the weights (all evidence weights x k) and to the prior (log-odds shift):")
    for k, m in {**res["weight_scale_sensitivity"], **res["prior_sensitivity"]}.items():
        print(line(k, m))
    print("Hard negatives flagged:", res["hard_negatives_flagged"])
    print("Recall by how the copy was made:", res["recall_by_transform"])

    print("Cost of one check (candidate lookup + scoring) as the corpus grows:")
    eval_signals = [compute_signals(r, r["evidence"]) for r in data["records"]]
    sizes = SIZES[:2] if args.quick else SIZES
    res["scaling"] = scaling(eval_signals, sizes)
    print(f"  ratio {sizes[-1]:,} / {sizes[0]:,}: {res['scaling']['ratio_largest_to_smallest']}x "
          f"(background synthesis {res['scaling']['synthesis_seconds']} s)")
    res["total_seconds"] = round(time.perf_counter() - t0, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {RESULTS.relative_to(ROOT)} in {res['total_seconds']} s")


if __name__ == "__main__":
    main()
