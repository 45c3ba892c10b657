"""Where each service's nameko class lives; the CLI, the embedded runner and the topology read it."""

from __future__ import annotations

import importlib

SERVICE_CLASSES = {
    "intake": "services.intake.entrypoints.service:IntakeService",
    "media": "services.media.entrypoints.service:MediaService",
    "review": "services.review.entrypoints.service:ReviewService",
    "publish": "services.publish.entrypoints.service:PublishService",
    "console": "services.console.entrypoints.service:ConsoleService",
}


def service_class(name: str) -> type:
    module, attr = SERVICE_CLASSES[name].split(":")
    return getattr(importlib.import_module(module), attr)


def service_classes() -> list[type]:
    return [service_class(n) for n in SERVICE_CLASSES]
