"""schemathesis against review's served OpenAPI document: no operation answers 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from platform_support import running_services, tokens

from gongyi.http.auth import issue_token


@pytest.fixture(scope="module")
def review_url(settings):
    with running_services(settings, "review") as urls:
        yield urls["review"]


def _run(operation, base_url: str, token: str, failures: list) -> None:  # noqa: ANN001
    @hsettings(max_examples=5, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case) -> None:  # noqa: ANN001
        response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=20)
        if response.status_code >= 500:
            failures.append((operation.label, response.status_code, response.text[:300]))

    check()


@pytest.mark.parametrize("role", ["staff", "expert"])
def test_no_server_errors(review_url, settings, role):
    schema = schemathesis.openapi.from_url(f"{review_url}/api/review/openapi.json")
    token = tokens(settings)["staff"] if role == "staff" else issue_token(settings, "expert", "fuzz", expert="fz")
    failures: list = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if role == "expert" and "expert" not in operation.definition.raw.get("x-roles", []):
            continue
        _run(operation, review_url, token, failures)
    assert failures == []
