"""The AsyncAPI generator and the emit scanner on small inputs made here (no servers)."""

from __future__ import annotations

import textwrap

from gongyi.events.asyncapi import build_document, personal_fields, producer_of, to_component_schemas
from gongyi.events.emitted import EmitScanner
from gongyi.events.topology import Subscription

ENVELOPE = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:gongyi:event:envelope",
            "type": "object", "properties": {"id": {"type": "string"}}}


def thing_schema(event_type: str = "thing.made.v1", source: str = "/gongyi/intake") -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:gongyi:event:{event_type}",
        "title": "A thing was made",
        "allOf": [{"$ref": "urn:gongyi:event:envelope"}],
        "$defs": {"who": {"type": "object", "properties": {"mobile": {"type": "string", "x-personal": True}}}},
        "properties": {
            "type": {"const": event_type},
            "source": {"const": source},
            "data": {"type": "object", "properties": {"by": {"$ref": "#/$defs/who"},
                                                      "email": {"type": "string", "x-personal": True}}},
        },
    }


def test_urn_and_local_refs_become_component_refs():
    out = to_component_schemas("thing.made.v1", thing_schema())
    assert set(out) == {"thing.made.v1", "thing.made.v1.who"}
    body = out["thing.made.v1"]
    assert "$schema" not in body and "$id" not in body and "$defs" not in body
    assert body["allOf"] == [{"$ref": "#/components/schemas/CloudEventsEnvelope"}]
    assert body["properties"]["data"]["properties"]["by"] == {"$ref": "#/components/schemas/thing.made.v1.who"}


def test_producer_is_the_source_const_and_personal_fields_are_listed():
    assert producer_of(thing_schema(source="/gongyi/review")) == "review"
    assert personal_fields(thing_schema()) == ["/data/email"]


def test_document_has_one_exchange_channel_per_producer_and_an_operation_per_type():
    schemas = {"thing.made.v1": thing_schema(), "thing.gone.v1": thing_schema("thing.gone.v1"),
               "other.done.v1": thing_schema("other.done.v1", "/gongyi/review")}
    subs = [Subscription("intake", "thing.made.v1", "review", "on_made"),
            Subscription("intake", "not.documented.v1", "review", "on_nothing")]
    doc = build_document(schemas, ENVELOPE, subs)
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == {"intake.events", "review.events", subs[0].queue_name}
    exchange = doc["channels"]["intake.events"]["bindings"]["amqp"]["exchange"]
    assert exchange == {"name": "intake.events", "type": "topic", "durable": True, "autoDelete": False}
    op = doc["operations"]["intake.publish.thing.gone.v1"]
    assert op["action"] == "send" and op["bindings"]["amqp"]["cc"] == ["thing.gone.v1"]
    assert op["bindings"]["amqp"]["deliveryMode"] == 2
    assert op["messages"] == [{"$ref": "#/channels/intake.events/messages/thing.gone.v1"}]
    assert doc["operations"]["review.on_made"]["action"] == "receive"
    assert "review.on_nothing" not in doc["operations"]
    msg = doc["components"]["messages"]["thing.made.v1"]
    assert msg["contentType"] == "application/cloudevents+json" and msg["x-personal-fields"] == ["/data/email"]


def _write(root, rel: str, text: str) -> None:  # noqa: ANN001
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_scanner_resolves_constants_dicts_locals_parameters_and_domain_events(tmp_path):
    _write(tmp_path, "services/svc/events/published.py", """
        MADE = "thing.made.v1"
        GONE = "thing.gone.v1"
        BY_ACTION = {"make": MADE, "drop": GONE}
    """)
    _write(tmp_path, "services/svc/handlers.py", """
        from services.svc.events import published
        from services.svc.events.published import BY_ACTION, MADE

        def a(uow):
            uow.emit(MADE, "s", {})

        def b(uow, action):
            uow.emit(BY_ACTION[action], "s", {})

        def c(uow, flag):
            kind = published.GONE if flag else "thing.kept.v1"
            uow.emit(kind, "s", {})

        def _send(uow, event_type):
            uow.emit(event_type, "s", {})

        def d(uow):
            _send(uow, "thing.sent.v1")
            for t in ("thing.looped.v1",):
                uow.emit(t, "s", {})

        def e(uow, events):
            for event in events:
                uow.emit(event["type"], "s", {})

        def f(uow, anything):
            uow.emit(anything.kind, "s", {})

        def g(handler, record):
            handler.emit(record)  # a logging handler: not an event
    """)
    _write(tmp_path, "services/svc/domain/model.py", """
        def make_event(event_type, subject):
            return {"type": event_type, "subject": subject, "data": {}}

        def act():
            return [make_event("thing.domain.v1", "x")]
    """)
    result = EmitScanner(tmp_path).scan(["svc"])
    assert result.by_service()["svc"] == {"thing.made.v1", "thing.gone.v1", "thing.kept.v1", "thing.sent.v1",
                                          "thing.looped.v1", "thing.domain.v1"}
    assert len(result.unresolved) == 1 and "anything.kind" in result.unresolved[0]
