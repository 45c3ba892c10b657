"""HTTP for every service: typed routes on nameko's @http, JSON errors, and the OpenAPI document.

A route declares its roles, body, query and response models and the error codes it can answer;
the same declaration checks the request, renders the response and writes the OpenAPI document,
so the document cannot drift from the code.
"""

from __future__ import annotations

import datetime as dt
import enum
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
from nameko.web.server import WebServer, WsgiApp
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

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
from gongyi.http.forwarded import client_address
from gongyi.limits import (
    MAX_NAMED,
    MAX_QUERY_INT,
    cap_issues,
    check_document,
    check_query_value,
    limits_of,
    query_int_out_of_range,
    text_issue,
)
from gongyi.metrics import HTTP_LATENCY
from gongyi.timestamps import rfc3339

log = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("gongyi.access")
DEFAULT_TRUSTED = "127.0.0.0/8,::1/128"
MAX_JSON_BODY = 1 << 20
PUBLIC: tuple[str, ...] | None = None


def _json_default(value: Any) -> Any:
    """Values json cannot write: a timestamp as RFC 3339 with its zone (a naive one is UTC, as every
    store here keeps it), never ``str()``'s "2024-01-01 10:00:00"."""
    if isinstance(value, dt.datetime):
        return rfc3339(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, default=_json_default)
    return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")


def error_response(err: DomainError, request_id: str | None = None) -> Response:
    payload = {**err.to_dict(), "status": err.status}
    if request_id:
        payload["request_id"] = request_id
    return json_response(payload, status=err.status)


def problem_response(status: int, code: str, zh: str, en: str, request_id: str | None) -> Response:
    """The one answer to anything unexpected: short, no details (those go to the log)."""
    payload = {"code": code, "message_zh": zh, "message_en": en, "details": {}, "status": status}
    if request_id:
        payload["request_id"] = request_id
    return json_response(payload, status=status)


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

    def get_wsgi_app(self) -> WsgiApp:
        return JsonRoutingApp(self)

    def kill(self) -> None:
        # nameko's server keeps listening after its container is killed; free the port so the
        # supervisor can start the service again on it
        self._is_accepting = False
        if self._gt is not None:
            self._gt.kill()
        if self._sock is not None:
            self._sock.close()
        super().kill()


