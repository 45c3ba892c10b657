"""The real client address: forwarding headers believed only from trusted proxies."""

from __future__ import annotations

import pytest

from gongyi.http.forwarded import client_address

LOOPBACK = "127.0.0.0/8,::1/128"


@pytest.mark.parametrize("peer,headers,trusted,expected", [
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, LOOPBACK, "203.0.113.9"),
    ("127.0.0.1", {"X-Forwarded-For": "1.2.3.4, 203.0.113.9"}, LOOPBACK, "203.0.113.9"),  # 1.2.3.4 forged
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9, 10.0.0.5"}, LOOPBACK + ",10.0.0.0/8", "203.0.113.9"),
    ("198.51.100.7", {"X-Forwarded-For": "203.0.113.9"}, LOOPBACK, "198.51.100.7"),  # untrusted peer
    ("127.0.0.1", {}, LOOPBACK, "127.0.0.1"),
    ("127.0.0.1", {"Forwarded": 'for="[2001:db8::1]:4711";proto=https'}, LOOPBACK, "2001:db8::1"),
    ("127.0.0.1", {"Forwarded": "for=192.0.2.60:80;proto=http"}, LOOPBACK, "192.0.2.60"),
    ("127.0.0.1", {"X-Forwarded-For": "garbage"}, LOOPBACK, "127.0.0.1"),
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, "", "127.0.0.1"),
    (None, {}, LOOPBACK, "unknown"),
])
def test_client_address(peer, headers, trusted, expected):
    assert client_address(peer, headers, trusted) == expected
