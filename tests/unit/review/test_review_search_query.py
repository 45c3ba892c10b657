"""The engine query of the staff search: its shape (what the engine is asked for) and the response."""

from __future__ import annotations

import pytest

from gongyi.errors import BadRequest
from services.review.domain.search_query import (
    FACETS,
    LIST_FIELDS,
    SearchParams,
    build_query,
    encode_cursor,
    shape_response,
)
from services.review.entrypoints.schemas import SearchHit, SearchQuery
from services.review.entrypoints.service import search_params
from services.review.handlers.search_extras import EXPORT_COLUMNS


def test_filters_are_in_filter_context_and_the_text_alone_scores():
    body = build_query(SearchParams(q="留守儿童", filters={"province": ["四川省"], "category": []},
                                    start_year_from=2018, duplicate_flag=False))
    query = body["query"]["bool"]
    assert [next(iter(c)) for c in query["must"]] == ["multi_match"]
    assert query["filter"] == [{"terms": {"province": ["四川省"]}}, {"range": {"start_year": {"gte": 2018}}},
                               {"term": {"duplicate_flag": False}}]


def test_only_the_list_fields_come_back():
    body = build_query(SearchParams(q="直播"))
    assert body["_source"] == {"includes": list(LIST_FIELDS)}
    assert not {"implementation_results", "innovation", "evidence_captions"} & set(LIST_FIELDS)
    # the long texts are still searched and highlighted
    assert "implementation_results" in body["highlight"]["fields"]
    assert "implementation_results" in body["query"]["bool"]["must"][0]["multi_match"]["fields"]
    # an export writes its columns from the same documents
    assert set(EXPORT_COLUMNS) <= set(LIST_FIELDS)
    # the documented hit is exactly what comes back
    assert set(SearchHit.model_fields) == set(LIST_FIELDS) | {"highlight", "relevance"}


def test_facets_on_the_first_page_and_highlight_with_text_only():
    first = build_query(SearchParams(q="直播"))
    assert set(first["aggs"]) == set(FACETS) and "search_after" not in first
    later = build_query(SearchParams(q="直播", cursor=encode_cursor([1.5, "a"])))
    assert "aggs" not in later and later["search_after"] == [1.5, "a"]
    assert "highlight" not in build_query(SearchParams())
    assert later["track_total_hits"] is True  # the total stays exact


def test_a_bad_cursor_is_refused():
    with pytest.raises(BadRequest):
        build_query(SearchParams(cursor="%%%"))


def test_the_route_parameters_reach_the_query():
    query = SearchQuery.model_validate({"q": "救援", "province": ["四川省"], "score_min": 60, "sort": "score",
                                        "size": 5})
    body = build_query(search_params(query))
    assert body["size"] == 5 and body["sort"][0] == {"score": {"order": "desc", "missing": "_last"}}
    assert {"terms": {"province": ["四川省"]}} in body["query"]["bool"]["filter"]
    assert {"range": {"score": {"gte": 60.0}}} in body["query"]["bool"]["filter"]


def test_shape_response_without_aggregations_has_empty_facets():
    raw = {"hits": {"total": {"value": 3, "relation": "eq"}, "hits": [
        {"_source": {"application_id": "a", "call_id": "c", "status": "forwarded"}, "_score": None,
         "sort": [1, "a"]}]}}
    out = shape_response(raw, 1)
    assert out["total"] == 3 and out["facets"] == {} and out["next_cursor"] == encode_cursor([1, "a"])
    assert out["items"] == [{"application_id": "a", "call_id": "c", "status": "forwarded", "highlight": {},
                             "relevance": None}]
