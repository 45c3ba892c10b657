"""Every service's HTTP contract: JSON errors with a code and both languages, the served OpenAPI
document equals the one in the repo, and every route is documented."""

from __future__ import annotations

import json

import pytest
from platform_support import REPO, Client, running_services, tokens

from gongyi.config import SERVICES
from gongyi.registry import service_class


@pytest.fixture(scope="module")
def services(settings):
    with running_services(settings, *SERVICES) as urls:
        yield urls


def _assert_error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    # one error policy (gongyi/http): the status and the request id repeated in every refusal
    assert set(body) == {"code", "message_zh", "message_en", "details", "status", "request_id"}
    assert body["status"] == status and body["request_id"] == resp.headers["X-Correlation-Id"]
    assert body["code"] == code and body["message_zh"] and body["message_en"]
    return body


@pytest.mark.parametrize("service", SERVICES)
def test_served_openapi_equals_the_committed_document(services, service):
    served = Client(services[service]).get(f"/api/{service}/openapi.json").json()
    committed = json.loads((REPO / "contracts" / "openapi" / f"{service}.json").read_text(encoding="utf-8"))
    assert served == committed, "run `make openapi` and commit contracts/openapi/"


@pytest.mark.parametrize("service", SERVICES)
def test_every_http_entrypoint_is_in_the_document(service):
    cls = service_class(service)
    module = __import__(cls.__module__, fromlist=["api"])
    doc = module.api.openapi()
    declared = {(ep.method, ep.url) for name in dir(cls)
                for ep in getattr(getattr(cls, name), "nameko_entrypoints", ())
                if hasattr(ep, "url") and "<path:rest>" not in ep.url}
    documented = {(m.upper(), p.replace("{", "<").replace("}", ">")) for p, ops in doc["paths"].items() for m in ops}
    assert declared == documented
    for ops in doc["paths"].values():
        for op in ops.values():
            for status, resp in op["responses"].items():
                if int(status) >= 400:
                    assert resp["x-error-codes"], (op["operationId"], status)


def test_errors_are_json_with_codes(services, settings):
    tok = tokens(settings)
    intake = services["intake"]
    _assert_error(Client(intake).get("/api/intake/no/such/route"), 404, "route_not_found")
    _assert_error(Client(intake).post("/api/intake/applications", json={}), 401, "missing_token")
    _assert_error(Client(intake, "not-a-token").get("/api/intake/applications"), 401, "invalid_token")
    _assert_error(Client(intake, tok["expert"]).post("/api/intake/applications", json={}), 403, "forbidden_role")
    applicant = Client(intake, tok["applicant"])
    _assert_error(applicant.post("/api/intake/applications", data="x", headers={"Content-Type": "text/plain"}),
                  415, "unsupported_media_type")
    _assert_error(applicant.post("/api/intake/applications", data="{oops",
                                 headers={"Content-Type": "application/json"}), 400, "invalid_json")
    body = _assert_error(applicant.post("/api/intake/applications", json={"call_id": "", "extra": 1}), 422,
                         "invalid_input")
    assert {i["path"] for i in body["details"]["issues"]} == {"call_id", "extra"}
    _assert_error(applicant.get("/api/intake/applications/does-not-exist"), 404, "application_not_found")
    _assert_error(Client(services["review"], tok["staff"]).get("/api/review/search", params={"size": "0"}),
                  422, "invalid_query")
    _assert_error(Client(services["review"], tok["unit"]).get("/api/review/search"), 403, "forbidden_role")


def test_requests_carry_a_correlation_id(services):
    r = Client(services["publish"]).get("/api/publish/healthz", headers={"X-Correlation-Id": "abc-123"})
    assert r.headers["X-Correlation-Id"] == "abc-123"
    assert Client(services["publish"]).get("/api/publish/healthz").headers["X-Correlation-Id"]


def test_metrics_are_exported(services):
    Client(services["intake"]).get("/api/intake/healthz")
    text = Client(services["intake"]).get("/api/intake/metrics").text
    assert "gongyi_http_request_duration_seconds_bucket" in text and 'route="/healthz"' in text
