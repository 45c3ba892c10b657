"""Duplicate detection: quality on both evaluation sets, and cost of one check as the corpus grows.

    .venv/bin/python bench/dedupe_quality.py              # both sets, alt-name search, scaling to 100k
    .venv/bin/python bench/dedupe_quality.py --no-scaling # the quality figures only (~1 min)
    .venv/bin/python bench/dedupe_quality.py --quick      # scaling only up to 10k
    .venv/bin/python bench/dedupe_quality.py --fit        # also print the weights fitted on all folds

1. The real-world set (bench/data/dedupe/realworld, independently written descriptions, org
   names given, no credit codes): precision / recall at the flag threshold, CROSS-VALIDATED by
   fold (weights fitted on four folds, scored on the fifth; bench/dedupe_realworld.py), per fold
   and pooled; the same without organisation names; the look-alike (hard negative) rate;
   alternative-name search (top 3) through the staff search's query on osmem-server.
2. The synthetic set (bench/data/dedupe/eval_set.json, edited copies of one text) with the
   shipped weights: it is not used for fitting.

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
sys.path.insert(0, str(ROOT / "bench"))

from make_eval_set import background_projects  # noqa: E402

from services.review.domain.duplicates import (  # noqa: E402
    FLAG_THRESHOLD,
    InMemoryCandidateIndex,
    ProjectSignals,
    compute_signals,
    explain_pair,
    find_suspicions,
)
from services.review.domain.duplicates.detector import FITTED_FEATURES, PRIOR_LOG_ODDS  # noqa: E402

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
    "identity": {"same_credit_code", "different_credit_code", "same_org", "similar_org", "different_org"},
    "name": {"name_similarity", "name_cover_rare", "name_cover_min_rare", "name_core_same"},
    "text": {"text_similarity", "text_contained", "term_cosine", "text_jaccard", "same_entities"},
    "figures": {"same_figures", "different_figures", "same_figures_units"},
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
        others = index.lookup(_keys(s), s.id)
        stats = index.term_stats(s, others)
        for other in others:
            pair = frozenset((s.id, other.id))
            if pair not in scored:
                scored[pair] = explain_pair(s, by_id[other.id], stats)
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
            find_suspicions(q, index.lookup, stats_for=index.term_stats)
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


def real_world(fit_all: bool = False) -> dict:
    import dedupe_realworld as rw
    import numpy as np

    records, negatives, alts = rw.load()
    with_org = rw.candidate_pairs(records)
    no_org = rw.candidate_pairs(records, with_org=False)
    held_out, fits = rw.cross_validated(with_org)
    held_out_no_org, _ = rw.cross_validated(with_org, evaluate=no_org)
    nested, nested_fits = rw.nested_cross_validated(with_org)
    folds = sorted(set(with_org.fold_of.values()))
    ids_in = {k: {i for i, f in with_org.fold_of.items() if f == k} for k in folds}
    res = {
        "records": len(records), "true_pairs": len(with_org.truth), "candidate_pairs": len(with_org.pairs),
        "candidate_recall": round(rw.candidate_recall(with_org), 4),
        "cross_validated": rw.prf_at(with_org, held_out),
        "per_fold": {str(k): rw.prf_at(with_org, held_out, only=ids_in[k]) for k in folds},
        "lookalikes": rw.lookalike_rate(with_org, held_out, negatives),
        "no_org": {"candidate_recall": round(rw.candidate_recall(no_org), 4),
                   "at_flag_threshold": rw.prf_at(no_org, held_out_no_org),
                   "best_recall_at_p90": rw.best_recall_at_precision(no_org, held_out_no_org)},
        "fold_weights": fits,
        "nested_l2": {"at_flag_threshold": rw.prf_at(with_org, nested), "l2_per_fold": [f["l2"] for f in nested_fits],
                      "lookalikes": rw.lookalike_rate(with_org, nested, negatives)["rate"]},
        "shipped_weights_training_fit": rw.prf_at(with_org, rw.shipped_scores(with_org)),
        "alt_name_search": rw.alt_name_search(records, alts),
    }
    if fit_all:
        prior, w = rw.fit(with_org.x, with_org.hand, with_org.y)
        res["fit_all_folds"] = {"prior": round(prior, 3),
                                **{k: round(float(v), 3) for k, v in zip(FITTED_FEATURES, w, strict=True)}}
    res["threshold_sensitivity"] = {f"{t:.1f}": rw.prf_at(with_org, held_out, t) for t in np.arange(0.3, 0.85, 0.1)}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="scaling only up to 10k")
    ap.add_argument("--no-scaling", action="store_true", help="quality figures only")
    ap.add_argument("--fit", action="store_true", help="print the weights fitted on all folds of the real set")
    args = ap.parse_args()
    t0 = time.perf_counter()
    real = real_world(args.fit)
    print(f"Real-world set: {real['records']} records, {real['true_pairs']} same-project pairs, "
          f"{real['candidate_pairs']} candidate pairs (candidate recall {real['candidate_recall']})")
    print(line("org names, no credit codes, held-out folds", real["cross_validated"]))
    for k, m in real["per_fold"].items():
        print(line(f"  fold {k} (held out)", m))
    lk = real["lookalikes"]
    print(f"  look-alike pairs flagged (held out): {lk['flagged']}/{lk['total']} = {lk['rate']:.1%} {lk['by_kind']}")
    no = real["no_org"]
    print(line("names + text only (no org), held out", no["at_flag_threshold"]))
    b = no["best_recall_at_p90"]
    print(f"  names + text only: best recall at precision >= 0.9: R={b['recall']:.3f} (P={b['precision']:.3f} "
          f"at score >= {b['threshold']})")
    print("  held-out threshold sensitivity:", {k: (m["precision"], m["recall"]) for k, m in
                                                real["threshold_sensitivity"].items()})
    nl = real["nested_l2"]
    print(line("lambda also chosen inside each fold", nl["at_flag_threshold"]) + f" lambda {nl['l2_per_fold']}, "
          f"look-alikes {nl['lookalikes']:.1%}")
    print(line("(shipped weights on all folds: training fit)", real["shipped_weights_training_fit"]))
    alt = real["alt_name_search"]
    print(f"Alternative-name search (staff search query, osmem-server): {alt['top3']}/{alt['queries']} in the top 3 "
          f"= {alt['rate']:.1%}; missed: {[m['query'] for m in alt['misses']]}")
    if args.fit:
        print("Weights fitted on all folds (detector.py FITTED_WEIGHTS / PRIOR_LOG_ODDS):", real["fit_all_folds"])

    data = json.loads(EVAL_SET.read_text(encoding="utf-8"))
    res = quality(data["records"], data["duplicate_groups"], data["hard_negatives"])
    res["real_world"] = real
    print(f"Synthetic set: {res['records']} records, {res['true_pairs']} duplicate pairs, "
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

    if not args.no_scaling:
        print("Cost of one check (candidate lookup + scoring, in-memory index) as the corpus grows:")
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
