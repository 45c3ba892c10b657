"""A call document staff upload in the browser: YAML or JSON (JSON is YAML), one mapping.

Only the shape is checked here; intake checks the document against the call schema and its
rules and answers with every issue, which the error page lists.
"""

from __future__ import annotations

from typing import Any

import yaml

from services.console.domain.refusals import refuse

MAX_BYTES = 1024 * 1024  # a call document is a few kilobytes; the shipped ones are < 20 KiB


def parse_call_upload(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise refuse("missing_field", field="document")
    if len(raw) > MAX_BYTES:
        raise refuse("invalid_call_document", reason="too_large")
    try:
        document = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        raise refuse("invalid_call_document", reason="not_yaml") from None
    if not isinstance(document, dict):
        raise refuse("invalid_call_document", reason="not_a_mapping")
    # dates YAML reads as date objects travel as the ISO strings the schema speaks
    return _jsonable(document)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
