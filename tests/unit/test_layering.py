"""The layers the architecture promises (docs/architecture.md), kept by the import graph.

Every import counts, lazy ones inside functions included; only imports under
`if TYPE_CHECKING:` are left out, since they never run. The rules:
- a pure core imports nothing of ours that does I/O, nor an I/O library;
- shared/ imports none of functions/, dashboard/, emulator/, tools/, cli/;
- deployed code (functions/, shared/, dashboard/) imports neither the emulator nor the tools;
- the emulator proper does not import the tools beside it, nor the command line;
- no package (or top-level module) of shared/ takes part in an import cycle;
- a function module imports no other function module;
- the port bundle (shared/ports.py) imports nothing of ours but the settings and errors.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("shared", "functions", "dashboard", "emulator", "tools", "cli")
DEPLOYED = ("shared", "functions", "dashboard")
# Pure cores: values in, values out. The pipeline's cores, and the shapes and rules that
# several layers share (events, problem documents, schedule expressions, cursors, errors).
PURE_PACKAGES = ("shared.pipeline", "shared.lambda_events")
PURE_MODULES = {
    "shared.errors",
    "shared.problems",
    "shared.page_headers",
    "shared.schedule_expressions",
    "shared.pagination.cursors",
}
IO_LIBRARIES = {
    "aiosqlite",
    "asyncio",
    "boto3",
    "botocore",
    "http",
    "httpcore",
    "httpx",
    "psycopg",
    "redis",
    "requests",
    "socket",
    "sqlalchemy",
    "subprocess",
    "taskiq",
    "taskiq_redis",
    "urllib.request",
}
PORTS_MAY_IMPORT = {
    "shared.config",
    "shared.errors",
    "shared.problems",
    "shared.redaction",
    "shared.flow",
    "shared.messages",
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_name(path)] = path
    return found


def _ours(name: str) -> str | None:
    """The module of ours `name` resolves to (a name imported from a module counts as it)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    return (node for node in ast.walk(tree) if id(node) not in skip)


@cache
def imports() -> dict[str, tuple[set[str], set[str]]]:
    """Per module of ours: (modules of ours it imports, other modules it imports)."""
    graph: dict[str, tuple[set[str], set[str]]] = {}
    for name, path in modules().items():
        ours: set[str] = set()
        others: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target.split(".")[0] in PACKAGES:
                    resolved = _ours(target)
                    if resolved is not None and resolved != name:
                        ours.add(resolved)
                else:
                    others.add(target if isinstance(node, ast.Import) else node.module or "")
        graph[name] = (ours, others)
    return graph


def _in(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _is_pure(name: str) -> bool:
    return _in(name, *PURE_PACKAGES) or name in PURE_MODULES


def _violations(source: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, (ours, _) in imports().items()
        if _in(module, *source)
        for target in ours
        if _in(target, *forbidden)
    )


def test_layering_graph_is_read_whole() -> None:
    graph = imports()
    assert len(graph) > 200
    assert "shared.ports" in graph["shared.composition"][0]  # an edge the rules rely on
    assert "shared.composition" in graph["shared.handlers.http"][0]


def test_layering_pure_cores_import_no_io() -> None:
    pure = [m for m in modules() if _is_pure(m)]
    assert len(pure) > 20
    bad = [
        f"{module} imports {target}"
        for module in pure
        for target in sorted(imports()[module][0])
        if not _is_pure(target)
    ]
    bad += [
        f"{module} imports {library}"
        for module in pure
        for library in sorted(imports()[module][1])
        if _in(library, *IO_LIBRARIES)
    ]
    assert bad == []


def test_layering_shared_imports_only_shared() -> None:
    assert _violations(("shared",), ("functions", "dashboard", "emulator", "tools", "cli")) == []


def test_layering_deployed_code_imports_neither_emulator_nor_tools() -> None:
    assert _violations(DEPLOYED, ("emulator", "tools", "cli")) == []


def test_layering_emulator_does_not_import_the_tools_beside_it() -> None:
    assert _violations(("emulator",), ("tools", "cli")) == []


def test_layering_function_modules_never_import_each_other() -> None:
    functions = [m for m in modules() if m.count(".") == 2 and m.startswith("functions.")]
    assert len(functions) > 10
    bad = [
        f"{module} imports {target}"
        for module in functions
        for target in sorted(imports()[module][0])
        if target in functions
    ]
    assert bad == []


def test_layering_ports_import_nothing_above_them() -> None:
    assert imports()["shared.ports"][0] <= PORTS_MAY_IMPORT


def _shared_unit(module: str) -> str | None:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "shared" and len(parts) > 1 else None


def test_layering_no_package_of_shared_is_in_an_import_cycle() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, (ours, _) in imports().items():
        unit = _shared_unit(module)
        for target in ours:
            other = _shared_unit(target)
            if unit and other and other != unit:
                edges[unit].add(other)
    assert len(edges) > 20
    cycles = [sorted(c) for c in _strongly_connected(edges) if len(c) > 1]
    assert cycles == [], "packages of shared/ that import each other, directly or around a loop"


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the groups of nodes that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups
