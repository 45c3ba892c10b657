"""Token-bucket rate limiter for the public objection endpoint, per client key.

In-process and clock-injectable so the rule is testable; the entrypoint chooses the key
(e.g. client IP, or IP + contact) and may back it with shared storage later.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from gongyi.errors import TooManyRequests


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``capacity`` requests in a burst, refilled at ``per_seconds / capacity`` each."""

    def __init__(
        self,
        capacity: int = 5,
        per_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if capacity < 1 or per_seconds <= 0:
            raise ValueError("capacity must be >= 1 and per_seconds > 0")
        self.capacity = capacity
        self.rate = capacity / per_seconds  # tokens per second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._evict_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.capacity), bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        return bucket

    def _evict_full(self, now: float) -> None:
        # A bucket that has refilled completely holds no information; drop those first.
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.capacity:
                del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.pop(next(iter(self._buckets)))

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when none is left."""
        now = self.clock()
        bucket = self._bucket(key, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key`` has a token again (0 if it has one now)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0
        now = self.clock()
        tokens = min(float(self.capacity), bucket.tokens + max(0.0, now - bucket.updated) * self.rate)
        return 0 if tokens >= 1.0 else math.ceil((1.0 - tokens) / self.rate)

    def check(self, key: str) -> None:
        """Take a token or raise ``TooManyRequests`` (``rate_limited``) with ``retry_after``."""
        if not self.allow(key):
            wait = self.retry_after(key)
            raise TooManyRequests(
                "rate_limited",
                f"提交过于频繁，请在 {wait} 秒后重试",
                f"Too many submissions; retry in {wait} seconds",
                {"retry_after": wait},
            )
