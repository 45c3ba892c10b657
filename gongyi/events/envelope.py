"""CloudEvents 1.0 structured-mode envelope and the event contracts kept in ``contracts/events``.

Every event the platform sends is a JSON object with the CloudEvents core attributes plus
``correlationid`` and ``causationid``. Its type doubles as the AMQP routing key
(``<entity>.<verb>.v<major>``); its JSON Schema lives in ``contracts/events/<type>.schema.json``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from gongyi.contracts import CONTRACTS_ROOT

CONTRACTS_DIR = CONTRACTS_ROOT / "events"
CONTENT_TYPE = "application/cloudevents+json"
ENVELOPE_ID = "urn:gongyi:event:envelope"


class InvalidEvent(ValueError):
    """An event that breaks its contract: never sent, and dead-lettered when received."""


def schema_urn(event_type: str) -> str:
    return f"urn:gongyi:event:{event_type}"


def make_event(
    *,
    source_service: str,
    type: str,
    subject: str,
    data: dict[str, Any],
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """Build a CloudEvents envelope; causation/correlation ids follow a request through events."""
    eid = event_id or str(uuid.uuid4())
    return {
        "specversion": "1.0",
        "id": eid,
        "source": f"/gongyi/{source_service}",
        "type": type,
        "time": (time or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": schema_urn(type),
        "correlationid": correlation_id or eid,
        "causationid": causation_id or correlation_id or eid,
        "data": data,
    }


def encode(event: Any) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


def decode(body: str | bytes) -> Any:
    return json.loads(body)


@lru_cache(maxsize=1)
def _contracts() -> dict[str, dict[str, Any]]:
    docs = (json.loads(p.read_text(encoding="utf-8")) for p in sorted(CONTRACTS_DIR.glob("*.schema.json")))
    return {doc["$id"]: doc for doc in docs}


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resources((uri, Resource.from_contents(doc)) for uri, doc in _contracts().items())


def documented_types() -> set[str]:
    """Every event type with a schema in the repo."""
    return {
        p.name.removesuffix(".schema.json")
        for p in CONTRACTS_DIR.glob("*.schema.json")
        if p.name != "envelope.schema.json"
    }


@cache
def _validator(event_type: str) -> Draft202012Validator:
    registry = _registry()
    try:
        schema = registry.contents(schema_urn(event_type))
    except Exception as exc:  # referencing raises its own NoSuchResource
        raise InvalidEvent(f"no contract for event type {event_type!r}") from exc
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


@cache
def _fast_validator(event_type: str) -> Any:
    """The same contract compiled by jsonschema-rs (Draft 2020-12, formats checked): about 100×
    faster than ``jsonschema`` on a forwarded application, and every event is validated twice
    (when written and when received). It only says yes or no; ``jsonschema`` words the refusal."""
    contracts = _contracts()
    urn = schema_urn(event_type)
    if urn not in contracts:
        raise InvalidEvent(f"no contract for event type {event_type!r}")
    registry = jsonschema_rs.Registry(list(contracts.items()))
    return jsonschema_rs.validator_for(contracts[urn], registry=registry, validate_formats=True)


def validate_event(event: dict[str, Any]) -> None:
    """Raise InvalidEvent unless the envelope and its data match the type's schema."""
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise InvalidEvent("not a CloudEvents envelope")
    try:
        if _fast_validator(event["type"]).is_valid(event):
            return
    except ValueError:  # a value JSON cannot hold (a datetime, a non-string key): the reference words it
        pass
    # refused: the reference validator gives the first error by path, as before
    errors = sorted(_validator(event["type"]).iter_errors(event), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        raise InvalidEvent(f"{event['type']}: {where}: {first.message}")
