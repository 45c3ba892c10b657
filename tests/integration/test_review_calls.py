"""Helpers the review HTTP tests share (no tests here).

Every review test module loads its own call (a fresh id), so rankings and assignments of one module
never see another's projects.
"""

from __future__ import annotations

import uuid
from typing import Any

import jwt
from platform_support import Client, open_call_document, sample_form, tokens, wait_until

from gongyi.http.auth import issue_token


def new_call(settings, urls: dict[str, str], review: dict | None = None, quotas: dict | None = None) -> str:
    """Load a fresh call through intake's HTTP API and wait until review knows its rules."""
    doc = open_call_document()
    doc["id"] = f"rv-{uuid.uuid4().hex[:10]}"
    doc["review"].update(review or {})
    doc["quotas"].update(quotas or {})
    staff = Client(urls["intake"], tokens(settings)["staff"])
    r = staff.post("/api/intake/calls", json={"document": doc, "note": "review test round"})
    assert r.status_code == 200, r.text
    review_staff = Client(urls["review"], tokens(settings)["staff"])
    wait_until(lambda: review_staff.get(f"/api/review/calls/{doc['id']}/rules").status_code == 200, timeout=20,
               message="the call's rules in review")
    return doc["id"]


def form(name: str, unit: str = "cac-beijing", credit_code: str = "53110000500000007T", **changes: Any) -> dict:
    f = sample_form(f"{name}{uuid.uuid4().hex[:4]}", unit=unit, credit_code=credit_code)
    applicant = changes.pop("applicant", {})
    f["applicant"].update(applicant)
    f.update(changes)
    return f


def forward(settings, urls: dict[str, str], call_id: str, forms: list[dict]) -> list[str]:
    """Create, submit, endorse and forward each form through intake; wait until review has them all."""
    ids = []
    by_unit: dict[str, list[str]] = {}
    for f in forms:
        tok = tokens(settings, unit=f["unit_code"])
        applicant, unit = Client(urls["intake"], tok["applicant"]), Client(urls["intake"], tok["unit"])
        r = applicant.post("/api/intake/applications", json={"call_id": call_id, "form": f})
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]
        assert applicant.post(f"/api/intake/applications/{app_id}/submit").status_code == 200
        assert unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意推荐"}).status_code == 200
        by_unit.setdefault(f["unit_code"], []).append(app_id)
        ids.append(app_id)
    for unit_code, app_ids in by_unit.items():
        unit = Client(urls["intake"], tokens(settings, unit=unit_code)["unit"])
        r = unit.post("/api/intake/batches", json={"application_ids": app_ids, "idempotency_key": uuid.uuid4().hex})
        assert r.status_code == 201, r.text
    staff = Client(urls["review"], tokens(settings)["staff"])
    wait_until(lambda: all(staff.get(f"/api/review/projects/{i}").status_code == 200 for i in ids), timeout=30,
               message="forwarded projects in review")
    return ids


def pass_screening(staff: Client, ids: list[str]) -> None:
    r = staff.post("/api/review/screening/decisions",
                   json={"decisions": [{"application_id": i, "decision": "pass", "reason": "符合要求"} for i in ids]})
    assert r.status_code == 200, r.text


def expert_client(settings, base: str, expert_id: str) -> Client:
    return Client(base, issue_token(settings, "expert", f"sub-{expert_id}", expert=expert_id))


def pii_staff_token(settings) -> str:
    """A staff token that carries `pii: true` (allowed to see personal data), signed like any other."""
    claims = jwt.decode(issue_token(settings, "staff", "staff-pii"), options={"verify_signature": False})
    claims["pii"] = True
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256", headers={"kid": settings.jwt_key_id})


def add_expert(staff: Client, expert_id: str, call_id: str, **profile: Any) -> dict:
    body = {"expert_id": expert_id, "name": f"专家{expert_id}", "organisation": "某大学", "call_ids": [call_id],
            **profile}
    r = staff.post("/api/review/experts", json=body)
    assert r.status_code == 201, r.text
    return r.json()
