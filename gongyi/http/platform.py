"""The routes every service serves: liveness, readiness, its OpenAPI document and its metrics."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.wrappers import Response

from gongyi.http.api import PUBLIC, Api
from gongyi.metrics import READY, render


def platform_routes(api: Api) -> type:
    """A mixin for the service class; the service supplies ``readiness_checks()``."""

    class PlatformRoutes:
        def readiness_checks(self) -> dict[str, Callable[[], None]]:  # pragma: no cover - overridden
            return {}

        @api.route("GET", "/healthz", summary="Liveness: the process answers / 存活检查", roles=PUBLIC)
        def healthz(self) -> dict:
            return {"status": "ok", "service": api.service}

        @api.route(
            "GET",
            "/readyz",
            summary="Readiness: every dependency the service owns answers / 就绪检查",
            roles=PUBLIC,
            errors=[(503, "not_ready", "a dependency did not answer")],
        )
        def readyz(self) -> tuple[int, dict]:
            results, ready = {}, True
            for name, check in self.readiness_checks().items():
                try:
                    check()
                    results[name] = "ok"
                    READY.labels(api.service, name).set(1)
                except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
                    results[name] = f"error: {type(exc).__name__}: {exc}"[:300]
                    READY.labels(api.service, name).set(0)
                    ready = False
            if not ready:
                return 503, {
                    "code": "not_ready",
                    "message_zh": "服务依赖暂不可用",
                    "message_en": "Not ready",
                    "details": {"checks": results},
                }
            return 200, {"status": "ready", "service": api.service, "checks": results}

        @api.route("GET", "/openapi.json", summary="This service's OpenAPI document / 接口文档", roles=PUBLIC)
        def openapi(self) -> dict:
            return api.openapi()

        @api.route(
            "GET", "/metrics", summary="Prometheus metrics / 监控指标", roles=PUBLIC, produces=(CONTENT_TYPE_LATEST,)
        )
        def metrics(self) -> Response:
            return Response(render(), content_type=CONTENT_TYPE_LATEST)

        route_not_found = api.not_found_route()

    return PlatformRoutes
