"""Hypothesis over the request validators every route uses (gongyi/http/api.py): arbitrary JSON bodies,
bytes and query strings give a parsed model or a 4xx DomainError with a code, never anything else."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gongyi.errors import DomainError
from gongyi.http.api import MAX_JSON_BODY, parse_json_body, parse_query


class Inner(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    count: int = Field(ge=0, le=100)


class Body(BaseModel):
    model_config = {"extra": "forbid"}
    title: str
    tags: list[str] = []
    inner: Inner | None = None
    ratio: float | None = None


class Query(BaseModel):
    q: str | None = Field(default=None, max_length=50)
    size: int = Field(default=20, ge=1, le=100)
    category: list[str] = []
    flag: bool | None = None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)
body_like = st.fixed_dictionaries(
    {}, optional={"title": json_values, "tags": json_values, "inner": json_values, "ratio": json_values,
                  "extra": json_values})


def request(data: bytes, content_type: str = "application/json", query: list[tuple[str, str]] | None = None):  # noqa: ANN201
    builder = EnvironBuilder(method="POST", data=data, content_type=content_type, query_string=query)
    return Request(builder.get_environ())


def _outcome(fn, req, model):  # noqa: ANN001, ANN202
    try:
        return isinstance(fn(req, model), model)
    except DomainError as err:
        assert 400 <= err.status < 500 and err.code and err.message_zh and err.message_en
        json.dumps(err.to_dict(), default=str)
        return False


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, body_like))
def test_any_json_body_is_parsed_or_refused_with_a_4xx(value):
    _outcome(parse_json_body, request(json.dumps(value).encode()), Body)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(max_size=200), st.sampled_from(["application/json", "text/plain", "", "application/json; x=1"]))
def test_any_bytes_and_content_type_are_parsed_or_refused_with_a_4xx(data, content_type):
    _outcome(parse_json_body, request(data, content_type), Body)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["q", "size", "category", "flag", "other"]), st.text(max_size=60)),
                max_size=8))
def test_any_query_string_is_parsed_or_refused_with_a_4xx(pairs):
    _outcome(parse_query, request(b"", query=pairs), Query)


def test_oversized_body_is_refused_with_413():
    req = request(b"[" + b"1," * (MAX_JSON_BODY // 2) + b"1]")
    try:
        parse_json_body(req, Body)
    except DomainError as err:
        assert err.status == 413 and err.code == "body_too_large"
    else:
        raise AssertionError("an oversized body was accepted")
