"""Staff search: from the API's parameters to one engine query (pure, so it is testable alone)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from services.review.domain.refusals import refusal, refuse

TEXT_FIELDS = [
    "project_name^3",
    "applicant_name^2",
    "summary",
    "implementation_results",
    "innovation",
    "evidence_captions",
]
# What a result list shows, and all an export writes: the long texts (implementation_results,
# innovation, evidence_captions) stay in the engine, where they are searched and highlighted, and
# come whole from GET projects/{id}. Naming the fields (rather than excluding some) also keeps any
# field added to the index later out of search results until it is listed here.
LIST_FIELDS = (
    "application_id",
    "call_id",
    "status",
    "unit_code",
    "category",
    "project_name",
    "applicant_name",
    "applicant_type",
    "credit_code",
    "province",
    "start_year",
    "still_running",
    "summary",
    "forwarded_at",
    "duplicate_flag",
    "score",
)
FILTERS = ("call_id", "category", "status", "province", "unit_code", "applicant_type")
FACETS = ("call_id", "category", "status", "province", "unit_code", "applicant_type")
SORTS = {
    "relevance": [{"_score": "desc"}, {"application_id": "asc"}],
    "time": [{"forwarded_at": {"order": "desc", "missing": "_last"}}, {"application_id": "asc"}],
    "score": [{"score": {"order": "desc", "missing": "_last"}}, {"application_id": "asc"}],
}


@dataclass
class SearchParams:
    q: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    start_year_from: int | None = None
    start_year_to: int | None = None
    score_min: float | None = None
    score_max: float | None = None
    duplicate_flag: bool | None = None
    sort: str = "relevance"
    size: int = 20
    cursor: str | None = None


def encode_cursor(sort_values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_values).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise refusal("invalid_cursor") from exc
    # only what encode_cursor makes: a short list of scalars (a crafted one once reached the search
    # engine and came back as 503)
    if not isinstance(values, list) or not 0 < len(values) <= 4 or not all(
        v is None or isinstance(v, int | float | str) and not isinstance(v, bool) and len(str(v)) <= 200
        for v in values
    ):
        refuse("invalid_cursor")
    return values


def build_query(p: SearchParams) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    if p.q:
        must.append(
            {
                "multi_match": {
                    "query": p.q,
                    "fields": TEXT_FIELDS,
                    "type": "best_fields",
                    "operator": "or",
                    "minimum_should_match": "75%",
                }
            }
        )
    filters: list[dict[str, Any]] = [{"terms": {k: v}} for k, v in p.filters.items() if v]
    year: dict[str, int] = {}
    if p.start_year_from is not None:
        year["gte"] = p.start_year_from
    if p.start_year_to is not None:
        year["lte"] = p.start_year_to
    if year:
        filters.append({"range": {"start_year": year}})
    score: dict[str, float] = {}
    if p.score_min is not None:
        score["gte"] = p.score_min
    if p.score_max is not None:
        score["lte"] = p.score_max
    if score:
        filters.append({"range": {"score": score}})
    if p.duplicate_flag is not None:
        filters.append({"term": {"duplicate_flag": p.duplicate_flag}})
    body: dict[str, Any] = {
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "size": p.size,
        "sort": SORTS[p.sort],
        "_source": {"includes": list(LIST_FIELDS)},
        "track_total_hits": True,
    }
    if not p.cursor:
        # facets describe the whole result set, which the first page already gave; on osmem the six
        # terms aggregations cost more than the query itself, so later pages do not ask again
        body["aggs"] = {name: {"terms": {"field": name, "size": 50}} for name in FACETS}
    if p.q:
        # without query text there is nothing to highlight
        body["highlight"] = {
            "fields": {"project_name": {}, "summary": {}, "implementation_results": {}},
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
        }
    if p.cursor:
        after = decode_cursor(p.cursor)
        # [number, application id]: the sort keys' own types, else the engine fails on them
        if len(after) != len(SORTS[p.sort]) or not isinstance(after[-1], str) or not all(
            v is None or isinstance(v, int | float) for v in after[:-1]
        ):
            refuse("invalid_cursor")
        body["search_after"] = after
    return body


def shape_response(raw: dict[str, Any], size: int) -> dict[str, Any]:
    hits = raw.get("hits", {}).get("hits", [])
    items = []
    for h in hits:
        src = h.get("_source", {})
        items.append({**src, "highlight": h.get("highlight", {}), "relevance": h.get("_score")})
    total = raw.get("hits", {}).get("total", {})
    facets = {
        name: [{"value": b["key"], "count": b["doc_count"]} for b in agg.get("buckets", [])]
        for name, agg in (raw.get("aggregations") or {}).items()
    }
    next_cursor = encode_cursor(hits[-1]["sort"]) if len(hits) == size and hits and "sort" in hits[-1] else None
    return {
        "total": total.get("value", 0) if isinstance(total, dict) else total,
        "items": items,
        "facets": facets,
        "next_cursor": next_cursor,
    }
