"""The project search index (Elasticsearch): mapping, alias, bulk writes, rebuild.

Chinese text uses the stock ``cjk`` analyser (bigrams), so no plugin is needed; names and codes
are also keyword fields. Searches go to the alias, so a rebuild writes a new index and swaps the
alias with no search downtime. The mapping is versioned in the index name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from gongyi.search import rebuild_behind_alias

MAPPING_VERSION = 1
_TEXT = {"type": "text", "analyzer": "cjk"}
_TEXT_KW = {"type": "text", "analyzer": "cjk", "fields": {"raw": {"type": "keyword", "ignore_above": 256}}}

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": {
        "application_id": {"type": "keyword"},
        "call_id": {"type": "keyword"},
        "status": {"type": "keyword"},
        "unit_code": {"type": "keyword"},
        "category": {"type": "keyword"},
        "project_name": _TEXT_KW,
        "applicant_name": _TEXT_KW,
        "applicant_type": {"type": "keyword"},
        "credit_code": {"type": "keyword"},
        "province": {"type": "keyword"},
        "start_year": {"type": "integer"},
        "still_running": {"type": "boolean"},
        "summary": _TEXT,
        "implementation_results": _TEXT,
        "innovation": _TEXT,
        "evidence_captions": _TEXT,
        "forwarded_at": {"type": "date"},
        "duplicate_flag": {"type": "boolean"},
        "score": {"type": "float"},
    },
}
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}


class ProjectIndex:
    def __init__(self, client: Elasticsearch, prefix: str) -> None:
        self.client = client
        self.alias = f"{prefix}-projects"

    def physical_name(self, generation: int) -> str:
        return f"{self.alias}-v{MAPPING_VERSION}-{generation}"

    def current_indices(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).keys())
        except NotFoundError:
            return []

    def ensure(self) -> str:
        """Create the first index behind the alias if there is none."""
        existing = self.current_indices()
        if existing:
            return existing[0]
        name = self.physical_name(int(time.time() * 1000))
        self.client.indices.create(
            index=name, mappings=MAPPING, settings=SETTINGS, aliases={self.alias: {"is_write_index": True}}
        )
        return name

    def bulk_upsert(self, docs: Iterable[dict[str, Any]], index: str | None = None, refresh: bool = False) -> int:
        actions = (
            {"_op_type": "index", "_index": index or self.alias, "_id": d["application_id"], "_source": d} for d in docs
        )
        ok, _errors = helpers.bulk(self.client, actions, refresh=refresh, raise_on_error=True, chunk_size=500)
        return ok

    def refresh(self) -> None:
        self.client.indices.refresh(index=self.alias)

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.client.search(index=self.alias, **body)

    def count(self) -> int:
        return self.client.count(index=self.alias)["count"]

    def get(self, doc_id: str) -> dict[str, Any] | None:
        try:
            return self.client.get(index=self.alias, id=doc_id)["_source"]
        except NotFoundError:
            return None

    def rebuild(self, docs: Iterable[dict[str, Any]], total: int, progress: Callable[[int], None] | None = None) -> str:
        """Write every document into a new index, then swap the alias in one step."""
        new = self.physical_name(int(time.time() * 1000))
        rebuild_behind_alias(self.client, self.alias, new, MAPPING, SETTINGS, docs,
                             lambda batch, index: self.bulk_upsert(batch, index=index), 500, progress)
        return new
