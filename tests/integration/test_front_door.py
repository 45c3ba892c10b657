"""The front door (gongyi/router.py) as an outsider probes it: one regression test per finding of
issue 18, every request sent through the router's base URL, and every refusal checked to change
no stored state. A property test sends arbitrary path bytes and bodies."""

from __future__ import annotations

import glob
import json
import os
import socket
import tempfile
import uuid

import pytest
import requests
from fixtures.media import hostile
from fixtures.media import service_support as ms
from front_door_support import StoredState, front_door, isolated, raw_request, read_response
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from platform_support import load_open_call, sample_form, tokens, wait_until

MiB = 1 << 20


@pytest.fixture(scope="module")
def settings(settings):
    """This module's own vhost, databases, index and buckets (front_door_support.isolated)."""
    with isolated(settings) as own:
        yield own


@pytest.fixture(scope="module")
def base(settings):
    load_open_call(settings)
    with ms.media_env(), front_door(settings) as url:
        yield url


@pytest.fixture(scope="module")
def state(settings):
    view = StoredState(settings)
    yield view
    view.close()


@pytest.fixture(scope="module")
def tok(settings):
    return tokens(settings)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _json_error(resp: requests.Response, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert "Traceback" not in resp.text
    if code is not None:
        assert body["code"] == code, body
    return body


# -- paths


@pytest.mark.parametrize("raw", [
    b"/api/intake/applications/\xe4\xb8\xad\xe6\x96\x87",  # raw UTF-8, not percent-encoded
    b"/api/intake/applications/\xff\xfe",  # not UTF-8 at all
    b"/api/review/projects/a\x01b",  # a control character
    b"/api/media/evidence/%00x",  # an encoded NUL
    b"/api/publish/%e4%b8%ad",
])
def test_odd_path_bytes_get_a_json_4xx_not_a_traceback(base, tok, raw):
    request = b"GET " + raw + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok["staff"].encode() + \
        b"\r\nConnection: close\r\n\r\n"
    status, headers, body = raw_request(base.address, request)
    assert 400 <= status < 500, body[:300]
    assert headers["content-type"].startswith("application/json") and b"Traceback" not in body
    assert {"code", "message_zh", "message_en"} <= set(json.loads(body))


def test_an_encoded_question_mark_stays_in_the_path(base):
    resp = requests.get(f"{base}/api/intake/nowhere%3Fx=1", timeout=10)
    body = _json_error(resp, 404, "route_not_found")
    # the service saw one path segment "nowhere?x=1", not a path "nowhere" and a query "x=1"
    assert "/api/intake/nowhere?x=1" in body["message_en"]


def _object(base: str, notice: str, client: str | None) -> requests.Response:
    headers = {"X-Forwarded-For": client} if client else {}
    return requests.post(f"{base}/api/publish/notices/{notice}/objections", headers=headers, timeout=10,
                         json={"application_id": "a", "name": "张三", "contact": "13800138000", "relation": "居民",
                               "reason": "材料与事实不符，活动照片系摆拍。"})


def test_objection_limits_are_per_real_client_and_per_notice(base):
    """5 an hour per client and notice (GONGYI_PUBLISH_OBJECTION_RATE). Through the router all
    clients arrive from 127.0.0.1; here a local proxy (trusted: loopback) names three of them."""
    notice = f"n-{uuid.uuid4().hex[:8]}"  # the limit is taken before the notice is looked up
    for _ in range(5):
        assert _object(base, notice, "203.0.113.1").status_code != 429
    limited = _object(base, notice, "203.0.113.1")
    assert _json_error(limited, 429, "rate_limited") and int(limited.headers["Retry-After"]) > 0
    assert _object(base, notice, "203.0.113.2").status_code != 429  # another client
    assert _object(base, f"{notice}-other", "203.0.113.1").status_code != 429  # another notice


def test_a_client_cannot_choose_its_address_when_the_peer_is_not_a_trusted_proxy(settings):
    with front_door(settings, trusted_proxies="") as strict:
        notice = f"n-{uuid.uuid4().hex[:8]}"
        for i in range(5):
            assert _object(strict, notice, f"198.51.100.{i}").status_code != 429
        # a sixth forged address changes nothing: the router replaced the header with the peer
        _json_error(_object(strict, notice, "198.51.100.99"), 429, "rate_limited")


# -- bodies


def test_a_chunked_upload_arrives_whole(base, tok, settings):
    sub, token = ms.applicant(settings)
    data = hostile.valid_png(seed=11)

    def chunks():
        for i in range(0, len(data), 10_000):
            yield data[i:i + 10_000]

    resp = ms.upload(base, token, chunks(), "image", content_type="image/png")
    assert resp.status_code == 201, resp.text
    assert resp.json()["size"] == len(data)


def _spools() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "gongyi-media-*")))


