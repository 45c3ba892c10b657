"""Score a candidate pair of applications: is it one project submitted twice?

The score adds up evidence in log-odds, in the spirit of Fellegi-Sunter record linkage, and goes
through a logistic; a pair is suspicious at ``FLAG_THRESHOLD`` (posterior odds 1:1). Two parts:

- FITTED (``FITTED_WEIGHTS``, ``PRIOR_LOG_ODDS``): what two people who describe one project
  independently share — the project name and how much of it the other names (weighed by how rare
  its words are), rare words and entities (a founder, a place, a partner, a brand), figures with
  their units, the organisation. A small L2-regularised logistic regression fitted on the
  real-world set, cross-validated by fold (bench/dedupe_realworld.py).
- HAND-SET: evidence that public reporting does not carry and that was weighed from what it
  means — credit codes (two different legal bodies weigh heavily against), identical or near-
  identical files and photos, media links, near-identical text (edited copies), and figures that
  differ where the text is similar or both report many (a template filled in for another project).

What separates look-alikes (the same body's other project, a sub-project, the same theme) is the
name's rare words and rare shared entities, not the organisation: the same organisation is weak
evidence on purpose. docs/duplicates.md lists each weight and what it means.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .evidence import matched_images, shared_count
from .facts import fact_overlap
from .normalise import best_similarity
from .settlement import Settlement, is_settled
from .signals import ProjectSignals, candidate_keys
from .similarity import (
    FIGURE_CAP,
    UNIFORM,
    TermStats,
    name_cover,
    name_rarity,
    rarest_shared,
    same_name_core,
    shared_entities,
    shared_figures,
    term_cosine,
)
from .text import estimated_containment, estimated_jaccard

FLAG_THRESHOLD = 0.5
# The fitted part: a logistic regression over the ten comparisons that independently written
# descriptions of one project share (similarity.py), fitted with L2 regularisation on the
# real-world set (bench/data/dedupe/realworld, bench/dedupe_quality.py --fit), cross-validated
# by fold. Log-odds per unit of each feature; docs/duplicates.md says what each one means.
PRIOR_LOG_ODDS = -8.66
FITTED_WEIGHTS: dict[str, float] = {
    "term_cosine": 3.876,
    "name_similarity": 4.109,
    "name_cover_rare": 1.499,
    "name_cover_min_rare": 5.24,
    "figures_shared": 0.25,
    "org_match": 0.887,
    "org_differs": -0.967,
    "text_jaccard": 1.021,
    "rarest_shared": 4.224,
    "name_core_rare": 5.166,
}
FITTED_FEATURES = tuple(FITTED_WEIGHTS)
# The hand-set part: evidence the real set does not hold (credit codes, files, photos, links) and
# near-identical text (edited copies of one text, the synthetic set), weighed as before.
# Interpolation tables: (signal values, weights); linear between points, flat outside.
NEAR_TEXT_WEIGHTS = ((0.3, 0.5, 0.7, 0.9), (0.0, 1.5, 3.0, 5.5))
CONTAINMENT_WEIGHTS = ((0.5, 0.7, 0.85, 1.0), (0.0, 1.0, 2.5, 3.5))
FACT_WEIGHTS = ((0.0, 0.15, 0.4, 0.7), (-1.5, -0.5, 1.0, 2.0))
IMAGE_WEIGHTS = ((0, 1, 2, 3), (0.0, 2.0, 3.5, 4.5))
LINK_WEIGHTS = ((0, 1, 2), (0.0, 3.0, 4.0))
SAME_CREDIT = 1.5
DIFFERENT_CREDIT = -6.0
# Containment only means "abbreviated" when one text is clearly shorter.
ABBREVIATION_SIZE_RATIO = 0.6
MIN_FACTS_FOR_NEGATIVE = 3
# Different figures count against only in similar text: a template filled in for another project.
TEMPLATE_JACCARD = 0.3
# ... or when both report many figures and share almost none: one project described twice for one
# call reports the same beneficiaries, amounts and places.
MANY_FACTS = 4
MANY_FACTS_DIFFER = -3.0


def _interp(x: float, table: tuple[Sequence[float], Sequence[float]]) -> float:
    xs, ys = table
    if x <= xs[0]:
        return ys[0]
    for i in range(1, len(xs)):
        if x <= xs[i]:
            t = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + t * (ys[i] - ys[i - 1])
    return ys[-1]


@dataclass(frozen=True)
class Reason:
    """One piece of evidence, in words for staff, with its weight (log-odds)."""

    code: str
    message_zh: str
    message_en: str
    weight: float


@dataclass(frozen=True)
class Suspicion:
    """A pair that may be one project submitted twice; ids are ordered (a_id < b_id)."""

    a_id: str
    b_id: str
    score: float
    reasons: tuple[Reason, ...]
    counter_reasons: tuple[Reason, ...] = ()
    a_call: str | None = None
    b_call: str | None = None
    a_unit: str | None = None
    b_unit: str | None = None
    features: dict[str, float] = field(default_factory=dict)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a_id, self.b_id)

    @property
    def cross_call(self) -> bool:
        """Re-submission in another call (e.g. last year's project under a new name)."""
        return self.a_call != self.b_call

    @property
    def cross_unit(self) -> bool:
        """Submitted through different channels (recommending units)."""
        return self.a_unit is not None and self.b_unit is not None and self.a_unit != self.b_unit

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cross_call"] = self.cross_call
        d["cross_unit"] = self.cross_unit
        return d


@dataclass(frozen=True)
class _Named:
    """What the reasons name besides the figures: the rare tokens both use, rarest first, and the
    name core both share (computed with the features, not again for the reasons' text)."""

    rare: list[str]
    core: str


def pair_features(a: ProjectSignals, b: ProjectSignals, stats: TermStats = UNIFORM) -> dict[str, float]:
    """The raw comparisons, each in its natural unit; ``explain_pair`` weighs them."""
    return _features(a, b, stats)[0]


def _features(a: ProjectSignals, b: ProjectSignals, stats: TermStats) -> tuple[dict[str, float], _Named]:
    feats: dict[str, float] = {}
    feats["credit_same"] = float(bool(a.credit_code) and a.credit_code == b.credit_code)
    feats["credit_differs"] = float(bool(a.credit_code and b.credit_code) and a.credit_code != b.credit_code)
    orgs_a, orgs_b = set(a.org_alts or [a.org_core]) - {""}, set(b.org_alts or [b.org_core]) - {""}
    feats["org_same"] = float(bool(orgs_a & orgs_b))
    feats["org_similarity"] = best_similarity(sorted(orgs_a), sorted(orgs_b))
    feats["org_known"] = float(bool(orgs_a) and bool(orgs_b))
    feats["name_similarity"] = best_similarity(a.name_alts or [a.name_norm], b.name_alts or [b.name_norm])
    comparable = a.version == b.version and a.shingle_count > 0 and b.shingle_count > 0
    j = estimated_jaccard(a.minhash, b.minhash) if comparable else 0.0
    feats["text_jaccard"] = j
    feats["text_containment"] = estimated_containment(j, a.shingle_count, b.shingle_count)
    small, large = sorted((a.shingle_count, b.shingle_count))
    feats["text_size_ratio"] = small / large if large else 0.0
    feats["text_comparable"] = float(comparable)
    shared_facts = len(set(a.facts) & set(b.facts))
    feats["facts_min"] = float(min(len(a.facts), len(b.facts)))
    feats["facts_shared"] = float(shared_facts)
    feats["facts_containment"] = shared_facts / feats["facts_min"] if feats["facts_min"] else 0.0
    feats["facts_jaccard"] = fact_overlap(a.facts, b.facts)
    feats["images_identical"] = float(shared_count(a.sha256s, b.sha256s))
    feats["images_near"] = float(matched_images(a.phashes, b.phashes))
    feats["links_shared"] = float(shared_count(a.links, b.links))
    # names alone (a list without narratives) still give words: compared whenever both versions match
    terms_ok = a.version == b.version and bool(a.terms) and bool(b.terms)
    feats["term_cosine"] = term_cosine(a, b, stats) if terms_ok else 0.0
    ent_sum, ents = shared_entities(a, b, stats) if terms_ok else (0.0, [])
    feats["entities_shared"] = ent_sum
    feats["name_cover"], feats["name_cover_min"] = name_cover(a, b, stats) if terms_ok else (0.0, 0.0)
    feats["name_rarity"] = name_rarity(a, b, stats) if terms_ok else 0.0
    # a name covered by the other counts as much as its shared words are rare (免费午餐, not 爱心助学)
    feats["name_cover_rare"] = feats["name_cover"] * feats["name_rarity"]
    feats["name_cover_min_rare"] = feats["name_cover_min"] * feats["name_rarity"]
    feats["figures_shared"] = float(min(FIGURE_CAP, len(shared_figures(a, b)))) if comparable else 0.0
    rarest, rare = rarest_shared(a, b, stats) if terms_ok else (0.0, [])
    feats["rarest_shared"] = rarest
    core = same_name_core(a, b)
    feats["name_core_same"] = float(bool(core))
    # the same core counts as much as the name's shared words are rare (免费午餐, not 爱心助学)
    feats["name_core_rare"] = feats["name_core_same"] * feats["name_rarity"]
    feats["org"] = _org_agreement(feats)
    feats["org_match"] = max(0.0, feats["org"])
    feats["org_differs"] = float(feats["org"] < 0)
    return feats, _Named(rare, core)


def _org_agreement(f: dict[str, float]) -> float:
    """+1 the same organisation, -1 clearly different ones, 0 unknown (a side has none) or in
    between; a linear view of the organisation for the fitted weights."""
    if f["org_same"]:
        return 1.0
    if not f["org_known"]:
        return 0.0
    s = f["org_similarity"]
    if s >= 0.85:
        return 0.5
    return -1.0 if s < 0.5 else 0.0


_FITTED_TEXT = {
    "term_cosine": ("用词相似度（按稀有度加权）{v:.2f}", "rarity-weighted word similarity {v:.2f}"),
    "name_similarity": ("项目名称相似度 {v:.2f}", "project name similarity {v:.2f}"),
    "name_cover_rare": ("一方项目名称（按稀有度）见于另一方 {v:.2f}",
                        "one project's name, by rarity, appears in the other {v:.2f}"),
    "name_cover_min_rare": ("双方项目名称（按稀有度）互见 {v:.2f}",
                            "each project's name, by rarity, appears in the other {v:.2f}"),
    "text_jaccard": ("正文字面相似度 {v:.2f}", "literal text similarity {v:.2f}"),
}


def _weigh(
    f: dict[str, float], a: ProjectSignals, b: ProjectSignals, named: _Named
) -> tuple[list[Reason], list[Reason]]:
    pro: list[Reason] = []
    con: list[Reason] = []

    def add(code: str, zh: str, en: str, w: float) -> None:
        if w > 0:
            pro.append(Reason(code, zh, en, round(w, 3)))
        elif w < 0:
            con.append(Reason(code, zh, en, round(w, 3)))

    # The fitted comparisons, each its weight x its value.
    for name, (zh, en) in _FITTED_TEXT.items():
        v = f[name]
        add(name, zh.format(v=v), en.format(v=v), FITTED_WEIGHTS[name] * v)
    if f["rarest_shared"]:
        v = f["rarest_shared"]
        names = "、".join(named.rare[:5])
        add("same_entities", f"共同的少见名称：{names}（最少见者稀有度 {v:.2f}）",
            f"rare names in common: {names} (the rarest weighs {v:.2f})", FITTED_WEIGHTS["rarest_shared"] * v)
    if f["name_core_rare"]:
        core = named.core
        add("name_core_same", f"去掉机构名称和通用词后项目名称相同：{core}",
            f"same project name once organisation names and generic words are removed: {core}",
            FITTED_WEIGHTS["name_core_rare"] * f["name_core_rare"])
    if f["figures_shared"]:
        figs = "、".join(shared_figures(a, b)[:FIGURE_CAP])
        add("same_figures_units", f"相同的数据（含单位）：{figs}", f"same figures with units: {figs}",
            FITTED_WEIGHTS["figures_shared"] * f["figures_shared"])
    if f["org"] > 0:
        w_org = FITTED_WEIGHTS["org_match"] * f["org_match"]
        code, zh, en = ("same_org", "申报单位名称相同", "same applicant organisation name") if f["org_same"] else (
            "similar_org", f"申报单位名称相似度 {f['org_similarity']:.2f}",
            f"applicant name similarity {f['org_similarity']:.2f}")
        add(code, zh, en, w_org)
    elif f["org"] < 0:
        add("different_org", "申报单位不同", "different applicant organisations",
            FITTED_WEIGHTS["org_differs"] * f["org_differs"])

    # Hand-set evidence.
    if f["credit_same"]:
        add("same_credit_code", "同一统一社会信用代码", "same unified social credit code", SAME_CREDIT)
    elif f["credit_differs"] and not f["org_same"]:
        add("different_credit_code", "统一社会信用代码不同", "different unified social credit codes", DIFFERENT_CREDIT)

    if f["text_comparable"]:
        j, c = f["text_jaccard"], f["text_containment"]
        w_j = _interp(j, NEAR_TEXT_WEIGHTS)
        w_c = _interp(c, CONTAINMENT_WEIGHTS) if f["text_size_ratio"] <= ABBREVIATION_SIZE_RATIO else 0.0
        if w_c > w_j:
            add("text_contained", f"较短正文约 {c:.0%} 的内容见于另一份",
                f"about {c:.0%} of the shorter narrative appears in the other", w_c)
        elif w_j > 0:
            add("text_similarity", f"正文几乎相同（{j:.2f}）", f"near-identical text ({j:.2f})", w_j)

    n_min, shared = f["facts_min"], int(f["facts_shared"])
    if n_min >= MIN_FACTS_FOR_NEGATIVE:
        w = _interp(f["facts_containment"], FACT_WEIGHTS)
        if w > 0:
            add("same_figures", f"{shared} 项数据相同", f"{shared} figures in common", w)
        elif n_min >= MANY_FACTS and f["facts_containment"] < 0.25:
            add("different_figures", f"双方各报告多项数据，却几乎没有相同的（仅 {shared} 项相同）",
                f"both report many figures, almost none in common (only {shared})", MANY_FACTS_DIFFER)
        elif f["text_jaccard"] >= TEMPLATE_JACCARD:
            add("different_figures", f"正文相近但报告的数据不同（仅 {shared} 项相同）",
                f"similar text but the reported figures differ (only {shared} in common)", w)

    identical, near = int(f["images_identical"]), int(f["images_near"])
    n_img = max(identical, near)
    if n_img:
        if identical >= near:
            zh, en = f"{identical} 张图片相同", f"{identical} identical images"
        else:
            zh = f"{near} 张图片相同或近似（其中 {identical} 张文件完全相同）"
            en = f"{near} identical or near-identical images ({identical} byte-identical)"
        add("same_images", zh, en, _interp(n_img, IMAGE_WEIGHTS))

    links = int(f["links_shared"])
    if links:
        add(
            "same_media_link",
            "同一媒体报道链接" if links == 1 else f"{links} 个媒体报道链接相同",
            "same media report link" if links == 1 else f"{links} media report links in common",
            _interp(links, LINK_WEIGHTS),
        )
    return pro, con


def _context(a: ProjectSignals, b: ProjectSignals) -> list[Reason]:
    notes = []
    if a.unit_code and b.unit_code and a.unit_code != b.unit_code:
        notes.append(
            Reason("cross_unit", "经不同推荐单位申报", "submitted through different recommending units", 0.0)
        )
    if a.call_id != b.call_id:
        notes.append(
            Reason(
                "cross_call",
                f"分别申报于不同征集活动（{a.call_id} / {b.call_id}）",
                f"submitted to different calls ({a.call_id} / {b.call_id})",
                0.0,
            )
        )
    return notes


def score_pair(
    a: ProjectSignals, b: ProjectSignals, threshold: float = FLAG_THRESHOLD, stats: TermStats = UNIFORM
) -> Suspicion | None:
    """A ``Suspicion`` if the pair scores at least ``threshold``, else None."""
    if a.id == b.id:
        return None
    s = compare(a, b, stats)
    return s if s.score >= threshold else None


def compare(a: ProjectSignals, b: ProjectSignals, stats: TermStats = UNIFORM) -> Suspicion:
    """The pair's score with its reasons, whatever the score (the review queue shows pairs below
    the flag threshold too)."""
    score, pro, con, feats = explain_pair(a, b, stats)
    first, second = (a, b) if a.id < b.id else (b, a)
    return Suspicion(
        a_id=first.id,
        b_id=second.id,
        score=round(score, 4),
        reasons=tuple(sorted(pro, key=lambda r: -r.weight)) + tuple(_context(a, b)),
        counter_reasons=tuple(sorted(con, key=lambda r: r.weight)),
        a_call=first.call_id,
        b_call=second.call_id,
        a_unit=first.unit_code,
        b_unit=second.unit_code,
        features=feats,
    )


def log_odds(feats: dict[str, float], weights: dict[str, float] | None = None,
             prior: float = PRIOR_LOG_ODDS) -> float:
    """The fitted part of the log-odds for ``feats`` (``weights`` default: the shipped ones)."""
    w = FITTED_WEIGHTS if weights is None else weights
    return prior + sum(w[k] * feats[k] for k in FITTED_FEATURES)


def explain_pair(
    a: ProjectSignals, b: ProjectSignals, stats: TermStats = UNIFORM
) -> tuple[float, list[Reason], list[Reason], dict[str, float]]:
    """(score, reasons for, reasons against, raw features) whatever the score."""
    feats, named = _features(a, b, stats)
    pro, con = _weigh(feats, a, b, named)
    z = PRIOR_LOG_ODDS + sum(r.weight for r in pro) + sum(r.weight for r in con)
    feats["log_odds"] = round(z, 4)
    # the hand-set part alone, so the fitting (bench/dedupe_quality.py) can hold it fixed
    feats["hand_log_odds"] = round(z - log_odds(feats), 4)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))), pro, con, feats


