"""schemathesis against intake's served OpenAPI document: generated requests (valid and invalid)
never get a 5xx answer. Each role's token is tried on the operations open to it (``x-roles``);
the role refusals themselves are tested in test_intake_lifecycle. Bounded and derandomised."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from platform_support import load_open_call, running_services, tokens
from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@schemathesis.serializer(XLSX)
def _xlsx_body(ctx, value) -> bytes:  # noqa: ANN001 - generated binary is sent as is (not a workbook)
    return value if isinstance(value, bytes) else str(value).encode()


def _runner(operation, base: str, headers: dict):  # noqa: ANN001, ANN202
    @given(case=operation.as_strategy())
    @hsettings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
               suppress_health_check=list(HealthCheck))
    def run(case) -> None:  # noqa: ANN001
        response = case.call(base_url=base, headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    return run


def test_intake_api_never_answers_5xx(settings):
    load_open_call(settings)
    with running_services(settings, "intake", "media") as urls:
        base = urls["intake"]
        tok = tokens(settings)
        schema = schemathesis.openapi.from_url(f"{base}/api/intake/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 18
        failures, ran = [], set()
        for role in ("applicant", "unit", "staff"):
            headers = {"Authorization": f"Bearer {tok[role]}"}
            for operation in operations:
                if not {role, "public"} & set(operation.definition.raw.get("x-roles", [])):
                    continue
                ran.add(operation.label)
                try:
                    _runner(operation, base, headers)()
                except Exception as exc:  # noqa: BLE001 - collect every failing operation, then report
                    failures.append(f"{role} {operation.label}: {exc}"[:2000])
        assert not failures, "\n\n".join(failures)
        assert {"POST /api/intake/imports", "POST /api/intake/applications/{app_id}/submit",
                "POST /api/intake/calls"} <= ran and len(ran) == len(operations)
