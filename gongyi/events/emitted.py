"""Which event types each service's code can emit, read from the source (no import, no run).

Every event goes out through ``uow.emit(<type>, subject, data)``. The scanner parses each service's
Python files and resolves the first argument of every ``.emit(`` call to string literals:
constants of the service's ``events/published.py`` (and of the calling module), dict lookups such
as ``BY_ACTION[action]`` (a variable key means every value), conditional expressions, local
variables and loop variables, and function parameters (through the calls of that function in the
same service). A generic ``uow.emit(event["type"], ...)`` that stores events a domain built stands
for the types of every CloudEvents-shaped dict literal (``type``/``subject``/``data``) in the
service. An ``emit`` on a unit of work whose type cannot be resolved is reported, so the contracts
test fails instead of silently missing an event.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_MAX_DEPTH = 6


@dataclass
class EmitSite:
    service: str
    path: str
    line: int
    types: set[str]


@dataclass
class ScanResult:
    sites: list[EmitSite] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    def by_service(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for site in self.sites:
            out.setdefault(site.service, set()).update(site.types)
        return out

    def pairs(self) -> set[tuple[str, str]]:
        return {(s.service, t) for s in self.sites for t in s.types}


class _Module:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.assigns: dict[str, ast.expr] = {}
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        self.assigns[target.id] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                self.assigns[stmt.target.id] = stmt.value
        # local name -> (module dotted path, attribute or None for a module import)
        self.imports: dict[str, tuple[str, str | None]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None)

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None


class EmitScanner:
    def __init__(self, repo: Path = REPO) -> None:
        self.repo = repo
        self._modules: dict[Path, _Module] = {}

    def module(self, path: Path) -> _Module:
        if path not in self._modules:
            self._modules[path] = _Module(path)
        return self._modules[path]

    def _module_file(self, dotted: str) -> Path | None:
        base = self.repo / Path(*dotted.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.exists():
                return candidate
        return None

    def service_files(self, service: str) -> list[Path]:
        root = self.repo / "services" / service
        return sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts and "tests" not in p.parts)

    # -- resolution of an expression to the string values it can take
    def resolve(self, mod: _Module, node: ast.expr, service: str, depth: int = 0) -> set[str] | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return self._union(mod, [node.body, node.orelse], service, depth)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return self._union(mod, list(node.elts), service, depth)
        if isinstance(node, ast.Dict):
            return self._union(mod, list(node.values), service, depth)
        if isinstance(node, ast.Subscript):
            container = self._dict_node(mod, node.value, depth)
            if container is not None:
                owner, dct = container
                key = node.slice
                if isinstance(key, ast.Constant):
                    for k, v in zip(dct.keys, dct.values, strict=True):
                        if isinstance(k, ast.Constant) and k.value == key.value:
                            return self.resolve(owner, v, service, depth + 1)
                    return None
                return self._union(owner, list(dct.values), service, depth)
            return None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = self._imported_module(mod, node.value.id)
            if target is not None and node.attr in target.assigns:
                return self.resolve(target, target.assigns[node.attr], service, depth + 1)
            return None
        if isinstance(node, ast.Name):
            return self._resolve_name(mod, node, service, depth)
        return None

    def _union(self, mod: _Module, nodes: list[ast.expr], service: str, depth: int) -> set[str] | None:
        out: set[str] = set()
        for n in nodes:
            values = self.resolve(mod, n, service, depth + 1)
            if values is None:
                return None
            out |= values
        return out

    def _imported_module(self, mod: _Module, name: str) -> _Module | None:
        if name not in mod.imports:
            return None
        dotted, attr = mod.imports[name]
        path = self._module_file(f"{dotted}.{attr}" if attr else dotted)
        return self.module(path) if path else None

    def _dict_node(self, mod: _Module, node: ast.expr, depth: int) -> tuple[_Module, ast.Dict] | None:
        if isinstance(node, ast.Dict):
            return mod, node
        if isinstance(node, ast.Name):
            if node.id in mod.assigns and isinstance(mod.assigns[node.id], ast.Dict):
                return mod, mod.assigns[node.id]
            if node.id in mod.imports and depth < _MAX_DEPTH:
                dotted, attr = mod.imports[node.id]
                path = self._module_file(dotted)
                if path and attr:
                    return self._dict_node(self.module(path), ast.Name(attr, ast.Load()), depth + 1)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = self._imported_module(mod, node.value.id)
            if target is not None:
                return self._dict_node(target, ast.Name(node.attr, ast.Load()), depth + 1)
        return None

    def _resolve_name(self, mod: _Module, node: ast.Name, service: str, depth: int) -> set[str] | None:
        func = mod.enclosing_function(node)
        if func is not None:
            local = self._local_values(mod, func, node.id, service, depth)
            if local is not None:
                return local
            params = [a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)]
            if node.id in params:
                return self._parameter_values(func, node.id, params, service, depth)
        if node.id in mod.assigns:
            return self.resolve(mod, mod.assigns[node.id], service, depth + 1)
        if node.id in mod.imports:
            dotted, attr = mod.imports[node.id]
            path = self._module_file(dotted)
            if path and attr:
                target = self.module(path)
                if attr in target.assigns:
                    return self.resolve(target, target.assigns[attr], service, depth + 1)
        return None

    def _local_values(self, mod: _Module, func: ast.AST, name: str, service: str, depth: int) -> set[str] | None:
        sources: list[ast.expr] = []
        for n in ast.walk(func):
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
                sources.append(n.value)
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.target.id == name and n.value:
                sources.append(n.value)
            elif isinstance(n, (ast.For, ast.comprehension)) and isinstance(n.target, ast.Name) \
                    and n.target.id == name:
                sources.append(n.iter)
        if not sources:
            return None
        return self._union(mod, sources, service, depth)

    def _parameter_values(self, func: ast.AST, name: str, params: list[str], service: str,
                          depth: int) -> set[str] | None:
        index = params.index(name)
        out: set[str] = set()
        found = False
        for path in self.service_files(service):
            caller = self.module(path)
            for call in ast.walk(caller.tree):
                if not isinstance(call, ast.Call):
                    continue
                callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
                if callee != func.name:
                    continue
                arg = next((k.value for k in call.keywords if k.arg == name), None)
                if arg is None:
                    offset = 1 if params and params[0] in ("self", "cls") and isinstance(call.func, ast.Attribute) \
                        else 0
                    position = index - offset
                    arg = call.args[position] if 0 <= position < len(call.args) else None
                if arg is None:
                    continue
                values = self.resolve(caller, arg, service, depth + 1)
                if values is None:
                    return None
                out |= values
                found = True
        return out if found else None

    def event_dict_types(self, service: str) -> set[str] | None:
        """Types of the CloudEvents-shaped dicts a service's domain builds (``{"type": ..., "subject": ...,
        "data": ...}``), for a generic ``uow.emit(event["type"], ...)`` that stores what the domain returned."""
        out: set[str] = set()
        for path in self.service_files(service):
            mod = self.module(path)
            for node in ast.walk(mod.tree):
                if not isinstance(node, ast.Dict):
                    continue
                keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)}
                if {"type", "subject", "data"} <= set(keys):
                    values = self.resolve(mod, keys["type"], service)
                    if values is None:
                        return None
                    out |= values
        return out or None

    # -- the scan
    def emit_calls(self, mod: _Module) -> Iterator[ast.Call]:
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
                yield node

    def scan(self, services: list[str]) -> ScanResult:
        result = ScanResult()
        for service in services:
            for path in self.service_files(service):
                mod = self.module(path)
                for call in self.emit_calls(mod):
                    receiver = ast.unparse(call.func.value)
                    first = call.args[0] if call.args else next(
                        (k.value for k in call.keywords if k.arg == "type"), None)
                    values = self.resolve(mod, first, service) if first is not None else None
                    if values is None and _is_type_lookup(first):
                        values = self.event_dict_types(service)
                    where = f"{path.relative_to(self.repo)}:{call.lineno}"
                    if values:
                        result.sites.append(EmitSite(service, where, call.lineno, values))
                    elif "uow" in receiver.lower() or receiver.endswith("db"):
                        result.unresolved.append(f"{where}: {ast.unparse(call)[:120]}")
        return result


def _is_type_lookup(node: ast.expr | None) -> bool:
    return (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
            and node.slice.value == "type")


def scan_services(services: list[str] | None = None, repo: Path = REPO) -> ScanResult:
    from gongyi.config import SERVICES

    return EmitScanner(repo).scan(list(services or SERVICES))
