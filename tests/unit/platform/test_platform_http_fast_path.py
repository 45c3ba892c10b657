"""What keeps a request cheap: Nagle off on served connections, and a token verified once per key set."""

from __future__ import annotations

import socket
import time

import eventlet
import jwt
import pytest

from gongyi.config import load_settings
from gongyi.errors import Unauthorized
from gongyi.http import auth
from gongyi.http.api import JsonHttpEntrypoint, NoDelayWebServer
from gongyi.http.auth import issue_token, verify_token

SECRET = "s" * 40


def test_served_connections_have_nagle_off():
    server = NoDelayWebServer()
    listener = eventlet.listen(("127.0.0.1", 0))
    body = b"x" * 40_000  # over eventlet's 16 KiB write buffer: headers and body leave in two sends

    def app(environ, start_response):  # noqa: ANN001, ANN202
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    server._serv = server.get_wsgi_server(listener, app)
    client = socket.create_connection(listener.getsockname())
    conn, address = listener.accept()
    probe = conn.dup()  # the same connection, still open after the server closes its handle
    try:
        assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # the kernel's default
        client.sendall(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")
        server.process_request(conn, address)
        assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        probe.close()  # the last handle: the client now sees the end of the answer
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(body)
    finally:
        probe.close()
        client.close()
        listener.close()
    # every route of every service is served by it
    assert isinstance(JsonHttpEntrypoint.server, NoDelayWebServer)


def test_a_verified_token_is_not_decoded_again(monkeypatch):
    s = load_settings({"GONGYI_JWT_SECRET": SECRET})
    token = issue_token(s, "staff", "s1")
    assert verify_token(s, token).sub == "s1"
    decoded = []
    real = jwt.decode
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **k: decoded.append(1) or real(*a, **k))
    p = verify_token(s, token)
    assert (p.sub, p.role, decoded) == ("s1", "staff", [])
    p.claims["role"] = "applicant"  # a caller's change does not reach the next request
    assert verify_token(s, token).claims["role"] == "staff"
    # other settings (another secret) decode again, and refuse
    with pytest.raises(Unauthorized):
        verify_token(load_settings({"GONGYI_JWT_SECRET": "o" * 40}), token)
    assert decoded == [1]  # decoded again (and refused), never served from the cache


def test_a_cached_token_still_expires():
    s = load_settings({"GONGYI_JWT_SECRET": SECRET})
    token = issue_token(s, "staff", "s2", ttl=1)
    verify_token(s, token)
    time.sleep(1.1)
    with pytest.raises(Unauthorized) as err:
        verify_token(s, token)
    assert err.value.code == "token_expired"


def test_a_removed_previous_key_is_not_served_from_the_cache():
    old = load_settings({"GONGYI_JWT_SECRET": SECRET, "GONGYI_JWT_KEY_ID": "k1"})
    token = issue_token(old, "staff", "s3")
    rotating = load_settings({"GONGYI_JWT_SECRET": "n" * 40, "GONGYI_JWT_KEY_ID": "k2",
                              "GONGYI_JWT_PREVIOUS": f"k1:{SECRET}"})
    assert verify_token(rotating, token).sub == "s3"
    new = load_settings({"GONGYI_JWT_SECRET": "n" * 40, "GONGYI_JWT_KEY_ID": "k2"})
    with pytest.raises(Unauthorized) as err:
        verify_token(new, token)
    assert err.value.code == "invalid_token"
