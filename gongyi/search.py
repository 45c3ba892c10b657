"""The Elasticsearch client every search-owning service uses.

Pinned to the 8.x client (supports Elasticsearch 8.x servers; docs/dependencies.md). The client
sends ``application/vnd.elasticsearch+json; compatible-with=8`` media types; osmem-server (used
here in tests and the embedded mode) answers 406 to them, so the transport node rewrites them to
plain JSON. Real Elasticsearch 8 accepts both, so this is safe in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from elastic_transport import Urllib3HttpNode
from elasticsearch import Elasticsearch, NotFoundError

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


def rebuild_behind_alias(
    client: Elasticsearch,
    alias: str,
    new_index: str,
    mappings: dict[str, Any],
    settings: dict[str, Any],
    docs: Iterable[dict[str, Any]],
    write: Callable[[list[dict[str, Any]], str], Any],
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Fill ``new_index`` from ``docs`` (refresh off while loading), then point ``alias`` at it in one
    atomic alias update and delete the old indices: searches never see a half-built index.
    Returns the indices the alias pointed at before."""
    client.indices.create(index=new_index, mappings=mappings, settings={**settings, "refresh_interval": "-1"})
    batch: list[dict[str, Any]] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= batch_size:
            write(batch, new_index)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        write(batch, new_index)
        if progress:
            progress(len(batch))
    client.indices.put_settings(index=new_index, settings={"refresh_interval": settings.get("refresh_interval", "1s")})
    client.indices.refresh(index=new_index)
    try:
        old = sorted(client.indices.get_alias(name=alias).keys())
    except NotFoundError:
        old = []
    actions: list[dict[str, Any]] = [{"add": {"index": new_index, "alias": alias, "is_write_index": True}}]
    actions += [{"remove": {"index": o, "alias": alias}} for o in old]
    client.indices.update_aliases(actions=actions)
    for o in old:
        client.indices.delete(index=o, ignore_unavailable=True)
    return old
