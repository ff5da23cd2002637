"""The import graph and the size of the portal's own modules, read from the source.

Used by ``tests/test_structure.py`` (the rules) and by ``tests/conftest.py`` (the report of the
largest modules printed at the end of every run). Every ``import`` counts, top-level or inside a
function: a local import that hides a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The layers, lowest first (docs/architecture.md). An app may import its own modules and the
# apps of lower layers; apps of one layer do not import each other (ops, the platform's own
# operations such as backups, sits beside requests_portal: it uses vault, audit and accounts;
# residents, a person's own data across every app, sits beside api, above documents and billing;
# so do webhooks, whose events come from requests, documents and billing, and mailin,
# which turns replies by email into request messages and documents).
LAYERS: list[set[str]] = [
    {"vault"},
    {"audit"},
    {"accounts"},
    {"requests_portal", "ops"},
    {"documents", "billing"},
    {"api", "residents", "webhooks", "mailin"},
    {"config"},
]
APPS = sorted(set().union(*LAYERS))

# Kinds of module inside an app, lowest first: data, tenant-scoped reads, writes, and the
# interface that the outside world (HTTP, Celery, the shell, Django's app loading) calls.
# Any module may use a kind below its own; none may use a kind above it.
MODEL, ACCESS, SERVICE, INTERFACE = range(4)
INTERFACE_NAMES = {
    "views",
    "urls",
    "tasks",
    "apps",
    "templatetags",
    "management",
    "context_processors",
    "middleware",
    "signals",
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def app(self) -> str:
        return self.name.split(".")[0]

    @property
    def lines(self) -> int:
        return len(self.path.read_text().splitlines())


def product_modules(root: Path = ROOT) -> dict[str, Module]:
    """Every Python module of the portal's apps, by dotted name (migrations left out: they are
    frozen history, and Django imports them itself)."""
    modules = {}
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root)
            if "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            modules[name] = Module(name, path)
    return modules


def kind(module_name: str) -> int | None:
    """The kind of a module from its name (``None``: a helper of no particular kind)."""
    parts = module_name.split(".")[1:]
    if any(p in INTERFACE_NAMES or p.endswith(("_views", "_urls")) for p in parts):
        return INTERFACE
    if any(p == "services" or p.endswith("_services") for p in parts):
        return SERVICE
    if any(p in ("access", "selectors") or p.endswith("_access") for p in parts):
        return ACCESS
    if any(p == "models" for p in parts):
        return MODEL
    return None


def layer(app: str) -> int:
    return next(i for i, apps in enumerate(LAYERS) if app in apps)


def _owner(name: str, modules: dict[str, Module]) -> str | None:
    """The product module that ``name`` (a module, or a name inside one) belongs to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: Module, modules: dict[str, Module]) -> Iterator[tuple[str, int]]:
    """(imported product module, line) for every import in ``module``, local ones included."""
    tree = ast.parse(module.path.read_text())
    is_package = module.path.name == "__init__.py"
    package = module.name if is_package else module.name.rpartition(".")[0]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name``
            # imports mod.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                for alias in node.names
            ]
        for target in targets:
            owner = _owner(target, modules)
            if owner is not None and owner != module.name:
                yield owner, node.lineno


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, int]]:
    """{module: {imported module: first line}}."""
    graph: dict[str, dict[str, int]] = {}
    for name, module in modules.items():
        edges: dict[str, int] = {}
        for target, line in imports_of(module, modules):
            edges.setdefault(target, line)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        # Iterative, so a deep graph never meets the recursion limit.
        nonlocal counter
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def upward_imports(graph: dict[str, dict[str, int]], modules: dict[str, Module]) -> list[str]:
    """Imports that point up: into a higher (or sibling) app, or from a lower kind of module
    to a higher kind (a service importing a view or a task, an access module a service)."""
    bad = []
    for source, edges in sorted(graph.items()):
        source_app, source_kind = source.split(".")[0], kind(source)
        for target, line in sorted(edges.items()):
            target_app, target_kind = target.split(".")[0], kind(target)
            where = f"{modules[source].path.relative_to(ROOT)}:{line}: {source} -> {target}"
            if source_app != target_app and layer(target_app) >= layer(source_app):
                bad.append(f"{where} (app {target_app} is not below {source_app})")
            elif (
                source_kind is not None
                and target_kind is not None
                and target_kind > source_kind
                and source_app != "config"
            ):
                bad.append(
                    f"{where} (a {_KIND_NAMES[source_kind]} imports a {_KIND_NAMES[target_kind]})"
                )
    return bad


_KIND_NAMES = {
    MODEL: "model",
    ACCESS: "access module",
    SERVICE: "service",
    INTERFACE: "view/task/url",
}


def largest(modules: Iterable[Module], count: int = 10) -> list[Module]:
    return sorted(modules, key=lambda m: (-m.lines, m.name))[:count]
