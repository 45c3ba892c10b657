"""The public objection endpoint's rate limiter, one per service container.

In memory, per process: behind several replicas each keeps its own buckets, so the effective
limit is per replica (the reverse proxy should add a global limit). A bucket is per client
address and notice; the address is the real client's (``request.client_address``: the forwarded
address when the peer is one of ``GONGYI_TRUSTED_PROXIES``, see gongyi/http/forwarded.py).
``GONGYI_PUBLISH_OBJECTION_RATE`` is ``<requests>/<seconds>``, default ``5/3600``.
"""

from __future__ import annotations

from nameko.extensions import DependencyProvider

from services.publish.domain.rate_limit import RateLimiter


def _rate(raw: str) -> tuple[int, float]:
    count, _, seconds = raw.partition("/")
    return int(count), float(seconds or 3600)


class ObjectionRateLimit(DependencyProvider):
    def setup(self) -> None:
        capacity, per_seconds = _rate(self.container.config["GONGYI"].publish_objection_rate)
        self.limiter = RateLimiter(capacity=capacity, per_seconds=per_seconds)

    def get_dependency(self, worker_ctx) -> RateLimiter:  # noqa: ANN001
        return self.limiter
