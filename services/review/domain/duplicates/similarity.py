"""Rarity-weighted comparisons of two applications' words, entities, names and figures.

The weight of a token is its IDF over the projects in the candidate index,
``idf(t) = ln(1 + N / df(t))``, divided by ``ln(1 + N)`` so that it lies in (0, 1] whatever
the corpus size: a token only these two projects hold weighs ~1, one every project holds
~0.1. Dividing keeps the fitted weights of ``detector.py`` meaningful from a ten-line file to
100k projects. ``df`` comes from the candidate index: each ``term`` posting carries the
number of projects holding it (``InMemoryCandidateIndex.term_stats``,
``DuplicateIndex.term_stats`` in the service), so IDF costs no extra pass over the corpus.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .normalise import name_core
from .signals import ProjectSignals

ENTITY_CAP = 3.0
FIGURE_CAP = 3
# Document frequencies count up to this many holders (here, in the in-memory index and in the
# service's SQL count, storage/duplicates/repository.holder_counts), so the IDF is the same in all:
# beyond it a word is common anyway, and an exact count would cost a scan of its holders on every
# write. It also bounds a weight from below, which ``find_suspicions`` relies on.
DF_CAP = 1000


@dataclass(frozen=True)
class TermStats:
    """Document frequencies of terms in a corpus of ``n`` projects. A term not listed is taken
    as held by one project (the one it came from)."""

    n: int = 1
    df: Mapping[str, int] = field(default_factory=dict)
    # the document frequency taken for a term not in ``df``
    unlisted_df: int = 1
    # Every listed term's weight, computed at once (one check scores up to 50 candidates against
    # the same words: the weights are the inner loop), and the weight of an unlisted term.
    _w: dict[str, float] = field(init=False, compare=False, repr=False)
    _w1: float = field(init=False, compare=False, repr=False)
    # squared norms of the projects' term vectors, by id (with the object, so an id is never
    # taken for another project's): the project checked is scored against every candidate
    _norms: dict[str, tuple[ProjectSignals, float]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = max(self.n, 2)
        scale = math.log1p(n)
        log1p = math.log1p
        cap = min(n, DF_CAP)
        object.__setattr__(self, "_w", {t: log1p(n / min(max(d, 1), cap)) / scale for t, d in self.df.items()})
        object.__setattr__(self, "_w1", log1p(n / min(max(self.unlisted_df, 1), cap)) / scale)

    def optimistic(self, terms: Iterable[str]) -> TermStats:
        """These statistics for ``terms`` (a term not listed: held by one project, as here), every
        other term as common as a term can be (``DF_CAP``): the lowest weight it could have.
        Scored with them, a candidate's word comparisons come out at least as high as with its
        own terms' real counts (see ``detector.find_suspicions``)."""
        df = self.df
        return TermStats(self.n, {t: df.get(t, self.unlisted_df) for t in terms}, unlisted_df=DF_CAP)

    def weight(self, term: str) -> float:
        return self._w.get(term, self._w1)

    def sq_weight_sum(self, terms: Iterable[str]) -> float:
        """Sum of the squared weights of ``terms``."""
        get, w1 = self._w.get, self._w1
        total = 0.0
        for t in terms:
            w = get(t, w1)
            total += w * w
        return total

    def sq_norm(self, s: ProjectSignals) -> float:
        """Sum of the squared weights of ``s``'s terms."""
        hit = self._norms.get(s.id)
        if hit is not None and hit[0] is s:
            return hit[1]
        norm = self.sq_weight_sum(s.terms)
        if self.df:
            self._norms[s.id] = (s, norm)
        return norm


UNIFORM = TermStats()


def stats_terms(signals: Iterable[ProjectSignals]) -> set[str]:
    """The terms whose document frequency a comparison of these projects needs."""
    return {t for s in signals for t in s.terms}


