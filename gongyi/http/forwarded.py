"""The real client address behind the router or an ingress (docs/front-door.md).

A forwarding header is believed only when the peer is a trusted proxy (``GONGYI_TRUSTED_PROXIES``);
the chain is then read from the right, skipping trusted hops, so the first address no trusted proxy
vouches for is the client. A client cannot choose its address by sending the header itself: the
router replaces it, and a direct peer that is not trusted is its own address.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_networks(spec: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("["):  # Forwarded: for="[2001:db8::1]:4711"
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _chain(headers: Mapping[str, str]) -> list[str]:
    xff = headers.get("X-Forwarded-For")
    if xff:
        return [part for part in xff.split(",") if part.strip()]
    forwarded = headers.get("Forwarded")
    if forwarded:
        hops = []
        for element in forwarded.split(","):
            for pair in element.split(";"):
                key, _, value = pair.strip().partition("=")
                if key.lower() == "for":
                    hops.append(value)
        return hops
    return []


def client_address(peer: str | None, headers: Mapping[str, str], trusted: str) -> str:
    """The client's address as text (``unknown`` when nothing usable was given)."""
    networks = trusted_networks(trusted)
    current = _address(peer or "")
    if current is None:
        return "unknown"
    for hop in reversed(_chain(headers) if any(current in n for n in networks) else []):
        if not any(current in n for n in networks):
            break
        parsed = _address(hop)
        if parsed is None:
            break  # an unreadable hop: stop at the last address a trusted proxy gave
        current = parsed
    return str(current)
