"""Prometheus metrics every service exports at /api/<service>/metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_LATENCY = Histogram(
    "gongyi_http_request_duration_seconds",
    "HTTP entrypoint latency",
    ["service", "route", "method", "status"],
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "gongyi_events_published_total", "Events confirmed by the broker", ["service", "type"], registry=REGISTRY
)
EVENTS_CONSUMED = Counter(
    "gongyi_events_consumed_total", "Events handled successfully", ["service", "type"], registry=REGISTRY
)
EVENTS_FAILED = Counter(
    "gongyi_events_failed_total", "Event handler failures (each attempt)", ["service", "type"], registry=REGISTRY
)
EVENTS_DEAD_LETTERED = Counter(
    "gongyi_events_dead_lettered_total",
    "Events sent to the dead-letter queue",
    ["service", "type"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge("gongyi_outbox_backlog", "Unsent outbox events", ["service"], registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge(
    "gongyi_outbox_oldest_age_seconds", "Age of the oldest unsent outbox event", ["service"], registry=REGISTRY
)
READY = Gauge(
    "gongyi_ready", "1 when a dependency answered the readiness check", ["service", "dependency"], registry=REGISTRY
)


def render() -> bytes:
    return generate_latest(REGISTRY)
