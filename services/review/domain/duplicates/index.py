"""In-memory candidate index: the search engine's part, for tests, the benchmark and as the
fake adapter.

The engine stores each project's ``candidate_keys`` as keyword fields and answers one query:

    bool.should = [constant_score(term(<field>: <key>), boost=FIELD_BOOST[field]) for each key]
    bool.must_not = [ids: [<the project itself>]]
    min_score = MIN_SCORE, size = limit

i.e. "projects sharing enough keys, most shared evidence first". One ``term`` clause per key
(not one ``terms`` clause per field) so that a project sharing 5 text bands outscores one
sharing 1. This class does the same with a dict from (field, key) to ids.

Why ``MIN_SCORE``: one shared key of a weak kind is what unrelated projects have in common by
chance, and the number of such chance matches grows with the corpus. A candidate must share
either one identifying key (same credit code, same file, same media link) or two weaker ones
(a name and a text band, a photo band and an organisation, three text bands...). This keeps
one check's cost flat as the corpus grows; the pairs it drops could not reach the flag
threshold on that little shared evidence anyway (docs/duplicates.md).

Keys held by more than ``max_df`` projects are skipped: one project reaches the platform a
handful of times at most (a few channels, a few calls), so a key that more than 50 projects
share describes a population (a generic name like 爱心助学, boilerplate text, a big body's
credit code), not one project; the pair is still found through its other keys.

``rank_candidates`` is that counting, shared with the service's posting index
(services/review/storage/duplicates_index.py), which reads the same postings with one ``mget``:
both give the same candidates in the same order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from itertools import chain
from typing import TypeVar

from .signals import ProjectSignals, candidate_keys
from .similarity import DF_CAP, TermStats, stats_terms

FIELD_BOOST: dict[str, float] = {
    "credit_code": 3.0,
    "org": 2.0,
    "name": 2.0,
    "name_core": 2.0,
    "text_band": 1.0,
    "phash_band": 2.0,
    "sha256": 4.0,
    "link": 4.0,
    "term": 1.0,
}
DEFAULT_LIMIT = 50
DEFAULT_MAX_DF = 50
MIN_SCORE = 3.0

H = TypeVar("H", bound=Hashable)


def rank_candidates(
    postings: Iterable[tuple[str, int, Sequence[H]]],
    exclude_id: str | None = None,
    *,
    id_of: Callable[[H], str] | None = None,
    max_df: int = DEFAULT_MAX_DF,
    min_score: float = MIN_SCORE,
    limit: int = DEFAULT_LIMIT,
) -> list[str]:
    """The engine query's answer from the postings of a check's keys: ``(kind, n, holders)`` per
    distinct key, ``n`` the number of projects holding it. Keys with ``n > max_df`` are skipped;
    each holder scores ``FIELD_BOOST[kind]`` per shared key; those reaching ``min_score`` come
    back best first (ties by id), without ``exclude_id``, at most ``limit``. ``id_of`` maps
    holders to ids when they are not ids already (the in-memory index counts int slots)."""
    per_kind: dict[str, list[Sequence[H]]] = defaultdict(list)
    for kind, n, holders in postings:
        if holders and n <= max_df:
            per_kind[kind].append(holders)
    scores: Counter[H] = Counter()
    # Text bands first: the most postings, counted in C while ``scores`` is still empty.
    for kind in sorted(per_kind, key=lambda k: k != "text_band"):
        counts = Counter(chain.from_iterable(per_kind[kind]))
        boost = FIELD_BOOST.get(kind, 1.0)
        if not scores and boost == 1.0:
            scores = counts
            continue
        for h, c in counts.items():
            scores[h] += c * boost
    kept = [(h if id_of is None else id_of(h), sc) for h, sc in scores.items() if sc >= min_score]
    ranked = sorted(((i, sc) for i, sc in kept if i != exclude_id), key=lambda kv: (-kv[1], kv[0]))
    return [i for i, _ in ranked[:limit]]


class InMemoryCandidateIndex:
    def __init__(
        self, max_df: int = DEFAULT_MAX_DF, limit: int = DEFAULT_LIMIT, min_score: float = MIN_SCORE
    ) -> None:
        self.max_df = max_df
        self.limit = limit
        self.min_score = min_score
        # Postings hold small int slots, not id strings: cheaper to count and to keep in cache.
        self._postings: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._signals: dict[str, ProjectSignals] = {}
        self._slot: dict[str, int] = {}
        self._ids: list[str] = []
        self.last_candidate_count = 0

    def __len__(self) -> int:
        return len(self._signals)

    def add(self, signals: ProjectSignals) -> None:
        if signals.id in self._signals:
            self.remove(signals.id)
        self._signals[signals.id] = signals
        slot = self._slot.get(signals.id)
        if slot is None:
            slot = self._slot[signals.id] = len(self._ids)
            self._ids.append(signals.id)
        for fld, values in candidate_keys(signals).items():
            for v in set(values):
                self._postings[(fld, v)].append(slot)

    def add_all(self, items: Iterable[ProjectSignals]) -> None:
        for s in items:
            self.add(s)

    def remove(self, project_id: str) -> None:
        old = self._signals.pop(project_id, None)
        if old is None:
            return
        slot = self._slot[project_id]
        for fld, values in candidate_keys(old).items():
            for v in set(values):
                ids = self._postings.get((fld, v))
                if ids and slot in ids:
                    ids.remove(slot)

    def get(self, project_id: str) -> ProjectSignals | None:
        return self._signals.get(project_id)

    def candidate_ids(self, keys: dict[str, list[str]], exclude_id: str | None = None) -> list[str]:
        """Ids whose boosted count of shared keys reaches ``min_score``, best first, at most ``limit``."""
        postings = [
            (fld, len(ids), ids) for fld in keys for v in set(keys[fld]) if (ids := self._postings.get((fld, v)))
        ]
        ranked = rank_candidates(postings, exclude_id, id_of=self._ids.__getitem__, max_df=self.max_df,
                                 min_score=self.min_score, limit=self.limit)
        self.last_candidate_count = len(ranked)
        return ranked

    def lookup(self, keys: dict[str, list[str]], exclude_id: str | None = None) -> list[ProjectSignals]:
        """Signature of ``detector.CandidateLookup``."""
        return [self._signals[i] for i in self.candidate_ids(keys, exclude_id)]

    def term_stats(self, signals: ProjectSignals, others: Sequence[ProjectSignals] = ()) -> TermStats:
        """Signature of ``detector.StatsFor``: each term's document frequency is the length of
        its posting, as the engine's posting carries ``n``."""
        terms = stats_terms([signals, *others])
        return TermStats(len(self), {t: min(DF_CAP, len(self._postings.get(("term", t), ()))) for t in terms})