def test_an_aborted_upload_leaves_no_spool_and_no_row(base, settings, state):
    sub, token = ms.applicant(settings)
    before_spools, before = _spools(), state.snapshot()
    db = ms.MediaDb(settings)
    try:
        sock = socket.create_connection(base.address, timeout=30)
        sock.sendall(
            b"POST /api/media/evidence?kind=document HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + token.encode() + b"\r\nContent-Type: application/pdf\r\nContent-Length: "
            + str(300 * MiB).encode() + b"\r\n\r\n"
        )
        sock.sendall(b"%PDF-1.4\n" + b"0" * (4 * MiB))
        wait_until(lambda: _spools() - before_spools, timeout=20, message="the upload to reach a spool file")
        sock.close()  # the client goes away mid-body
        wait_until(lambda: not (_spools() - before_spools), timeout=20, message="the spool file to be removed")
        assert db.evidence_of(sub) == []
        assert _changed(before, state.snapshot(), "media.") == {}
    finally:
        db.close()
    # and the service is not left with a stuck worker: it answers at once
    assert requests.get(f"{base}/api/media/healthz", timeout=5).status_code == 200


def test_an_oversize_image_gets_413_before_its_body_is_sent(base, settings, state):
    sub, token = ms.applicant(settings)
    before = state.snapshot()
    with socket.create_connection(base.address, timeout=30) as sock:
        sock.sendall(
            b"POST /api/media/evidence?kind=image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + token.encode() + b"\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(30 * MiB).encode()
            + b"\r\n\r\n" + hostile.valid_jpeg()[:65536]
        )
        # nothing more is sent: the answer must come without the other 30 MiB
        status, _, body = read_response(sock)
    assert status == 413 and json.loads(body)["code"] == "too_large"
    assert _changed(before, state.snapshot(), "media.") == {}


def test_a_body_over_the_routers_limit_never_reaches_the_service(settings):
    with front_door(settings, body_limits={"publish": 1000}) as small:
        resp = requests.post(f"{small}/api/publish/objections", data=b"x" * 5000, timeout=10,
                             headers={"Content-Type": "application/json"})
        assert _json_error(resp, 413, "body_too_large")["details"]["limit_bytes"] == 1000

        def endless():
            for _ in range(100):
                yield b"y" * 1000

        resp = requests.post(f"{small}/api/publish/objections", data=endless(), timeout=10,
                             headers={"Content-Type": "application/json"})
        _json_error(resp, 413, "body_too_large")


# -- input limits


def _applications(settings) -> int:
    return StoredState(settings).snapshot()["intake.applications"]


def _changed(before: dict[str, int], after: dict[str, int], only: str = "") -> dict[str, tuple[int, int]]:
    # event bookkeeping (outboxes, inboxes, the relay's marks) and other services' projections move
    # on their own as earlier tests' events flow; a refusal is judged on its service's own tables
    skip = ("outbox", "inbox", "processed", "consumed", "dead_letter", "relay")
    return {k: (before.get(k), v) for k, v in after.items()
            if k.startswith(only) and before.get(k) != v and not any(s in k for s in skip)}


def _new_application(base: str, tok: dict, form: dict | None = None) -> requests.Response:
    return requests.post(f"{base}/api/intake/applications", headers=_auth(tok["applicant"]), timeout=30,
                         json={"call_id": "2024-national", "form": form or sample_form()})


def test_a_form_with_60000_unknown_keys_gets_a_small_answer(base, tok, state):
    before = state.snapshot()
    form = sample_form()
    form.update({f"k{i}": "v" for i in range(60_000)})
    resp = _new_application(base, tok, form)
    assert 400 <= resp.status_code < 500 and len(resp.content) < 16 * 1024, (resp.status_code, len(resp.content))
    # under the key limit, unknown keys are named, at most 20
    form = sample_form()
    form.update({f"k{i}": "v" for i in range(500)})
    resp = _new_application(base, tok, form)
    body = _json_error(resp, 422)
    assert len(resp.content) < 16 * 1024
    issues = body["details"]["issues"]
    assert len([i for i in issues if i["code"] != "more_issues"]) <= 20
    assert issues[-1]["code"] == "more_issues" and issues[-1]["details"]["count"] == 480
    assert _changed(before, state.snapshot(), "intake.") == {}


@pytest.mark.parametrize("body,status,code", [
    (b"[" * 100_000 + b"]" * 100_000, 400, "json_too_deep"),
    (b'{"call_id": "2024-national", "form": {"project_name": "\\ud800"}}', 422, "invalid_input"),
    (b'{"call_id": "2024-national", "form": {"project_name": "a\\u0000b"}}', 422, "invalid_input"),
    ('{"call_id": "2024-national", "form": {"applicant": {"name": "%s"}}}' % ("名" * 300_000), 422, None),
    ('{"call_id": "2024-national", "form": {"applicant": {"address": "%s"}}}' % ("址" * 1000), 422, None),
])
def test_hostile_json_bodies_are_refused_and_store_nothing(base, tok, state, body, status, code):
    before = state.snapshot()
    data = body if isinstance(body, bytes) else body.encode()
    resp = requests.post(f"{base}/api/intake/applications", data=data, timeout=30,
                         headers={**_auth(tok["applicant"]), "Content-Type": "application/json"})
    _json_error(resp, status, code)
    assert _changed(before, state.snapshot(), "intake.") == {}


def test_an_integer_beyond_any_store_is_a_400(base, tok):
    resp = requests.get(f"{base}/api/intake/applications", params={"offset": "9223372036854775808"},
                        headers=_auth(tok["staff"]), timeout=10)
    _json_error(resp, 400, "integer_out_of_range")


@pytest.mark.parametrize("cursor", [
    "not base64 at all!",
    "W3siYSI6MX1d",  # [{"a":1}]
    "WyJ4IiwieSIsInoiLCJ3IiwidiJd",  # five strings
    "WzEsMl0=",  # [1, 2]: the id must be a string
])
def test_a_crafted_search_cursor_is_a_400(base, tok, cursor):
    resp = requests.get(f"{base}/api/review/search", params={"cursor": cursor},
                        headers=_auth(tok["staff"]), timeout=10)
    _json_error(resp, 400, "invalid_cursor")


def test_an_unexpected_error_is_a_short_problem_with_the_request_id(base, tok):
    # 500s cannot be caused from outside any more; the policy itself is unit-tested
    # (tests/unit/platform/test_error_policy.py). Here: every refusal carries status and request id.
    resp = requests.get(f"{base}/api/intake/applications/{uuid.uuid4()}", headers=_auth(tok["staff"]),
                        timeout=10)
    body = _json_error(resp, 404)
    assert body["status"] == 404 and body["request_id"] == resp.headers["X-Correlation-Id"]


# -- property: arbitrary path bytes and bodies


_PATH_BYTES = st.binary(max_size=60).map(lambda b: bytes(c for c in b if c not in b" \r\n#"))


@given(
    service=st.sampled_from(["intake", "media", "review", "publish", "nowhere"]),
    path=_PATH_BYTES,
    method=st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE"]),
    body=st.binary(max_size=2000),
    chunked=st.booleans(),
)
@hsettings(max_examples=60, derandomize=True, deadline=None, database=None,
           suppress_health_check=list(HealthCheck))
def test_property_any_path_and_body_gets_a_json_non_5xx_answer(base, tok, service, path, method, body, chunked):
    head = b"%s /api/%s/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\n" % (
        method, service.encode(), path, tok["staff"].encode())
    if chunked:
        payload = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        head += b"Transfer-Encoding: chunked\r\n"
    else:
        payload = body
        head += b"Content-Length: %d\r\n" % len(body)
    head += b"Content-Type: application/json\r\n\r\n"
    status, headers, answer = raw_request(base.address, head + payload)
    assert status < 500, (status, answer[:500])
    assert b"Traceback" not in answer
    if status >= 400:
        assert headers.get("content-type", "").startswith("application/json"), (status, answer[:300])
        json.loads(answer)


# -- personal data: one policy (gongyi/pii.py), per endpoint, through the router


