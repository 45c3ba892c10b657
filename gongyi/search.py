"""The Elasticsearch client every search-owning service uses.

Pinned to the 8.x client (supports Elasticsearch 8.x servers; docs/dependencies.md). The client
sends ``application/vnd.elasticsearch+json; compatible-with=8`` media types; osmem-server (used
here in tests and the embedded mode) answers 406 to them, so the transport node rewrites them to
plain JSON. Real Elasticsearch 8 accepts both, so this is safe in production.
"""

from __future__ import annotations

from typing import Any

from elastic_transport import Urllib3HttpNode
from elasticsearch import Elasticsearch

_COMPAT = "compatible-with"


class PlainJsonNode(Urllib3HttpNode):
    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # noqa: ANN001, ANN201
        if headers:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                value = headers.get(name)
                if value and _COMPAT in value:
                    headers[name] = "application/x-ndjson" if "x-ndjson" in value else "application/json"
        return super().perform_request(method, target, body=body, headers=headers, request_timeout=request_timeout)


def make_search_client(url: str, **kwargs: Any) -> Elasticsearch:
    kwargs.setdefault("request_timeout", 10)
    kwargs.setdefault("max_retries", 1)
    kwargs.setdefault("retry_on_timeout", False)
    return Elasticsearch(url, node_class=PlainJsonNode, **kwargs)