def term_cosine(a: ProjectSignals, b: ProjectSignals, stats: TermStats) -> float:
    """Cosine of the two term sets, each term weighted by its IDF (binary term frequency: a
    short summary and a long narrative are compared on what they name, not how often)."""
    if not a.terms or not b.terms:
        return 0.0
    shared = a.term_set & b.term_set
    if not shared:
        return 0.0
    num = stats.sq_weight_sum(shared)
    return num / math.sqrt(stats.sq_norm(a) * stats.sq_norm(b))


def shared_entities(a: ProjectSignals, b: ProjectSignals, stats: TermStats) -> tuple[float, list[str]]:
    """(sum of the IDF weights of shared entity-like tokens, capped at ``ENTITY_CAP``; the
    tokens, rarest first). An entity on one side counts if the other holds the same token at
    all (邓飞 tagged a name in one text, a plain word in the other)."""
    shared = (a.entity_set | b.entity_set) & a.term_set & b.term_set
    ranked = sorted(shared, key=lambda t: (-stats.weight(t), t))
    return min(ENTITY_CAP, sum(stats.weight(t) for t in ranked)), ranked


def name_cover(a: ProjectSignals, b: ProjectSignals, stats: TermStats) -> tuple[float, float]:
    """How much of each project's NAME the other names anywhere (name or text), by IDF weight:
    (better direction, worse direction). 免费午餐 is covered by a text about 免费午餐基金公募计划
    (better: 1.0); a sub-project's extra name words (国际 in 国际爱心包裹) that the other never
    uses lower the worse direction."""
    covers = []
    terms = (a.term_set, b.term_set)
    for own, other in ((a.name_terms, terms[1]), (b.name_terms, terms[0])):
        total = sum(stats.weight(t) for t in own)
        covers.append(sum(stats.weight(t) for t in own if t in other) / total if total > 0 else 0.0)
    return max(covers), min(covers)


def shared_figures(a: ProjectSignals, b: ProjectSignals) -> list[str]:
    return sorted(a.figure_set & b.figure_set)


def name_rarity(a: ProjectSignals, b: ProjectSignals, stats: TermStats) -> float:
    """Mean IDF weight of the name words both projects use: a brand (免费午餐) is rare, a
    generic name (乡村振兴直播助农, 爱心助学) is held by many projects and says little."""
    shared = (a.name_term_set | b.name_term_set) & a.term_set & b.term_set
    return sum(stats.weight(t) for t in shared) / len(shared) if shared else 0.0


def rarest_shared(a: ProjectSignals, b: ProjectSignals, stats: TermStats) -> tuple[float, list[str]]:
    """(IDF weight of the rarest entity-like token or name word both projects use; those tokens,
    rarest first). One name that only these two texts hold (a founder, a village, a brand, a
    partner) is what independent write-ups of one project have in common; the cosine dilutes it
    among forty other words. Plain words are left out: in a small file every shared word looks
    rare (上线, 覆盖)."""
    shared = (a.entity_set | b.entity_set | a.name_term_set | b.name_term_set) & a.term_set & b.term_set
    ranked = sorted(shared, key=lambda t: (-stats.weight(t), t))
    return (stats.weight(ranked[0]) if ranked else 0.0), ranked


def same_name_core(a: ProjectSignals, b: ProjectSignals) -> str:
    """The name core the two projects share (>= 2 characters), else "". The same project is
    named with and without its organisation and a 基金/计划/项目 around it; a sub-project or
    another project of the same organisation keeps a word of its own (国际, 小屋, 甜甜)."""
    orgs = tuple(sorted({o for o in (*a.org_alts, a.org_core, *b.org_alts, b.org_core) if len(o) >= 2}))
    cores_a = {name_core(n, orgs) for n in (a.name_alts or [a.name_norm]) if n}
    cores_b = {name_core(n, orgs) for n in (b.name_alts or [b.name_norm]) if n}
    shared = sorted(c for c in cores_a & cores_b if len(c) >= 2)
    return max(shared, key=len) if shared else ""
