"""One base URL for every service in the embedded mode, as the Kubernetes ingress gives in a cluster.

nameko runs one web server per container; two containers cannot share a port, so each service
listens on its own port and this small reverse proxy routes /api/<service>/ to it. It behaves as
the ingress does (docs/front-door.md):

- the raw request target is forwarded as received (``%3F`` stays ``%3F``); bytes that may not
  appear in a request line (non-ASCII, control characters) are percent-encoded, never decoded;
- bodies stream both ways, ``Transfer-Encoding: chunked`` included, with a per-service byte limit
  enforced before anything is buffered (413, upstream never sees the excess);
- when the client goes away mid-body the upstream connection is closed at once, so the service
  sees the body break off, stops its worker and removes its spool file;
- an early answer from the service (a 413 before the body is read) is passed on at once;
- ``X-Forwarded-For``/``Forwarded`` are set from the peer address; a client's own values are
  replaced unless the peer is a trusted proxy (``GONGYI_TRUSTED_PROXIES``, loopback by default),
  whose chain is extended.

Stdlib ``http.client`` on eventlet's green sockets, not urllib3: see docs/dependencies.md.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

import eventlet
import eventlet.queue
import eventlet.wsgi

from gongyi.http.forwarded import trusted_networks

log = logging.getLogger(__name__)

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    # set by the router itself (the edge): a client's own values are dropped
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "forwarded",
    "x-real-ip",
}
CHUNK = 64 * 1024
MiB = 1 << 20
# a body over this for a service is refused before a byte reaches it; the services enforce their
# own, finer limits (per route, per kind of file) too
DEFAULT_BODY_LIMITS = {"media": 1024 * MiB + MiB, "intake": 21 * MiB, "review": 2 * MiB, "publish": 2 * MiB,
                       "console": 64 * MiB}  # the console reads an upload whole before passing it on
# what may stay as is in a request target: RFC 3986 unreserved, reserved and '%' (escapes are
# forwarded untouched, so the service decodes them once)
_SAFE_TARGET = "/:@!$&'()*+,;=-._~%?"
PAGE_MOUNTS = {"console"}


class JsonErrorProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP protocol with a JSON body (not an HTML page echoing the request line) for the
    requests it refuses itself before any app runs: a malformed request line, a header too long."""

    error_content_type = "application/json; charset=utf-8"
    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        # not stderr, and never the whole (attacker-sized) request line
        log.info("refused a malformed request from %s: %s", self.client_address[0], (format % args)[:200])

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # http.server's line for a request it refused itself (eventlet logs the others)
        log.info("refused a malformed request from %s with %s", self.client_address[0], code)

    error_message_format = (
        '{"code": "bad_request", "message_zh": "请求格式无效", "message_en": "Malformed HTTP request", '
        '"details": {}, "status": %(code)d}'
    )


class ClientGone(Exception):
    """The client stopped sending the body it announced."""


class BodyTooLarge(Exception):
    pass


def raw_target(environ: Mapping[str, Any]) -> str:
    """The request target as the client sent it, made safe for a request line without decoding."""
    raw = environ.get("RAW_PATH_INFO")
    if raw is None:  # another WSGI server: rebuild from the decoded path (best effort)
        raw = quote(environ.get("PATH_INFO", "").encode("latin-1", "replace"), safe="/")
    path = quote(raw.encode("latin-1", "replace"), safe=_SAFE_TARGET.replace("?", ""))
    query = environ.get("QUERY_STRING") or ""
    if query:
        path += "?" + quote(query.encode("latin-1", "replace"), safe=_SAFE_TARGET)
    return path


def problem(start_response: Callable, status: int, code: str, zh: str, en: str, request_id: str,
            details: dict | None = None, extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    """The router's own answers, in the shape of every service's errors (gongyi.errors)."""
    body = json.dumps(
        {"code": code, "message_zh": zh, "message_en": en, "details": details or {}, "status": status,
         "request_id": request_id},
        ensure_ascii=False,
    ).encode()
    start_response(
        f"{status} {http.client.responses.get(status, '')}",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))),
         ("X-Correlation-Id", request_id), *(extra or [])],
    )
    return [body]


