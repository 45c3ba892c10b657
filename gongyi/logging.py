"""JSON log lines, one per record, with the service and correlation id when known."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

# green-thread local once eventlet has patched threading: one value per nameko worker
context = threading.local()


def bind(service: str | None, correlation_id: str | None) -> None:
    context.service = service
    context.correlation_id = correlation_id


def unbind() -> None:
    context.service = None
    context.correlation_id = None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("service", "correlation_id", "event_type"):
            value = getattr(record, key, None) or getattr(context, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # fontTools logs every table it subsets for each PDF export; alembic every plugin at start
    for noisy in ("elastic_transport", "urllib3", "amqp", "kombu", "fontTools", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
