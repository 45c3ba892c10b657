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
credit code), not one project; the pair is still found through its other keys. The service does the
same with a stop-key list from a terms aggregation with ``min_doc_count``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import chain

from .signals import ProjectSignals, candidate_keys

FIELD_BOOST: dict[str, float] = {
    "credit_code": 3.0,
    "org": 2.0,
    "name": 2.0,
    "text_band": 1.0,
    "phash_band": 2.0,
    "sha256": 4.0,
    "link": 4.0,
}
DEFAULT_LIMIT = 50
DEFAULT_MAX_DF = 50
MIN_SCORE = 3.0


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
        scores: Counter[int] = Counter()
        # Text bands first: the largest posting lists, counted in C while ``scores`` is empty.
        for fld in sorted(keys, key=lambda f: f != "text_band"):
            lists = [
                ids
                for v in set(keys[fld])
                if (ids := self._postings.get((fld, v))) and len(ids) <= self.max_df
            ]
            if not lists:
                continue
            counts = Counter(chain.from_iterable(lists))
            boost = FIELD_BOOST.get(fld, 1.0)
            if not scores and boost == 1.0:
                scores = counts
                continue
            for i, n in counts.items():
                scores[i] += n * boost
        if exclude_id is not None and exclude_id in self._slot:
            scores.pop(self._slot[exclude_id], None)
        ids = self._ids
        kept = [(ids[i], sc) for i, sc in scores.items() if sc >= self.min_score]
        ranked = sorted(kept, key=lambda kv: (-kv[1], kv[0]))[: self.limit]
        self.last_candidate_count = len(ranked)
        return [i for i, _ in ranked]

    def lookup(self, keys: dict[str, list[str]], exclude_id: str | None = None) -> list[ProjectSignals]:
        """Signature of ``detector.CandidateLookup``."""
        return [self._signals[i] for i in self.candidate_ids(keys, exclude_id)]
