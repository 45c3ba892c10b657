"""Role x endpoint matrix generated from the served OpenAPI documents: every operation refuses every
role outside its ``x-roles`` (403 forbidden_role) and a missing token (401), never 2xx or 5xx; public
operations never answer 5xx to an anonymous caller. Tokens: expired, wrong audience or issuer, other
algorithms, unknown key ids and tampered payloads are refused by a running service too."""

from __future__ import annotations

import re
import time

import jwt
import pytest
from platform_support import Client, running_services

from gongyi.config import SERVICES
from gongyi.http.auth import ROLES, issue_token


@pytest.fixture(scope="module")
def services(settings):
    with running_services(settings, *SERVICES) as urls:
        yield urls


def role_tokens(settings) -> dict[str, str]:  # noqa: ANN001
    return {
        "applicant": issue_token(settings, "applicant", "matrix-applicant", org="53110000500000007T"),
        "unit": issue_token(settings, "unit", "matrix-unit", unit="cac-beijing"),
        "expert": issue_token(settings, "expert", "matrix-expert", expert="e-matrix"),
        "staff": issue_token(settings, "staff", "matrix-staff"),
    }


def operations(services) -> list[tuple[str, str, str, list[str]]]:  # noqa: ANN001
    ops = []
    for service, base in services.items():
        doc = Client(base).get(f"/api/{service}/openapi.json").json()
        for path, methods in doc["paths"].items():
            for method, op in methods.items():
                ops.append((service, method.upper(), re.sub(r"\{\w+\}", "x-matrix", path), op["x-roles"]))
    return ops


def call(base: str, method: str, path: str, token: str | None):  # noqa: ANN201
    return Client(base, token).request(method, path, json={} if method in ("POST", "PUT", "PATCH") else None)


def test_every_operation_refuses_every_role_outside_its_scope(services, settings):
    tokens = role_tokens(settings)
    checked, public, failures = 0, [], []
    for service, method, path, roles in operations(services):
        base = services[service]
        if roles == ["public"]:
            resp = call(base, method, path, None)
            public.append(f"{method} {path}")
            if resp.status_code >= 500:
                failures.append(f"public {method} {path} -> {resp.status_code}")
            continue
        anonymous = call(base, method, path, None)
        if anonymous.status_code != 401 or anonymous.json().get("code") != "missing_token":
            failures.append(f"no token {method} {path} -> {anonymous.status_code}")
        for role in ROLES:
            if role in roles:
                continue
            resp = call(base, method, path, tokens[role])
            checked += 1
            if resp.status_code != 403 or resp.json().get("code") != "forbidden_role":
                failures.append(f"{role} {method} {path} -> {resp.status_code} {resp.text[:120]}")
    assert not failures, "\n".join(failures)
    print(f"\nrole matrix: {checked} refusals checked over {len(operations(services))} operations; "
          f"public: {sorted(public)}")


def _claims(settings) -> dict:  # noqa: ANN001
    now = int(time.time())
    return {"sub": "s", "role": "staff", "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now,
            "nbf": now, "exp": now + 60}


@pytest.mark.parametrize("case", ["expired", "audience", "issuer", "hs512", "none", "kid", "no-kid", "no-exp",
                                  "not-yet", "tampered", "other-secret"])
def test_a_running_service_refuses_bad_tokens(services, settings, case):
    c, key, headers, alg = _claims(settings), settings.jwt_secret, {"kid": settings.jwt_key_id}, "HS256"
    if case == "expired":
        c["exp"] = int(time.time()) - 5
    elif case == "audience":
        c["aud"] = "another-api"
    elif case == "issuer":
        c["iss"] = "someone-else"
    elif case == "hs512":
        alg = "HS512"
    elif case == "none":
        alg, key = "none", None
    elif case == "kid":
        headers = {"kid": "retired"}
    elif case == "no-kid":
        headers = {}
    elif case == "no-exp":
        del c["exp"]
    elif case == "not-yet":
        c["nbf"] = int(time.time()) + 600
    elif case == "other-secret":
        key = "another-secret-" + "z" * 40
    token = jwt.encode(c, key, algorithm=alg, headers=headers)
    if case == "tampered":
        head, body, sig = jwt.encode(c, key, algorithm=alg, headers=headers).split(".")
        forged = jwt.encode({**c, "role": "staff", "sub": "root"}, "x" * 40, algorithm="HS256").split(".")[1]
        token = ".".join((head, forged, sig))
    resp = Client(services["review"], token).get("/api/review/search")
    assert resp.status_code == 401, resp.text
    assert resp.json()["code"] == ("token_expired" if case == "expired" else "invalid_token")