CandidateLookup = Callable[[dict[str, list[str]], str], Iterable[ProjectSignals]]
# (the project checked, its candidates) -> document frequencies of their terms
StatsFor = Callable[[ProjectSignals, Sequence[ProjectSignals]], TermStats]


def _candidates_and_stats(
    signals: ProjectSignals, lookup: CandidateLookup, stats_for: StatsFor | None
) -> tuple[list[ProjectSignals], TermStats]:
    others = list(lookup(candidate_keys(signals), signals.id))
    return others, (stats_for(signals, others) if stats_for is not None else UNIFORM)


def find_suspicions(
    signals: ProjectSignals,
    lookup: CandidateLookup,
    settlements: Iterable[Settlement] = (),
    threshold: float = FLAG_THRESHOLD,
    stats_for: StatsFor | None = None,
) -> list[Suspicion]:
    """One check: ask ``lookup`` (the search index) for candidates, score each in Python,
    drop pairs that staff already settled, strongest first.

    ``lookup(keys, exclude_id)`` returns the stored signals of the candidates that share any
    of ``keys`` (see ``candidate_keys``), never the whole corpus; ``stats_for`` gives the
    document frequencies of their terms (from the same index's postings).
    """
    settled = list(settlements)
    others = [o for o in lookup(candidate_keys(signals), signals.id) if o.id != signals.id]
    if stats_for is None:
        stats, others = UNIFORM, others
    else:
        others = _could_reach(signals, others, threshold, stats_for(signals, []))
        stats = stats_for(signals, others)
    found = []
    for other in others:
        s = score_pair(signals, other, threshold, stats)
        if s is not None and not is_settled(s.pair, settled):
            found.append(s)
    found.sort(key=lambda s: (-s.score, s.pair))
    return found