def _forwarded_headers(environ: Mapping[str, Any], trusted: str) -> dict[str, str]:
    """The client's address for the service. A peer that is itself a trusted proxy (a local nginx)
    has its chain kept and extended; anyone else's forwarding headers are replaced, so a client
    cannot name its own address."""
    peer = environ.get("REMOTE_ADDR") or "unknown"
    node = f'"[{peer}]"' if ":" in peer else peer
    host = environ.get("HTTP_HOST", "")
    proto = environ.get("wsgi.url_scheme", "http")
    xff, forwarded = peer, f"for={node};proto={proto}" + (f';host="{host}"' if host else "")
    if _is_trusted(peer, trusted):
        if environ.get("HTTP_X_FORWARDED_FOR"):
            xff = f"{environ['HTTP_X_FORWARDED_FOR']}, {peer}"
        if environ.get("HTTP_FORWARDED"):
            forwarded = f"{environ['HTTP_FORWARDED']}, {forwarded}"
    return {"X-Forwarded-For": xff, "X-Forwarded-Proto": proto, "X-Forwarded-Host": host, "Forwarded": forwarded}


def _is_trusted(peer: str, trusted: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in trusted_networks(trusted))


def _body_chunks(environ: Mapping[str, Any], length: int | None, limit: int) -> Iterable[bytes]:
    """The request body in chunks: ``length`` bytes, or until the chunked body ends."""
    stream = environ["wsgi.input"]
    remaining = length
    seen = 0
    while remaining is None or remaining > 0:
        try:
            chunk = stream.read(CHUNK if remaining is None else min(CHUNK, remaining))
        except (OSError, ValueError) as exc:  # eventlet: a broken chunked body or a reset socket
            raise ClientGone(str(exc)) from exc
        if not chunk:
            if remaining is not None:
                raise ClientGone(f"{remaining} bytes missing")
            return
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def _stop_draining(environ: Mapping[str, Any]) -> None:
    """After an early answer the rest of the client's body is not wanted: eventlet would read it all
    (gigabytes) to keep the connection; mark it read so it does not, and close the connection."""
    stream = environ["wsgi.input"]
    for attr, value in (("chunked_input", False), ("content_length", getattr(stream, "position", 0))):
        if hasattr(stream, attr):
            setattr(stream, attr, value)


def _send_body(conn: http.client.HTTPConnection, environ: Mapping[str, Any], length: int | None, limit: int,
               chunked: bool) -> BaseException | None:
    """Send the body; the failure is returned, not raised (eventlet would print a raised one's
    traceback to stderr for every client that goes away)."""
    try:
        for chunk in _body_chunks(environ, length, limit):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            conn.send(b"0\r\n\r\n")
    except (ClientGone, BodyTooLarge, OSError, http.client.HTTPException) as exc:
        return exc
    return None


def _upstream_failed(start_response: Callable, conn: http.client.HTTPConnection, environ: Mapping[str, Any],
                     service: str, request_id: str, exc: BaseException) -> list[bytes]:
    conn.close()
    log.warning("upstream %s failed for %s: %s", service, request_id, exc)
    _stop_draining(environ)
    return problem(start_response, 502, "upstream_unavailable", "服务暂不可用，请稍后重试",
                   f"The {service} service did not answer", request_id, {"service": service},
                   [("Retry-After", "2")])


