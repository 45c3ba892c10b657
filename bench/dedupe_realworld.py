"""The real-world set (bench/data/dedupe/realworld): candidate pairs, features, the weights'
fit and its cross-validation. Used by bench/dedupe_quality.py (``--fit`` prints the weights to
put in services/review/domain/duplicates/detector.py).

Everything goes through the detector's own code: ``compute_signals``, ``InMemoryCandidateIndex``
(candidates and document frequencies, the same counting as the engine's postings) and
``explain_pair``. Only the fitted weights and the prior vary here; the hand-set part of
the score is held fixed (``hand_log_odds``).

Cross-validation: records carry a ``fold`` (0-4, by project). For each fold k the weights are
fitted on the candidate pairs with both records outside k and applied to every pair touching k
(a pair across folds k and j was in neither fit). All held-out scores are pooled for P/R.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.review.domain.duplicates import FLAG_THRESHOLD, InMemoryCandidateIndex, compute_signals, explain_pair
from services.review.domain.duplicates.detector import FITTED_FEATURES, FITTED_WEIGHTS, PRIOR_LOG_ODDS

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "bench" / "data" / "dedupe" / "realworld"
L2 = 0.3
NEGATIVE_WEIGHT = 2.0  # a false flag costs a reviewer more than a missed near-copy; P >= 0.9 is asked


def load(path: Path = REAL) -> tuple[list[dict], list[dict], list[dict]]:
    def rows(name: str) -> list[dict]:
        return [json.loads(x) for x in (path / name).read_text(encoding="utf-8").splitlines() if x.strip()]

    return rows("records.jsonl"), rows("hard_negatives.jsonl"), rows("alt_names.jsonl")


@dataclass
class Pairs:
    pairs: list[tuple[str, str]]
    x: np.ndarray  # fitted features, FITTED_FEATURES order
    hand: np.ndarray  # the hand-set part of the log-odds
    y: np.ndarray
    truth: set[frozenset[str]]
    fold_of: dict[str, int]
    feats: list[dict]
    names: tuple[str, ...] = FITTED_FEATURES

    def with_features(self, names: Iterable[str]) -> Pairs:
        names = list(names)
        def val(f: dict, k: str) -> float:
            return float(np.prod([f[part] for part in k.split("*")]))

        x = np.array([[val(f, k) for k in names] for f in self.feats]).reshape(len(self.feats), len(names))
        return Pairs(self.pairs, x, self.hand, self.y, self.truth, self.fold_of, self.feats, tuple(names))


def candidate_pairs(records: list[dict], with_org: bool = True) -> Pairs:
    """Every pair the index returns for some record, scored with the corpus' term statistics."""
    recs = [dict(r, org_name=r.get("org_name", "") if with_org else "") for r in records]
    signals = [compute_signals(r, r.get("evidence", [])) for r in recs]
    index = InMemoryCandidateIndex()
    index.add_all(signals)
    by_id = {s.id: s for s in signals}
    group = {r["id"]: r["group"] for r in records}
    seen: dict[frozenset[str], tuple[str, str]] = {}
    feats: list[dict] = []
    for s in signals:
        others = index.lookup(_keys(s), s.id)
        stats = index.term_stats(s, others)
        for o in others:
            key = frozenset((s.id, o.id))
            if key in seen:
                continue
            seen[key] = tuple(sorted((s.id, o.id)))
            feats.append(explain_pair(s, by_id[o.id], stats)[3])
    pairs = list(seen.values())
    x = np.array([[f[k] for k in FITTED_FEATURES] for f in feats]) if feats else np.zeros((0, len(FITTED_FEATURES)))
    hand = np.array([f["hand_log_odds"] for f in feats])
    y = np.array([float(group[a] == group[b]) for a, b in pairs])
    ids_by_group: dict[str, list[str]] = {}
    for r in records:
        ids_by_group.setdefault(r["group"], []).append(r["id"])
    truth = {frozenset((a, b)) for ids in ids_by_group.values() for i, a in enumerate(ids) for b in ids[i + 1:]}
    return Pairs(pairs, x, hand, y, truth, {r["id"]: r.get("fold", 0) for r in records}, feats)


def _keys(s):  # noqa: ANN001, ANN202
    from services.review.domain.duplicates import candidate_keys

    return candidate_keys(s)