# The fitted comparisons that read the weight of a word only the CANDIDATE uses: the cosine's
# norm of its words, and how much of its name the project checked names. Both can only rise as
# such a word's weight falls, and they enter the score with a positive weight.
_CANDIDATE_WORD_FEATURES = ("term_cosine", "name_cover_rare", "name_cover_min_rare")


def _could_reach(
    signals: ProjectSignals, others: list[ProjectSignals], threshold: float, own: TermStats
) -> list[ProjectSignals]:
    """The candidates that could reach ``threshold``: each scored with the real counts of the
    checked project's words (``own``, which the candidate lookup has already read) and the lowest
    possible weight for every other word (``TermStats.optimistic``), an upper bound of its score.
    The rest cannot be flagged, so their words' counts are never fetched (most of a check's cost
    at 100k projects: one more ``mget`` of ~40 words per candidate)."""
    if any(FITTED_WEIGHTS[k] < 0 for k in _CANDIDATE_WORD_FEATURES):
        return others  # the bound would not hold
    bound = own.optimistic(signals.terms)
    return [o for o in others if explain_pair(signals, o, bound)[0] >= threshold]


def most_similar(
    signals: ProjectSignals, lookup: CandidateLookup, top_n: int = 10, stats_for: StatsFor | None = None
) -> list[Suspicion]:
    """The review queue's view: the ``top_n`` best-scoring candidates of one project, flagged
    or not, strongest first (same candidates and scoring as ``find_suspicions``)."""
    others, stats = _candidates_and_stats(signals, lookup, stats_for)
    scored = [compare(signals, o, stats) for o in others if o.id != signals.id]
    scored.sort(key=lambda s: (-s.score, s.pair))
    return scored[:top_n]
