"""HTTP for every service: typed routes on nameko's @http, JSON errors, and the OpenAPI document.

A route declares its roles, body, query and response models and the error codes it can answer;
the same declaration checks the request, renders the response and writes the OpenAPI document,
so the document cannot drift from the code.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from eventlet.event import Event
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from gongyi.errors import (
    BadRequest,
    DomainError,
    InvalidInput,
    Issue,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from gongyi.http.auth import principal_from_header
from gongyi.metrics import HTTP_LATENCY

log = logging.getLogger(__name__)
MAX_JSON_BODY = 1 << 20
PUBLIC: tuple[str, ...] | None = None


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, default=str)
    return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")


def error_response(err: DomainError) -> Response:
    return json_response(err.to_dict(), status=err.status)


class NoDelayWebServer(WebServer):
    """nameko's web server with Nagle's algorithm off on every accepted connection.

    eventlet's wsgi writes through a 16 KiB buffer, so a larger response leaves in two sends
    (headers, then body); with Nagle on, the body waits for the client's delayed ACK of the
    headers, about 40 ms on Linux. Every HTTP server meant for small request/response pairs
    sets TCP_NODELAY for this reason."""

    def process_request(self, sock: socket.socket, address: Any) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not a TCP socket (a test may pass a socketpair): nothing to tune
            pass
        super().process_request(sock, address)

    def kill(self) -> None:
        # nameko's server keeps listening after its container is killed; free the port so the
        # supervisor can start the service again on it
        self._is_accepting = False
        if self._gt is not None:
            self._gt.kill()
        if self._sock is not None:
            self._sock.close()
        super().kill()


class JsonHttpEntrypoint(HttpRequestHandler):
    """nameko's @http with JSON errors, a correlation id and latency metrics."""

    # one shared server per container (nameko keys shared extensions by class); every route of the
    # platform is a JsonHttpEntrypoint, so this replaces nameko's server rather than adding one
    server = NoDelayWebServer()

    def __init__(self, method: str, url: str, route_name: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("expected_exceptions", (DomainError,))
        super().__init__(method, url, **kwargs)
        self.route_name = route_name or url

    def handle_request(self, request):  # noqa: ANN001, ANN201
        started = time.perf_counter()
        correlation_id = request.headers.get("X-Correlation-Id") or str(uuid.uuid4())
        request.shallow = False
        try:
            context_data = self.server.context_data_from_headers(request)
            context_data["correlation_id"] = correlation_id
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            event = Event()
            self.container.spawn_worker(
                self, args, kwargs, context_data=context_data, handle_result=partial(self.handle_result, event)
            )
            response = self.response_from_result(event.wait())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error
            response = self.response_from_exception(exc)
        response.headers["X-Correlation-Id"] = correlation_id
        HTTP_LATENCY.labels(
            self.container.service_name, self.route_name, request.method, str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response

    def response_from_result(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return json_response(result)

    def response_from_exception(self, exc: BaseException) -> Response:
        if isinstance(exc, DomainError):
            return error_response(exc)
        if isinstance(exc, HTTPException):
            return json_response(
                {
                    "code": "http_error",
                    "message_zh": "请求无法处理",
                    "message_en": exc.description or exc.name,
                    "details": {},
                },
                status=exc.code or 400,
            )
        log.exception("unhandled error in %s", self.route_name, exc_info=exc)
        return json_response(
            {
                "code": "internal_error",
                "message_zh": "服务内部错误，请稍后重试",
                "message_en": "Internal error; please retry later",
                "details": {},
            },
            status=500,
        )


@dataclass
class ErrorSpec:
    status: int
    code: str
    description: str


@dataclass
class RouteSpec:
    method: str
    path: str
    name: str
    summary: str
    roles: tuple[str, ...] | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: list[ErrorSpec] = field(default_factory=list)
    produces: tuple[str, ...] = ("application/json",)
    description: str = ""
    raw_body: str | None = None


def _issues_from_validation(exc: ValidationError, prefix: str = "") -> list[Issue]:
    issues = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        issues.append(
            Issue(
                code=err["type"],
                message_zh=f"字段“{path}”不符合要求：{err['msg']}",
                message_en=f"{path}: {err['msg']}",
                path=(prefix + path) if path else prefix.rstrip("."),
            )
        )
    return issues


def parse_json_body(request, model: type[BaseModel]) -> BaseModel:  # noqa: ANN001
    if request.content_length and request.content_length > MAX_JSON_BODY:
        raise PayloadTooLarge(
            "body_too_large", "请求内容过大", "The request body is too large", {"limit_bytes": MAX_JSON_BODY}
        )
    mimetype = (request.mimetype or "").lower()
    if mimetype != "application/json":
        raise UnsupportedMediaType(
            "unsupported_media_type", "请以 application/json 格式提交", "Send the body as application/json"
        )
    raw = request.get_data(cache=False)
    if len(raw) > MAX_JSON_BODY:
        raise PayloadTooLarge(
            "body_too_large", "请求内容过大", "The request body is too large", {"limit_bytes": MAX_JSON_BODY}
        )
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid_json", "请求内容不是有效的 JSON", f"The body is not valid JSON: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_issues_from_validation(exc)) from exc


@functools.cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    # once per model, not per request: the annotations do not change
    return frozenset(
        name
        for name, f in model.model_fields.items()
        if getattr(f.annotation, "__origin__", None) is list or "list[" in str(f.annotation)
    )


def parse_query(request, model: type[BaseModel]) -> BaseModel:  # noqa: ANN001
    data: dict[str, Any] = {}
    list_fields = _list_fields(model)
    for key in request.args:
        values = request.args.getlist(key)
        data[key] = values if key in list_fields else values[-1]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            _issues_from_validation(exc, "query."),
            code="invalid_query",
            message_zh="查询参数不符合要求",
            message_en="The query parameters are not valid",
        ) from exc


def _werkzeug_rule(path: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


def _render(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
        status, result = result
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    elif isinstance(result, list):
        result = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in result]
    return json_response(result, status=status)


class Api:
    """The routes of one service, mounted under /api/<service>."""

    def __init__(self, service: str, title: str, description: str = "") -> None:
        self.service = service
        self.prefix = f"/api/{service}"
        self.title = title
        self.description = description
        self.routes: list[RouteSpec] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        roles: tuple[str, ...] | None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: list[tuple[int, str, str]] | tuple = (),
        produces: tuple[str, ...] = ("application/json",),
        raw_body: str | None = None,
        pass_request: bool = False,
    ) -> Callable:
        """Declare a route. The handler gets path values, ``principal`` (unless public),
        ``body`` and ``query`` (when declared) as keyword arguments; ``request`` (the werkzeug
        request) with ``pass_request``, e.g. to stream an upload (``raw_body`` names its media type
        in the OpenAPI document) or to read the client address."""

        def decorator(fn: Callable) -> Callable:
            spec = RouteSpec(
                method=method.upper(),
                path=path,
                name=fn.__name__,
                summary=summary,
                roles=roles,
                body=body,
                query=query,
                response=response,
                status=status,
                errors=[ErrorSpec(*e) for e in errors],
                produces=produces,
                description=(fn.__doc__ or "").strip(),
                raw_body=raw_body,
            )

            def entry(svc, request, **path_values):  # noqa: ANN001, ANN202
                kwargs: dict[str, Any] = dict(path_values)
                if roles is not None:
                    principal = principal_from_header(svc.settings, request.headers.get("Authorization"))
                    principal.require(*roles)
                    kwargs["principal"] = principal
                if query is not None:
                    kwargs["query"] = parse_query(request, query)
                if body is not None:
                    kwargs["body"] = parse_json_body(request, body)
                if pass_request:
                    kwargs["request"] = request
                return _render(fn(svc, **kwargs), status)

            # no functools.wraps: nameko checks the call against the wrapped signature otherwise
            entry.__name__ = fn.__name__
            entry.__doc__ = fn.__doc__
            entry.route_spec = spec
            JsonHttpEntrypoint.decorator(spec.method, self.prefix + _werkzeug_rule(path), route_name=path)(entry)
            self.routes.append(spec)
            return entry

        return decorator

    def not_found_route(self) -> Callable:
        """A catch-all under the prefix, so unknown paths answer JSON, not an HTML page."""

        def unknown(svc, request, rest):  # noqa: ANN001, ANN202
            raise NotFound("route_not_found", "请求的地址不存在", f"No route for {request.method} {request.path}")

        return JsonHttpEntrypoint.decorator(
            "GET,POST,PUT,PATCH,DELETE", self.prefix + "/<path:rest>", route_name="(unknown)"
        )(unknown)

    # -- OpenAPI
    def openapi(self, version: str = "0.1.0") -> dict[str, Any]:
        models: list[tuple[type[BaseModel], str]] = []
        for r in self.routes:
            if r.body is not None:
                models.append((r.body, "validation"))
            if r.response is not None:
                models.append((r.response, "serialization"))
        refs, defs = (
            models_json_schema(list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}")
            if models
            else ({}, {})
        )
        schemas = dict(defs.get("$defs", {}))
        schemas["Error"] = ERROR_SCHEMA
        paths: dict[str, dict] = {}
        for r in self.routes:
            op: dict[str, Any] = {
                "operationId": f"{self.service}_{r.name}",
                "summary": r.summary,
                "tags": [self.service],
                "x-roles": list(r.roles) if r.roles is not None else ["public"],
                "parameters": [],
                "responses": {},
            }
            if r.description:
                op["description"] = r.description
            for name in re.findall(r"\{(\w+)\}", r.path):
                op["parameters"].append(
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}
                )
            if r.query is not None:
                qschema = r.query.model_json_schema(ref_template="#/components/schemas/{model}")
                required = set(qschema.get("required", []))
                for name, prop in qschema.get("properties", {}).items():
                    param = {"name": name, "in": "query", "required": name in required, "schema": prop}
                    if prop.get("type") == "array":
                        param.update({"style": "form", "explode": True})
                    op["parameters"].append(param)
            if r.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": refs[(r.body, "validation")]}},
                }
            elif r.raw_body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {r.raw_body: {"schema": {"type": "string", "format": "binary"}}},
                }
            ok: dict[str, Any] = {"description": "OK"}
            if r.response is not None:
                ok["content"] = {"application/json": {"schema": refs[(r.response, "serialization")]}}
            elif r.produces != ("application/json",):
                ok["content"] = {ct: {"schema": {"type": "string"}} for ct in r.produces}
            else:
                ok["content"] = {"application/json": {"schema": {}}}
            op["responses"][str(r.status)] = ok
            errors = list(r.errors)
            if r.roles is not None:
                errors += [
                    ErrorSpec(401, "missing_token", "no or invalid token"),
                    ErrorSpec(403, "forbidden_role", "role not allowed"),
                ]
            if r.body is not None:
                errors += [
                    ErrorSpec(400, "invalid_json", "body is not JSON"),
                    ErrorSpec(413, "body_too_large", "body over 1 MiB"),
                    ErrorSpec(415, "unsupported_media_type", "body is not application/json"),
                    ErrorSpec(422, "invalid_input", "body breaks the schema or a rule"),
                ]
            if r.query is not None:
                errors.append(ErrorSpec(422, "invalid_query", "query parameters break the schema"))
            by_status: dict[int, list[ErrorSpec]] = {}
            for e in errors:
                by_status.setdefault(e.status, []).append(e)
            for st, specs in sorted(by_status.items()):
                op["responses"][str(st)] = {
                    "description": "; ".join(f"`{e.code}`: {e.description}" for e in specs),
                    "x-error-codes": sorted({e.code for e in specs}),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            if r.roles is not None:
                op["security"] = [{"bearer": []}]
            paths.setdefault(self.prefix + r.path, {})[r.method.lower()] = op
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": version, "description": self.description},
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
        }


ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message_zh", "message_en", "details"],
    "properties": {
        "code": {"type": "string", "description": "machine-readable error code"},
        "message_zh": {"type": "string", "description": "message in simplified Chinese"},
        "message_en": {"type": "string", "description": "message in English"},
        "details": {"type": "object"},
    },
}
