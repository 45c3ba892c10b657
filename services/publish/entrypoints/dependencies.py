"""The public objection endpoint's rate limiter, one per service container.

In memory, per process: behind several replicas each keeps its own buckets, so the effective
limit is per replica (the reverse proxy should add a global limit). The client address is
``request.remote_addr``; behind a proxy, the proxy must pass the real address (e.g. werkzeug's
ProxyFix) or every client shares one bucket.
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