def test_contact_details_follow_one_policy_on_every_endpoint(base, tok, settings):
    from gongyi.http.auth import issue_token

    pii_staff = issue_token(settings, "staff", "staff-pii", pii=True)
    mobile, email = "13987654321", f"pii-{uuid.uuid4().hex[:6]}@example.org"
    form = sample_form()
    form["contact"].update({"mobile": mobile, "email": email})

    def shows(resp: requests.Response) -> bool:
        assert resp.status_code in (200, 201), resp.text[:300]
        return mobile in resp.text or email in resp.text

    created = _new_application(base, tok, form)
    app_id = created.json()["id"]
    assert shows(created)  # the applicant's own
    url = f"{base}/api/intake/applications/{app_id}"
    assert shows(requests.put(f"{url}/form", json={"form": form}, headers=_auth(tok["applicant"]), timeout=10))
    assert shows(requests.get(url, headers=_auth(tok["applicant"]), timeout=10))
    assert shows(requests.post(f"{url}/submit", headers=_auth(tok["applicant"]), timeout=30))
    assert shows(requests.get(url, headers=_auth(tok["unit"]), timeout=10))  # the vetting unit
    assert shows(requests.get(url, headers=_auth(pii_staff), timeout=10))
    hidden = requests.get(url, headers=_auth(tok["staff"]), timeout=10)  # staff without the claim
    assert not shows(hidden) and "contact" not in hidden.json()["form"]
    assert not shows(requests.get(f"{base}/api/intake/applications", headers=_auth(tok["staff"]), timeout=10))

    # forwarded to review: its project view, search and export follow the same policy
    assert requests.post(f"{url}/endorse", json={"opinion": "同意"}, headers=_auth(tok["unit"]),
                         timeout=30).status_code == 200
    batch = requests.post(f"{base}/api/intake/batches", headers=_auth(tok["unit"]), timeout=30,
                          json={"application_ids": [app_id], "idempotency_key": uuid.uuid4().hex})
    assert batch.status_code == 201, batch.text
    project = f"{base}/api/review/projects/{app_id}"
    wait_until(lambda: requests.get(project, headers=_auth(tok["staff"]), timeout=10).status_code == 200,
               timeout=60, message="the project in review")
    assert not shows(requests.get(project, headers=_auth(tok["staff"]), timeout=10))
    assert shows(requests.get(project, headers=_auth(pii_staff), timeout=10))
    q = {"q": form["project_name"]}
    wait_until(lambda: app_id in requests.get(f"{base}/api/review/search", params=q, timeout=10,
                                              headers=_auth(tok["staff"])).text, timeout=60, message="indexed")
    assert not shows(requests.get(f"{base}/api/review/search", params=q, headers=_auth(pii_staff), timeout=10))
    q["include_contacts"] = "true"
    assert not shows(requests.get(f"{base}/api/review/search/export", params=q, headers=_auth(tok["staff"]),
                                  timeout=30))
    assert shows(requests.get(f"{base}/api/review/search/export", params=q, headers=_auth(pii_staff), timeout=30))


def _forward(base: str, tok: dict) -> str:
    """An application submitted, endorsed and forwarded, until review has it; its id."""
    app_id = _new_application(base, tok).json()["id"]
    url = f"{base}/api/intake/applications/{app_id}"
    assert requests.post(f"{url}/submit", headers=_auth(tok["applicant"]), timeout=30).status_code == 200
    assert requests.post(f"{url}/endorse", json={"opinion": "同意"}, headers=_auth(tok["unit"]),
                         timeout=30).status_code == 200
    assert requests.post(f"{base}/api/intake/batches", headers=_auth(tok["unit"]), timeout=30,
                         json={"application_ids": [app_id], "idempotency_key": uuid.uuid4().hex}).status_code == 201
    wait_until(lambda: requests.get(f"{base}/api/review/projects/{app_id}", headers=_auth(tok["staff"]),
                                    timeout=10).status_code == 200, timeout=60, message="the project in review")
    return app_id


def test_an_expert_declares_conflicts_only_on_projects_offered_to_them(base, tok, settings, state):
    from gongyi.http.auth import issue_token

    real = _forward(base, tok)
    before = state.snapshot()
    answers = []
    for expert in ("e-unregistered", "e1"):  # no profile at all; a registered id with no seat here
        token = issue_token(settings, "expert", f"sub-{expert}", expert=expert)
        for app_id in (real, f"no-such-{uuid.uuid4().hex[:6]}"):
            resp = requests.post(f"{base}/api/review/projects/{app_id}/conflict", json={"reason": "曾担任该机构顾问"},
                                 headers=_auth(token), timeout=10)
            body = _json_error(resp, 404, "project_not_found")
            answers.append((body["message_en"].replace(app_id, "<id>"), body["message_zh"]))
    # the real project and an unknown id answer alike: nothing to learn about which ids exist
    assert len(set(answers)) == 1, answers
    after = state.snapshot()
    for table in ("review.conflict_declarations", "review.assignments", "review.audit_log"):
        assert after[table] == before[table], table


# -- evidence PDFs, read with a real parser


@pytest.mark.parametrize("make,code", [
    (hostile.pdf_with_openaction_javascript, "pdf_javascript"),
    (hostile.pdf_with_names_javascript, "pdf_javascript"),
    (hostile.pdf_with_launch_action, "pdf_launch_action"),
    (hostile.pdf_with_embedded_file, "pdf_embedded_file"),
])
def test_active_pdfs_are_refused_with_their_reason_and_leave_nothing(base, settings, state, make, code):
    sub, token = ms.applicant(settings)
    before = state.snapshot()
    resp = ms.upload(base, token, make(), "document", content_type="application/pdf")
    body = _json_error(resp, 422, code)
    assert body["message_zh"] and body["message_en"]
    assert ms.MediaDb(settings).evidence_of(sub) == []
    assert {k: v for k, v in _changed(before, state.snapshot(), "media.").items()} == {}


def test_a_plain_pdf_is_still_accepted(base, settings):
    sub, token = ms.applicant(settings)
    resp = ms.upload(base, token, hostile._pdf_bytes(hostile._pdf_writer()), "document",  # noqa: SLF001
                     content_type="application/pdf")
    assert resp.status_code == 201, resp.text
