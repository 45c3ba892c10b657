"""schemathesis over all four services' OpenAPI documents, sent through the router's base URL (an
embedded-like front door: gongyi/router.py on eventlet's wsgi server, as `gongyi run` serves it).

The per-service runs (test_*_schemathesis.py) go to the services directly; this one goes through
the front door as an outsider would, and checks the responses against their own schemas too:
0 server errors, 0 schema violations. Each operation runs with positive and negative data, with the first role it allows
(staff with the ``pii`` claim where staff may), bounded and derandomised to stay under 2 minutes."""

from __future__ import annotations

import time

import pytest
import schemathesis
from fixtures.media import service_support as ms
from front_door_support import SERVICES, front_door, isolated
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from platform_support import load_open_call, tokens
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from gongyi.http.auth import issue_token

MAX_EXAMPLES = 8
SLOW = {"GET /api/publish/calls/{call_id}/summary": 2}  # renders PDFs with a CJK font
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROLE_ORDER = ("staff", "applicant", "unit", "expert", "public")


@schemathesis.serializer(XLSX)
def _xlsx_body(ctx, value) -> bytes:  # noqa: ANN001 - generated binary is sent as is (not a workbook)
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture(scope="module")
def settings(settings):
    """This module's own vhost, databases, index and buckets (front_door_support.isolated)."""
    with isolated(settings) as own:
        yield own


def _runner(operation, base: str, headers: dict, mode: GenerationMode):  # noqa: ANN001, ANN202
    @given(case=operation.as_strategy(mode))
    @hsettings(max_examples=SLOW.get(operation.label, MAX_EXAMPLES), derandomize=True, deadline=None,
               database=None, suppress_health_check=list(HealthCheck))
    def run(case) -> None:  # noqa: ANN001
        response = case.call(base_url=base, headers=headers, timeout=30)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    return run


def test_all_four_apis_through_the_router_never_answer_5xx_nor_break_their_schemas(settings):
    load_open_call(settings)
    tok = tokens(settings)
    tok["staff"] = issue_token(settings, "staff", "staff-fuzz", pii=True)
    with ms.media_env(), front_door(settings) as base:
        failures, ran = [], 0
        started = time.monotonic()
        for service in SERVICES:
            schema = schemathesis.openapi.from_url(f"{base}/api/{service}/openapi.json")
            for result in schema.get_all_operations():
                operation = result.ok()
                roles = operation.definition.raw.get("x-roles", ["public"])
                role = next(r for r in ROLE_ORDER if r in roles or r == "public")
                headers = {"Authorization": f"Bearer {tok[role]}"} if role in tok else {}

                ran += 1
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    try:
                        _runner(operation, base, headers, mode)()
                    except Unsatisfiable:
                        assert mode is GenerationMode.NEGATIVE  # nothing to break in an operation without input
                    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect all, then report
                        failures.append(f"{role} {mode.value} {operation.label}: {exc}"[:3000])
        print(f"\n{ran} operations through the router in {time.monotonic() - started:.0f} s; "
              f"{len(failures)} failing", flush=True)
        assert ran >= 90
        assert not failures, "\n\n".join(failures)
