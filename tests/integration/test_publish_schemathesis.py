"""schemathesis against publish's served OpenAPI document: generated requests (valid and invalid,
with a staff token) never get a 5xx answer. Each operation gets a bounded, derandomised run."""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from platform_support import running_services, tokens
from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 25
SLOW = {"GET /api/publish/calls/{call_id}/summary": 10}  # renders PDFs with a CJK font: ~0.5 s each


def test_publish_api_never_answers_5xx(settings):
    with running_services(settings, "publish") as urls:
        base = urls["publish"]
        headers = {"Authorization": f"Bearer {tokens(settings)['staff']}"}
        schema = schemathesis.openapi.from_url(f"{base}/api/publish/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 30
        failures = []
        for operation in operations:

            @given(case=operation.as_strategy())
            @hsettings(max_examples=SLOW.get(operation.label, MAX_EXAMPLES), derandomize=True, deadline=None,
                       database=None, suppress_health_check=list(HealthCheck))
            def run(case) -> None:  # noqa: ANN001
                response = case.call(base_url=base, headers=headers, timeout=15)
                case.validate_response(response, checks=[not_a_server_error])

            started = time.monotonic()
            try:
                run()
            except Exception as exc:  # noqa: BLE001 - collect every failing operation, then report
                failures.append(f"{operation.label}: {exc}"[:2000])
            print(f"{operation.label}: {time.monotonic() - started:.1f} s", flush=True)
        assert not failures, "\n\n".join(failures)
