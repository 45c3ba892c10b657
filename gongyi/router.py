"""One base URL for every service in the embedded mode, as the Kubernetes ingress gives in a cluster.

nameko runs one web server per container; two containers cannot share a port, so each service
listens on its own port and this small proxy routes /api/<service>/ to it.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterable
from typing import Any

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
}
CHUNK = 64 * 1024
PAGE_MOUNTS = {"console"}


def make_router(backends: dict[str, tuple[str, int]]) -> Callable:
    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        parts = path.split("/")
        service = parts[2] if len(parts) > 2 and parts[1] == "api" else None
        if service is None and len(parts) > 1 and parts[1] in PAGE_MOUNTS:
            service = parts[1]  # /console/...: a service that serves pages at its own top-level path
        if service not in backends:
            body = (
                (
                    '{"code":"route_not_found","message_zh":"请求的地址不存在","message_en":"No service at '
                    f'{path}","details":{{"services":{sorted(backends)!r}}}}}'
                )
                .replace("'", '"')
                .encode()
            )
            start_response(
                "404 Not Found",
                [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        host, port = backends[service]
        query = environ.get("QUERY_STRING")
        target = path + (f"?{query}" if query else "")
        headers = {
            k[5:].replace("_", "-").title(): v
            for k, v in environ.items()
            if k.startswith("HTTP_") and k[5:].replace("_", "-").lower() not in HOP_BY_HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        conn = http.client.HTTPConnection(host, port, timeout=300)
        conn.putrequest(environ["REQUEST_METHOD"], target, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        remaining, stream = length, environ["wsgi.input"]
        while remaining > 0:  # stream the body: uploads can be large
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                break
            conn.send(chunk)
            remaining -= len(chunk)
        resp = conn.getresponse()
        out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        start_response(f"{resp.status} {resp.reason}", out_headers)

        def body() -> Iterable[bytes]:
            try:
                while True:
                    chunk = resp.read(CHUNK)
                    if not chunk:
                        break
                    yield chunk
            finally:
                conn.close()

        return body()

    return app
