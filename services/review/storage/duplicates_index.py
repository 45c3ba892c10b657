"""The duplicate-candidate index (Elasticsearch): one document per application holding its
``candidate_keys`` as keyword fields, behind the alias ``<prefix>-dupsignals``.

It answers one query, the bool/should of boosted ``term`` clauses described in
docs/duplicates.md (the same as ``InMemoryCandidateIndex``). It is a read model: SQL
(``dup_signals``) holds the signals, and ``rebuild`` writes a new index from it and swaps the alias.

Each key is stored twice: in a keyword field of its kind (``credit_code``, ``text_band``...: for
people and for inspection) and as ``"<kind>|<value>"`` in the one field ``keys``, which the
candidate query and the stop-key aggregation use. Measured on osmem-server at 100k projects, the
same 45-clause query costs 16 ms over seven fields and 5 ms over one (bench/dedupe_scale.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from gongyi.search import rebuild_behind_alias
from services.review.domain.duplicates.index import DEFAULT_LIMIT, DEFAULT_MAX_DF, FIELD_BOOST, MIN_SCORE

MAPPING_VERSION = 2
KEY_FIELDS = tuple(FIELD_BOOST)
MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": {
        "application_id": {"type": "keyword"},
        "call_id": {"type": "keyword"},
        "keys": {"type": "keyword"},
        **{f: {"type": "keyword"} for f in KEY_FIELDS},
    },
}
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}
# The stop-key aggregation reads every key of the corpus (seconds at 10k+ projects), so it runs
# in the background every few minutes, never inside a check.
STOP_KEYS_TTL_S = 600.0


def combined_key(kind: str, value: str) -> str:
    return f"{kind}|{value}"


def key_document(application_id: str, call_id: str, keys: dict[str, list[str]]) -> dict[str, Any]:
    per_kind = {f: sorted(set(keys.get(f) or [])) for f in KEY_FIELDS}
    combined = [combined_key(f, v) for f in KEY_FIELDS for v in per_kind[f]]
    return {"application_id": application_id, "call_id": call_id, "keys": combined, **per_kind}


def candidate_query(
    keys: dict[str, list[str]], exclude_id: str | None, limit: int = DEFAULT_LIMIT, min_score: float = MIN_SCORE
) -> dict[str, Any]:
    """One ``term`` clause per key, so sharing five text bands outscores sharing one."""
    should = [
        {"constant_score": {"filter": {"term": {"keys": combined_key(f, v)}}, "boost": FIELD_BOOST[f]}}
        for f in KEY_FIELDS
        for v in sorted(set(keys.get(f) or []))
    ]
    query: dict[str, Any] = {"bool": {"should": should, "minimum_should_match": 1}}
    if exclude_id is not None:
        query["bool"]["must_not"] = [{"ids": {"values": [exclude_id]}}]
    return {"query": query, "min_score": min_score, "size": limit, "source": False}


class DuplicateIndex:
    def __init__(self, client: Elasticsearch, prefix: str, max_df: int = DEFAULT_MAX_DF) -> None:
        self.client = client
        self.alias = f"{prefix}-dupsignals"
        self.max_df = max_df
        self._stop_keys: set[tuple[str, str]] = set()
        self._stop_keys_at = 0.0

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
        """Bulk index ``docs`` and delete ``deletes`` (ids) in one request stream."""
        target = index or self.alias
        actions: list[dict[str, Any]] = [
            {"_op_type": "index", "_index": target, "_id": d["application_id"], "_source": d} for d in docs
        ]
        actions += [{"_op_type": "delete", "_index": target, "_id": i} for i in deletes]
        if not actions:
            return 0
        # a delete of a document that is not there (404) is fine; any other failure raises
        ok, _ = helpers.bulk(self.client, actions, refresh=refresh, chunk_size=1000, ignore_status=(404,))
        return ok

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.alias)

    def count(self) -> int:
        return self.client.count(index=self.alias)["count"]

    def stop_keys(self, force: bool = False) -> set[tuple[str, str]]:
        """Keys held by more than ``max_df`` projects (a population, not a project), refreshed
        from a terms aggregation when ``force`` or older than ``STOP_KEYS_TTL_S``."""
        if force or time.monotonic() - self._stop_keys_at > STOP_KEYS_TTL_S:
            aggs = {"crowded": {"terms": {"field": "keys", "min_doc_count": self.max_df + 1, "size": 100_000}}}
            raw = self.client.search(index=self.alias, size=0, aggs=aggs)
            self._stop_keys = {
                tuple(b["key"].split("|", 1)) for b in raw["aggregations"]["crowded"]["buckets"]  # type: ignore[misc]
            }
            self._stop_keys_at = time.monotonic()
        return self._stop_keys

    def candidate_ids(
        self, keys: dict[str, list[str]], exclude_id: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[str]:
        """Ids sharing enough keys with ``keys``, best first (the engine's ``min_score``)."""
        stop = self._stop_keys  # as last refreshed (see stop_keys); checks never wait for it
        kept = {f: [v for v in vals if (f, v) not in stop] for f, vals in keys.items()}
        if not any(kept.values()):
            return []
        raw = self.client.search(index=self.alias, **candidate_query(kept, exclude_id, limit))
        return [h["_id"] for h in raw["hits"]["hits"]]

    def rebuild(
        self, docs: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None
    ) -> str:
        """Write every document into a new index, then swap the alias in one step."""
        new = self.physical_name(int(time.time() * 1000))
        rebuild_behind_alias(self.client, self.alias, new, MAPPING, SETTINGS, docs,
                             lambda batch, index: self.write(batch, index=index), 1000, progress)
        self._stop_keys_at = 0.0
        return new