def make_router(
    backends: dict[str, tuple[str, int]],
    body_limits: Mapping[str, int] | None = None,
    timeout: float = 300.0,
    trusted_proxies: str = "127.0.0.0/8,::1/128",
) -> Callable:
    limits = {**DEFAULT_BODY_LIMITS, **(body_limits or {})}

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        request_id = environ.get("HTTP_X_CORRELATION_ID") or str(uuid.uuid4())
        request_id = request_id if request_id.isascii() and request_id.isprintable() else str(uuid.uuid4())
        path = environ.get("PATH_INFO", "")
        parts = path.split("/")
        service = parts[2] if len(parts) > 2 and parts[1] == "api" else None
        if service is None and len(parts) > 1 and parts[1] in PAGE_MOUNTS:
            service = parts[1]  # /console/...: a service that serves pages at its own top-level path
        if service not in backends:
            return problem(start_response, 404, "route_not_found", "请求的地址不存在", "No service at this path",
                           request_id, {"services": sorted(backends)})
        limit = limits.get(service, 2 * MiB)
        chunked = environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"
        try:
            length = None if chunked else int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length is not None and length < 0:
            return problem(start_response, 400, "bad_content_length", "请求头 Content-Length 无效",
                           "Invalid Content-Length", request_id)
        too_large = (413, "body_too_large", "请求内容过大", "The request body is too large", request_id,
                     {"limit_bytes": limit})
        if length is not None and length > limit:
            _stop_draining(environ)
            return problem(start_response, *too_large, [("Connection", "close")])

        headers = {
            k[5:].replace("_", "-").title(): v
            for k, v in environ.items()
            if k.startswith("HTTP_") and k[5:].replace("_", "-").lower() not in HOP_BY_HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        headers.update(_forwarded_headers(environ, trusted_proxies))
        headers["X-Correlation-Id"] = request_id
        host, port = backends[service]
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.putrequest(environ["REQUEST_METHOD"], raw_target(environ), skip_host=False,
                            skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            else:
                conn.putheader("Content-Length", str(length))
            conn.endheaders()
        except (OSError, http.client.HTTPException) as exc:
            return _upstream_failed(start_response, conn, environ, service, request_id, exc)
        # the body goes up while the answer is awaited: a service may answer (413) before it has
        # read the body, and that answer must not wait for gigabytes the client is still sending
        sender = eventlet.spawn(_send_body, conn, environ, length, limit, chunked)
        receiver = eventlet.spawn(conn.getresponse)
        first: eventlet.queue.Queue = eventlet.queue.Queue()
        sender.link(lambda _: first.put("sent"))
        receiver.link(lambda _: first.put("answered"))
        early = False
        try:
            if first.get() == "sent":
                failed = sender.wait()
                if isinstance(failed, ClientGone | BodyTooLarge):
                    raise failed
                early = failed is not None  # the service stopped reading: its answer may be on the way
            else:
                early = not sender.dead
            resp = receiver.wait()
        except ClientGone as exc:
            # close the upstream socket now: the service sees the body break off and cleans up
            log.info("client went away mid-body on %s %s: %s", environ.get("REQUEST_METHOD"), path[:200], exc)
            receiver.kill()
            conn.close()
            _stop_draining(environ)
            return problem(start_response, 400, "body_incomplete", "请求内容不完整", "The request body broke off",
                           request_id, extra=[("Connection", "close")])
        except BodyTooLarge:
            receiver.kill()
            conn.close()
            _stop_draining(environ)
            return problem(start_response, *too_large, [("Connection", "close")])
        except (OSError, http.client.HTTPException) as exc:
            sender.kill()
            return _upstream_failed(start_response, conn, environ, service, request_id, exc)
        finally:
            if early:
                sender.kill()
        out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        if resp.getheader("Content-Length") is not None and resp.getheader("Transfer-Encoding") is None:
            out_headers.append(("Content-Length", resp.getheader("Content-Length")))
        if early:
            _stop_draining(environ)
            out_headers.append(("Connection", "close"))
        start_response(f"{resp.status} {resp.reason}", out_headers)

        def body() -> Iterable[bytes]:
            # a client that goes away makes eventlet close this generator: the finally closes upstream
            try:
                while True:
                    chunk = resp.read1(CHUNK) if hasattr(resp, "read1") else resp.read(CHUNK)
                    if not chunk:
                        break
                    yield chunk
            finally:
                conn.close()

        return body()

    return app
