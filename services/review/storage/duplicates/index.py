"""The duplicate-candidate index (Elasticsearch): one POSTING document per candidate key, behind
the alias ``<prefix>-dupsignals``.

A posting is ``{_id: "<kind>|<value>", kind, n, ids}``: the ids of the active applications
holding the key and how many there are. A key held by more than ``max_df`` projects (a stop
key) keeps ``n`` and an empty ``ids``; checks skip it. A check reads the postings of its
~45 keys with ONE ``mget`` (by id, realtime, no search) and counts them in Python with
``rank_candidates``, exactly as ``InMemoryCandidateIndex`` does. Its cost depends on the
postings it reads (bounded by ``max_df``), not on the corpus: the bool query of ~45 ``term``
clauses this replaces grew x9 from 1k to 100k projects on osmem-server (docs/duplicates.md).

It is a read model: SQL (``dup_keys``) holds the keys, the review service recomputes the
postings of changed keys from it, and ``rebuild`` writes a new index from it and swaps the
alias. The alias keeps its name from the per-application layout (mapping version 2), so the
version bump makes the service replace that index in place at start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from gongyi.search import rebuild_behind_alias
from services.review.domain.duplicates.index import DEFAULT_LIMIT, DEFAULT_MAX_DF, MIN_SCORE, rank_candidates
from services.review.storage.duplicates.tables import key_kind, posting_key

MAPPING_VERSION = 3
# Postings are only read by id: nothing is indexed (indexing ``kind`` made bulk loads of millions
# of postings several times slower on osmem-server).
_STORED = {"index": False, "doc_values": False}
MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION, "layout": "postings"},
    "properties": {
        "kind": {"type": "keyword", **_STORED},
        "n": {"type": "integer", **_STORED},
        "ids": {"type": "keyword", **_STORED},
    },
}
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}
BULK_ACTIONS = 5000

Posting = tuple[str, int, list[str]]  # kind, projects holding the key, their ids ([] for a stop key)


def posting_document(
    key: str, ids: Sequence[str], max_df: int = DEFAULT_MAX_DF, n: int | None = None
) -> dict[str, Any]:
    """The document of one key held by ``ids`` (``_id`` is the key); a stop key may be given by
    its count ``n`` alone (``ids`` empty)."""
    n = len(ids) if n is None else n
    return {"_id": key, "kind": key_kind(key), "n": n, "ids": sorted(ids) if n <= max_df else []}


class DuplicateIndex:
    def __init__(self, client: Elasticsearch, prefix: str, max_df: int = DEFAULT_MAX_DF) -> None:
        self.client = client
        self.alias = f"{prefix}-dupsignals"
        self.max_df = max_df

    def physical_name(self, generation: int) -> str:
        return f"{self.alias}-v{MAPPING_VERSION}-{generation}"

    def current_indices(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).keys())
        except NotFoundError:
            return []

    def ensure(self) -> bool:
        """Create the first index behind the alias if there is none. True if the index must be
        filled from SQL: it was just created, or it has an older mapping (``rebuild`` replaces it)."""
        existing = self.current_indices()
        if existing:
            return not all(f"-v{MAPPING_VERSION}-" in name for name in existing)
        name = self.physical_name(int(time.time() * 1000))
        self.client.indices.create(
            index=name, mappings=MAPPING, settings=SETTINGS, aliases={self.alias: {"is_write_index": True}}
        )
        return True

    def write(
        self,
        docs: Iterable[dict[str, Any]],
        deletes: Iterable[str] = (),
        index: str | None = None,
        refresh: bool | str = False,
    ) -> int:
        """Bulk index posting ``docs`` and delete ``deletes`` (keys). No refresh is needed for
        checks: ``mget`` is realtime. The NDJSON is written here rather than by
        ``helpers.bulk``, whose per-action overhead dominated loading millions of postings."""
        target = index or self.alias
        lines: list[str] = []
        written = 0

        def flush() -> None:
            nonlocal written
            if not lines:
                return
            raw = self.client.bulk(index=target, operations="\n".join(lines) + "\n", refresh=refresh)
            if raw["errors"]:
                # a delete of a posting that is not there (404, no "error") is fine
                failed = [i for item in raw["items"] for i in item.values() if "error" in i]
                if failed:
                    raise RuntimeError(f"{len(failed)} posting writes failed, first: {failed[0]}")
            written += len(raw["items"])
            lines.clear()

        for d in docs:
            source = {k: v for k, v in d.items() if k != "_id"}
            lines += [json.dumps({"index": {"_id": d["_id"]}}), json.dumps(source, ensure_ascii=False)]
            if len(lines) >= 2 * BULK_ACTIONS:
                flush()
        for key in deletes:
            lines.append(json.dumps({"delete": {"_id": key}}))
            if len(lines) >= 2 * BULK_ACTIONS:
                flush()
        flush()
        return written

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.alias)

    def count(self) -> int:
        return self.client.count(index=self.alias)["count"]

    def read(self, keys: dict[str, list[str]]) -> dict[tuple[str, str], Posting]:
        """The postings of ``keys`` (kind -> values) that exist, by (kind, value), read with one
        ``mget``."""
        wanted = {posting_key(kind, v): (kind, v) for kind, values in keys.items() for v in values}
        if not wanted:
            return {}
        raw = self.client.mget(index=self.alias, ids=list(wanted))
        return {
            wanted[d["_id"]]: (wanted[d["_id"]][0], d["_source"]["n"], d["_source"]["ids"])
            for d in raw["docs"] if d.get("found")
        }

    def postings(self, keys: dict[str, list[str]]) -> list[Posting]:
        """The postings of ``keys`` (kind -> values) that exist, read with one ``mget``."""
        return list(self.read(keys).values())

    def term_counts(self, terms: Iterable[str]) -> dict[str, int]:
        """Document frequency of each term: the ``n`` of its ``term`` posting (stop keys keep it)."""
        wanted = {posting_key("term", t): t for t in set(terms)}
        if not wanted:
            return {}
        # only ``n``: the holders' ids are most of a posting, and a check asks for ~300 of them
        raw = self.client.mget(index=self.alias, ids=sorted(wanted), source_includes=["n"])
        return {wanted[d["_id"]]: d["_source"]["n"] for d in raw["docs"] if d.get("found")}

    def candidate_ids(
        self, keys: dict[str, list[str]], exclude_id: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[str]:
        """Ids sharing enough keys with ``keys``, best first (``MIN_SCORE``, stop keys skipped)."""
        return rank_candidates(self.postings(keys), exclude_id, max_df=self.max_df, min_score=MIN_SCORE, limit=limit)

    def rebuild(
        self, docs: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None
    ) -> str:
        """Write every posting into a new index, then swap the alias in one step."""
        new = self.physical_name(int(time.time() * 1000))
        rebuild_behind_alias(self.client, self.alias, new, MAPPING, SETTINGS, docs,
                             lambda batch, index: self.write(batch, index=index), BULK_ACTIONS, progress)
        return new
