"""schemathesis against media's served OpenAPI document: generated requests (valid and invalid,
with an applicant and a staff token) never get a 5xx answer. Bounded and derandomised."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from platform_support import running_services, tokens
from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 20


def _run(operation, base: str, headers: dict[str, str]) -> None:  # noqa: ANN001
    @given(case=operation.as_strategy())
    @hsettings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
               suppress_health_check=list(HealthCheck))
    def run(case) -> None:  # noqa: ANN001
        response = case.call(base_url=base, headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    run()


def test_media_api_never_answers_5xx(settings):
    with running_services(settings, "media") as urls:
        base = urls["media"]
        tok = tokens(settings)
        schema = schemathesis.openapi.from_url(f"{base}/api/media/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10
        failures = []
        for role in ("applicant", "staff"):
            for operation in operations:
                try:
                    _run(operation, base, {"Authorization": f"Bearer {tok[role]}"})
                except Exception as exc:  # noqa: BLE001 - collect every failing operation, then report
                    failures.append(f"{role} {operation.label}: {exc}"[:2000])
        assert not failures, "\n\n".join(failures)