def fit(x: np.ndarray, hand: np.ndarray, y: np.ndarray, l2: float = L2,
        negative_weight: float = NEGATIVE_WEIGHT) -> tuple[float, np.ndarray]:
    """L2-regularised logistic regression (Newton steps) with the hand-set log-odds as a fixed
    offset; the intercept is not penalised. Returns (prior, weights)."""
    n, d = x.shape
    xa = np.hstack([np.ones((n, 1)), x])
    w = np.zeros(d + 1)
    w[0] = -3.0
    sw = np.where(y > 0, 1.0, negative_weight)
    pen = np.full(d + 1, l2)
    pen[0] = 0.0
    def loss(v: np.ndarray) -> float:
        z = xa @ v + hand
        return float(np.sum(sw * (np.logaddexp(0, z) - y * z)) + 0.5 * np.sum(pen * v * v))

    cur = loss(w)
    for _ in range(200):
        z = np.clip(xa @ w + hand, -50, 50)
        p = 1 / (1 + np.exp(-z))
        g = xa.T @ (sw * (p - y)) + pen * w
        h = (xa * (sw * p * (1 - p))[:, None]).T @ xa + np.diag(pen) + 1e-6 * np.eye(d + 1)
        step = np.linalg.solve(h, g)
        t = 1.0
        while t > 1e-6 and loss(w - t * step) > cur:  # damped Newton: never a step uphill
            t /= 2
        w = w - t * step
        new = loss(w)
        if cur - new < 1e-10:
            break
        cur = new
    return float(w[0]), w[1:]


def scores(p: Pairs, prior: float, weights: np.ndarray) -> np.ndarray:
    z = np.clip(prior + p.x @ weights + p.hand, -50, 50)
    return 1 / (1 + np.exp(-z))


def cross_validated(p: Pairs, folds: Iterable[int] = range(5), evaluate: Pairs | None = None,
                    **kw: float) -> tuple[np.ndarray, list[dict]]:
    """Held-out score of every candidate pair and the weights fitted for each fold. With
    ``evaluate`` (the same records compared another way, e.g. without organisation names) the
    models fitted on ``p`` score its pairs instead."""
    e = evaluate or p
    fa = np.array([p.fold_of[a] for a, _ in p.pairs])
    fb = np.array([p.fold_of[b] for _, b in p.pairs])
    ea = np.array([e.fold_of[a] for a, _ in e.pairs])
    eb = np.array([e.fold_of[b] for _, b in e.pairs])
    out = np.zeros(len(e.pairs))
    fits = []
    for k in folds:
        train = (fa != k) & (fb != k)
        prior, w = fit(p.x[train], p.hand[train], p.y[train], **kw)
        # a pair across folds k and j is scored by the model of its first record's fold
        mine = (ea == k) | ((eb == k) & (ea > k))
        out[mine] = scores(e, prior, w)[mine]
        weights = {f: round(float(v), 3) for f, v in zip(p.names, w, strict=True)}
        fits.append({"fold": k, "prior": round(prior, 3), **weights})
    return out, fits


def prf_at(p: Pairs, s: np.ndarray, threshold: float = FLAG_THRESHOLD,
           only: set[str] | None = None) -> dict[str, float]:
    flagged = {frozenset(pr) for pr, v in zip(p.pairs, s, strict=True) if v >= threshold}
    truth = p.truth
    if only is not None:  # restrict to pairs with both records in ``only`` (one fold)
        flagged = {f for f in flagged if f <= only}
        truth = {t for t in truth if t <= only}
    tp = len(flagged & truth)
    prec = tp / len(flagged) if flagged else 1.0
    rec = tp / len(truth) if truth else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4), "tp": tp,
            "fp": len(flagged) - tp, "fn": len(truth) - tp}


def best_recall_at_precision(p: Pairs, s: np.ndarray, min_precision: float = 0.9) -> dict[str, float]:
    """Over all thresholds: the highest recall with precision >= ``min_precision``."""
    best = {"threshold": None, "precision": 0.0, "recall": 0.0}
    for t in sorted(set(np.round(s, 4).tolist()), reverse=True):
        m = prf_at(p, s, t)
        if m["precision"] >= min_precision and m["recall"] > best["recall"]:
            best = {"threshold": t, "precision": m["precision"], "recall": m["recall"]}
    return best


def lookalike_rate(p: Pairs, s: np.ndarray, negatives: list[dict], threshold: float = FLAG_THRESHOLD) -> dict:
    flagged = {frozenset(pr) for pr, v in zip(p.pairs, s, strict=True) if v >= threshold}
    hits = [n for n in negatives if frozenset((n["a"], n["b"])) in flagged]
    by_kind: dict[str, list[int]] = {}
    for n in negatives:
        c = by_kind.setdefault(n["kind"], [0, 0])
        c[0] += frozenset((n["a"], n["b"])) in flagged
        c[1] += 1
    return {"flagged": len(hits), "total": len(negatives), "rate": round(len(hits) / max(1, len(negatives)), 4),
            "by_kind": {k: f"{a}/{b}" for k, (a, b) in sorted(by_kind.items())}}


