"""The AsyncAPI document: committed = generated, valid for an independent parser (@asyncapi/parser from
the npm registry, run with node), and in step with the code (every type emitted is documented, every
documented type is emitted somewhere, every subscribed type is documented)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml
from platform_support import REPO

from gongyi.config import SERVICES
from gongyi.events.asyncapi import generate, load_event_schemas, producer_of, render
from gongyi.events.emitted import scan_services
from gongyi.events.envelope import documented_types

ASYNCAPI = REPO / "contracts" / "asyncapi.yaml"

# Parses a document with the reference AsyncAPI parser and prints what it understood, as JSON.
VALIDATOR_JS = r"""
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
const file = process.argv.at(-1);
const { document, diagnostics } = await new Parser().parse(readFileSync(file, 'utf8'), { source: file });
const amqp = (b) => (b.get('amqp') ? b.get('amqp').value() : {});
process.stdout.write(JSON.stringify({
  valid: document !== undefined,
  diagnostics: diagnostics.map(d => ({ severity: d.severity, code: d.code, message: d.message,
                                       path: d.path.join('/') })),
  operations: document ? document.operations().all().map(o => ({
    id: o.id(), action: o.action(), channels: o.channels().all().map(c => c.address()),
    messages: o.messages().all().map(m => m.name()), binding: amqp(o.bindings()) })) : [],
  messages: document ? document.components().messages().all().map(m => ({
    name: m.name(), contentType: m.contentType(), required: m.payload() ? m.payload().required() : null })) : [],
  exchanges: document ? document.channels().all().map(c => ({ address: c.address(), binding: amqp(c.bindings()) }))
                      : [],
}));
"""


def _node_modules_ready() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the AsyncAPI validator (apt-get install nodejs npm)")
    if not (REPO / "node_modules" / "@asyncapi" / "parser").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=REPO, check=True,
                       capture_output=True, timeout=300)


def parse_with_asyncapi_parser(path) -> dict:  # noqa: ANN001
    _node_modules_ready()
    out = subprocess.run(["node", "--input-type=module", "-e", VALIDATOR_JS, str(path)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_committed_document_equals_the_generated_one():
    assert ASYNCAPI.read_text(encoding="utf-8") == render(generate()), "run `gongyi asyncapi` and commit it"


def test_the_npm_asyncapi_parser_accepts_the_document_and_reads_every_event():
    parsed = parse_with_asyncapi_parser(ASYNCAPI)
    problems = [d for d in parsed["diagnostics"] if d["severity"] <= 1]  # 0 error, 1 warning
    assert parsed["valid"] and not problems, problems
    sends = {o["messages"][0]: o for o in parsed["operations"] if o["action"] == "send"}
    schemas = load_event_schemas()
    assert set(sends) == set(schemas) == documented_types()
    for event_type, schema in schemas.items():
        op = sends[event_type]
        assert op["channels"] == [f"{producer_of(schema)}.events"]
        assert op["binding"]["cc"] == [event_type] and op["binding"]["deliveryMode"] == 2
    for message in parsed["messages"]:
        assert message["contentType"] == "application/cloudevents+json"
    exchanges = {c["address"]: c["binding"] for c in parsed["exchanges"] if c["binding"].get("is") == "routingKey"}
    for binding in exchanges.values():
        assert binding["exchange"]["type"] == "topic" and binding["exchange"]["durable"] is True
    print(f"\n@asyncapi/parser: {len(sends)} events, {len(parsed['operations'])} operations, "
          f"{len(exchanges)} exchanges, diagnostics: {[d['code'] for d in parsed['diagnostics']]}")


def test_the_parser_is_not_a_rubber_stamp(tmp_path):
    doc = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    first = next(iter(doc["operations"]))
    doc["operations"][first]["channel"] = {"$ref": "#/channels/no.such.exchange"}
    doc["operations"][first]["bindings"]["amqp"]["deliveryMode"] = 3
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    parsed = parse_with_asyncapi_parser(broken)
    assert not parsed["valid"] or any(d["severity"] == 0 for d in parsed["diagnostics"])


def test_every_emitted_type_is_documented_and_every_documented_type_is_emitted():
    scan = scan_services(list(SERVICES))
    assert not scan.unresolved, f"emit calls whose event type the scanner cannot resolve: {scan.unresolved}"
    emitted = scan.pairs()
    documented = {(producer_of(s), t) for t, s in load_event_schemas().items()}
    undocumented = sorted(emitted - documented)
    never_emitted = sorted(documented - emitted)
    print(f"\nemitted by the code: {len(emitted)}; documented: {len(documented)}")
    assert not undocumented and not never_emitted, (
        f"emitted but not documented (add contracts/events/<type>.schema.json): {undocumented}; "
        f"documented but never emitted (emit it or delete the schema): {never_emitted}"
    )


def test_every_subscribed_type_is_documented_with_its_producer():
    from gongyi.events.topology import subscriptions
    from gongyi.registry import service_classes

    schemas = load_event_schemas()
    for sub in subscriptions(service_classes()):
        assert sub.event_type in schemas, f"{sub.queue_name} subscribes to an undocumented type"
        assert producer_of(schemas[sub.event_type]) == sub.source, sub.queue_name


def test_each_schema_names_one_producer_consistently():
    for event_type, schema in load_event_schemas().items():
        source = schema.get("properties", {}).get("source", {}).get("const")
        assert source, f"{event_type}: properties.source.const is missing"
        if "x-producer" in schema:
            assert source == f"/gongyi/{schema['x-producer']}", event_type
        assert schema["properties"]["type"]["const"] == event_type