class JsonRoutingApp(WsgiApp):
    """nameko's WSGI app with JSON, not werkzeug's HTML page, for a path no route matches (outside a
    service's prefix, or its bare prefix) or a method a route does not take."""

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204
        request = Request(environ)
        try:
            provider, values = self.url_map.bind_to_environ(environ).match()
            request.path_values = values
            response = provider.handle_request(request)
        except RequestRedirect as exc:
            response = exc.get_response(environ)
        except HTTPException as exc:
            status = exc.code or 404
            code = {404: "route_not_found", 405: "method_not_allowed"}.get(status, "http_error")
            response = problem_response(status, code, "请求的地址不存在" if status == 404 else "请求无法处理",
                                        exc.name, request.headers.get("X-Correlation-Id"))
        return response(environ, start_response)


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
        correlation_id = request.headers.get("X-Correlation-Id") or ""
        if not (0 < len(correlation_id) <= 100 and correlation_id.isascii() and correlation_id.isprintable()):
            correlation_id = str(uuid.uuid4())
        request.shallow = False
        settings = self.container.config.get("GONGYI")
        request.client_address = client_address(
            request.remote_addr, request.headers, getattr(settings, "trusted_proxies", DEFAULT_TRUSTED)
        )
        try:
            context_data = self.server.context_data_from_headers(request)
            context_data["correlation_id"] = correlation_id
            context_data["client_address"] = request.client_address
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            event = Event()
            self.container.spawn_worker(
                self, args, kwargs, context_data=context_data, handle_result=partial(self.handle_result, event)
            )
            response = self.response_from_result(event.wait())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error
            response = self.response_from_exception(exc, correlation_id)
        response.headers["X-Correlation-Id"] = correlation_id
        if request.method != "GET" or response.status_code >= 400:
            # the audit trail of writes and refusals names the real client, not the router
            ACCESS_LOG.info("%s %s %s -> %d client=%s request=%s", self.container.service_name, request.method,
                            self.route_name, response.status_code, request.client_address, correlation_id)
        HTTP_LATENCY.labels(
            self.container.service_name, self.route_name, request.method, str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response

    def response_from_result(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return json_response(result)

    def response_from_exception(self, exc: BaseException, request_id: str | None = None) -> Response:
        """The one error policy: a refusal as its own JSON, werkzeug's HTTP errors (e.g. a body that
        broke off) as a short problem, and anything else as a 500 whose details stay in the log."""
        if isinstance(exc, DomainError):
            return error_response(exc, request_id)
        if isinstance(exc, HTTPException):
            status = exc.code or 400
            return problem_response(status, "http_error", "请求无法处理", exc.name, request_id)
        log.error("unhandled error in %s (request %s)", self.route_name, request_id, exc_info=exc)
        return problem_response(500, "internal_error", "服务内部错误，请稍后重试",
                                "Internal error; please retry later", request_id)


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
    errors = exc.errors(include_url=False, include_input=False)
    issues = []
    for err in errors[:MAX_NAMED]:
        path = ".".join(str(p) for p in err["loc"])[:200]
        issues.append(
            Issue(
                code=err["type"],
                message_zh=f"字段“{path}”不符合要求：{err['msg']}",
                message_en=f"{path}: {err['msg']}",
                path=(prefix + path) if path else prefix.rstrip("."),
            )
        )
    if len(errors) > MAX_NAMED:  # a form with 60,000 unknown keys: name 20, count the rest
        rest = len(errors) - MAX_NAMED
        issues.append(Issue("more_issues", f"另有 {rest} 处问题未列出", f"{rest} more issues not listed", prefix,
                            {"count": rest}))
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
    limits = limits_of(model)
    try:
        data = json.loads(raw or b"null")
    except RecursionError as exc:
        raise BadRequest("json_too_deep", f"请求内容嵌套过深（上限 {limits.max_depth} 层）",
                         f"The JSON document is nested deeper than {limits.max_depth}",
                         {"max_depth": limits.max_depth}) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid_json", "请求内容不是有效的 JSON", f"The body is not valid JSON: {exc}"[:300]) from exc
    check_document(data, limits)
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
    issues: list[Issue] = []
    for n, key in enumerate(request.args):
        values = request.args.getlist(key)
        if n >= 100 or len(values) > 100:
            raise BadRequest("too_many_parameters", "查询参数过多", "Too many query parameters")
        for value in values:
            if query_int_out_of_range(value):
                raise BadRequest("integer_out_of_range", f"查询参数“{key[:50]}”超出范围",
                                 f"Query parameter {key[:50]!r} is out of range", {"max": MAX_QUERY_INT})
            issue = check_query_value(key[:50], value)
            if issue is not None:
                issues.append(issue)
        data[key] = values if key in list_fields else values[-1]
    if issues:
        raise InvalidInput(cap_issues(issues), code="invalid_query", message_zh="查询参数不符合要求",
                           message_en="The query parameters are not valid")
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
    # python mode, then json.dumps with _json_default: a naive datetime (SQLite's) is written as UTC
    # with its zone, where pydantic's json mode would drop the zone and break the date-time schema
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="python")
    elif isinstance(result, list):
        result = [r.model_dump(mode="python") if isinstance(r, BaseModel) else r for r in result]
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
                for value in path_values.values():
                    # no id has control characters or is this long: nothing is looked up with it
                    if len(value) > 200 or text_issue(value, "path") is not None or "\ufffd" in value:
                        raise NotFound("not_found", "请求的对象不存在", "No such object")
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
                    if prop.get("type") == "integer":
                        prop = {"maximum": MAX_QUERY_INT, "minimum": -MAX_QUERY_INT, **prop}
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
                errors.append(ErrorSpec(400, "integer_out_of_range", "an integer beyond 2^53-1"))
            if r.body is not None:
                errors.append(ErrorSpec(400, "json_too_deep", "JSON nested too deep or too many keys"))
            if "{" in r.path:
                errors.append(ErrorSpec(404, "not_found", "no object with that id"))
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
        "status": {"type": "integer", "description": "the HTTP status, repeated"},
        "request_id": {"type": "string", "description": "the X-Correlation-Id to quote in a report"},
    },
}
