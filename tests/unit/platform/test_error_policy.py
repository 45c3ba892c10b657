"""The one error policy of gongyi/http and the input limits of gongyi/limits, without a server."""

from __future__ import annotations

import json
import logging

import pytest

from gongyi.errors import BadRequest, InvalidInput, NotFound
from gongyi.http.api import JsonHttpEntrypoint
from gongyi.limits import InputLimits, check_document, query_int_out_of_range
from gongyi.router import raw_target


def _body(response) -> dict:  # noqa: ANN001
    return json.loads(response.get_data())


def test_an_unexpected_exception_is_a_short_problem_and_its_details_stay_in_the_log(caplog):
    entry = JsonHttpEntrypoint.__new__(JsonHttpEntrypoint)
    entry.route_name = "/x"
    with caplog.at_level(logging.ERROR):
        response = entry.response_from_exception(RecursionError("secret internals /etc/passwd"), "req-1")
    body = _body(response)
    assert response.status_code == 500
    assert body["code"] == "internal_error" and body["status"] == 500 and body["request_id"] == "req-1"
    assert "secret" not in response.get_data(as_text=True) and len(response.get_data()) < 400
    assert "secret internals" in caplog.text and "req-1" in caplog.text


def test_a_refusal_keeps_its_own_code_with_status_and_request_id():
    entry = JsonHttpEntrypoint.__new__(JsonHttpEntrypoint)
    body = _body(entry.response_from_exception(NotFound("x_not_found", "无", "none"), "req-2"))
    assert body == {"code": "x_not_found", "message_zh": "无", "message_en": "none", "details": {}, "status": 404,
                    "request_id": "req-2"}


def test_depth_keys_and_items_are_bounded_iteratively():
    deep: object = []
    for _ in range(100_000):  # far past Python's recursion limit: the walk is iterative
        deep = [deep]
    with pytest.raises(BadRequest) as err:
        check_document(deep)
    assert err.value.code == "json_too_deep"
    with pytest.raises(BadRequest) as err:
        check_document({f"k{i}": 1 for i in range(50)}, InputLimits(max_keys=49))
    assert err.value.code == "too_many_keys"
    with pytest.raises(BadRequest) as err:
        check_document([1] * 11, InputLimits(max_items=10))
    assert err.value.code == "too_many_items"
    check_document({"a": [{"b": "text\nwith\ttabs"}]})  # ordinary text passes


@pytest.mark.parametrize("text,code", [("a\x00b", "control_character"), ("\x1b[31m", "control_character"),
                                       ("\ud800", "invalid_unicode"), ("x" * 21, "string_too_long")])
def test_text_with_controls_surrogates_or_too_long_is_refused_naming_the_field(text, code):
    with pytest.raises(InvalidInput) as err:
        check_document({"form": {"name": text}}, InputLimits(max_string=20))
    (issue,) = err.value.issues
    assert issue.code == code and issue.path == "form.name"


def test_at_most_twenty_findings_are_named():
    with pytest.raises(InvalidInput) as err:
        check_document({f"k{i}": "\x00" for i in range(500)})
    assert len(err.value.issues) == 20


@pytest.mark.parametrize("value,out", [("9223372036854775808", True), ("-9223372036854775808", True),
                                       ("9007199254740991", False), ("20", False), ("abc", False),
                                       ("١٢", False)])
def test_query_integers_beyond_2_53_are_out_of_range(value, out):
    assert query_int_out_of_range(value) is out


def test_the_router_forwards_the_raw_target_and_encodes_only_what_a_request_line_cannot_hold():
    env = {"RAW_PATH_INFO": "/api/intake/a%3Fb/\xe4\xb8\xad\x01 ", "QUERY_STRING": "q=\xe4&x=%41"}
    assert raw_target(env) == "/api/intake/a%3Fb/%E4%B8%AD%01%20?q=%E4&x=%41"


def test_every_timestamp_is_rfc3339_with_a_zone_even_when_the_store_dropped_it():
    import datetime as dt

    from pydantic import BaseModel

    from gongyi.http.api import _render, json_response

    class Out(BaseModel):
        at: dt.datetime

    naive = dt.datetime(2024, 1, 1, 10, 0, 0)  # what SQLite hands back for a UTC column
    assert json.loads(_render(Out(at=naive), 200).get_data())["at"] == "2024-01-01T10:00:00+00:00"
    assert json.loads(json_response({"expires_at": naive}).get_data())["expires_at"] == "2024-01-01T10:00:00+00:00"
    shanghai = dt.datetime(2024, 1, 1, 18, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert json.loads(json_response({"at": shanghai}).get_data())["at"] == "2024-01-01T18:00:00+08:00"