def shipped_scores(p: Pairs) -> np.ndarray:
    return scores(p, PRIOR_LOG_ODDS, np.array([FITTED_WEIGHTS[k] for k in FITTED_FEATURES]))


def candidate_recall(p: Pairs) -> float:
    return len({frozenset(x) for x in p.pairs} & p.truth) / max(1, len(p.truth))


def logit(v: float) -> float:
    return math.log(v / (1 - v))


def alt_name_search(records: list[dict], alts: list[dict], top: int = 3) -> dict:
    """Each alternative-name query through the staff search's own query (``build_query`` of
    services/review/domain/search_query.py) on a real project index (``ProjectIndex``, its
    mapping and analyzer) on osmem-server: a hit when any record of the query's project is in
    the top ``top``."""
    import socket
    import uuid

    from gongyi.runner import LocalServers
    from gongyi.search import make_search_client
    from services.review.domain.search_query import SearchParams, build_query
    from services.review.storage.search_index import ProjectIndex

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    servers = LocalServers()
    try:
        client = make_search_client(servers.start_search(port))
        index = ProjectIndex(client, f"altnames{uuid.uuid4().hex[:6]}")
        index.ensure()
        group = {r["id"]: r["group"] for r in records}
        index.bulk_upsert(
            ({"application_id": r["id"], "call_id": r.get("call_id") or "realworld", "status": "forwarded",
              "project_name": r["project_name"], "applicant_name": r.get("org_name") or None,
              "summary": r["summary"]} for r in records),
            refresh=True,
        )
        hits, misses = 0, []
        for a in alts:
            body = build_query(SearchParams(q=a["query"], size=top))
            body.pop("aggs", None)
            got = [h["_id"] for h in index.search(body)["hits"]["hits"]][:top]
            if any(group.get(i) == a["group"] for i in got):
                hits += 1
            else:
                misses.append({"query": a["query"], "group": a["group"], "top": [group.get(i) for i in got]})
        return {"queries": len(alts), f"top{top}": hits, "rate": round(hits / max(1, len(alts)), 4),
                "misses": misses}
    finally:
        servers.stop()


L2_CHOICES = (0.1, 0.3, 1.0, 3.0)


def choose_l2(p: Pairs, folds: Iterable[int], choices: Iterable[float] = L2_CHOICES) -> float:
    """The regularisation strength with the best F1 at the flag threshold over ``folds``
    (leave-one-fold-out inside them): chosen without looking at any other fold."""
    folds = list(folds)
    keep = {i for i, f in p.fold_of.items() if f in folds}
    mask = np.array([a in keep and b in keep for a, b in p.pairs])
    sub = Pairs([pr for pr, m in zip(p.pairs, mask, strict=True) if m], p.x[mask], p.hand[mask], p.y[mask],
                {t for t in p.truth if t <= keep}, {i: f for i, f in p.fold_of.items() if i in keep},
                [f for f, m in zip(p.feats, mask, strict=True) if m], p.names)
    best = (-1.0, L2)
    for l2 in choices:
        s, _ = cross_validated(sub, folds, l2=l2)
        best = max(best, (prf_at(sub, s)["f1"], l2))
    return best[1]


def nested_cross_validated(p: Pairs, folds: Iterable[int] = range(5)) -> tuple[np.ndarray, list[dict]]:
    """As ``cross_validated``, with lambda chosen for each outer fold by an inner leave-one-fold-out
    on the other folds only: the held-out fold influences neither the weights nor lambda."""
    folds = list(folds)
    fa = np.array([p.fold_of[a] for a, _ in p.pairs])
    fb = np.array([p.fold_of[b] for _, b in p.pairs])
    out = np.zeros(len(p.pairs))
    fits = []
    for k in folds:
        l2 = choose_l2(p, [f for f in folds if f != k])
        train = (fa != k) & (fb != k)
        prior, w = fit(p.x[train], p.hand[train], p.y[train], l2=l2)
        mine = (fa == k) | ((fb == k) & (fa > k))
        out[mine] = scores(p, prior, w)[mine]
        fits.append({"fold": k, "l2": l2, "prior": round(prior, 3),
                     **{f: round(float(v), 3) for f, v in zip(p.names, w, strict=True)}})
    return out, fits
