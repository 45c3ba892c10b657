"""schemathesis against review's duplicate routes (its served OpenAPI document): generated
requests, valid and invalid, with a staff and an applicant token, never get a 5xx answer."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from platform_support import running_services, tokens
from schemathesis.checks import not_a_server_error

# staff reach the handlers; an applicant is refused before them (403), so fewer examples do
MAX_EXAMPLES = {"staff": 15, "applicant": 4}


def _run(operation, base: str, headers: dict[str, str], examples: int) -> None:  # noqa: ANN001
    @given(case=operation.as_strategy())
    @hsettings(max_examples=examples, derandomize=True, deadline=None, database=None,
               suppress_health_check=list(HealthCheck))
    def run(case) -> None:  # noqa: ANN001
        response = case.call(base_url=base, headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    run()


def test_duplicate_routes_never_answer_5xx(settings):
    with running_services(settings, "review") as urls:
        base = urls["review"]
        tok = tokens(settings)
        schema = schemathesis.openapi.from_url(f"{base}/api/review/openapi.json")
        operations = [r.ok() for r in schema.get_all_operations()]
        mine = [op for op in operations if op.path.startswith("/api/review/duplicates")]
        assert len(mine) == 4  # list, settle, a suspicion, the ranked queue of similar projects
        failures = []
        for role in ("staff", "applicant"):
            for operation in mine:
                try:
                    _run(operation, base, {"Authorization": f"Bearer {tok[role]}"}, MAX_EXAMPLES[role])
                except Exception as exc:  # noqa: BLE001 - collect every failing operation, then report
                    failures.append(f"{role} {operation.label}: {exc}"[:2000])
        assert not failures, "\n\n".join(failures)
