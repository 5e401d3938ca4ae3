"""Hot reload: which processes a changed file reaches, from static import closures.

Each process's code is the transitive closure of the project modules its entry module and
its functions' handler modules import, read from the source with `ast` (every `import`
statement counts, lazy ones inside functions included, so the closure errs on the side of a
restart). A data file (a template, a stylesheet) belongs to its package: a process that
imports any module of that package sees it. A change to a configuration file (the table,
quarry.toml) reaches every process.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from emulator.table import Function, Table, functions_for

PACKAGES = ("functions", "shared", "dashboard", "emulator")
SUFFIXES = frozenset({".py", ".html", ".css", ".js", ".jinja", ".j2"})


@dataclass(frozen=True)
class Graph:
    """The project's modules, the project modules each imports, and the data files."""

    root: Path
    files: Mapping[str, Path]  # module → source file
    imports: Mapping[str, frozenset[str]]
    broken: Mapping[str, str]  # module → why its source does not parse
    data: Mapping[Path, str]  # data file → the package that owns it

    def closure(self, roots: Iterable[str]) -> frozenset[str]:
        """Every project module that importing `roots` runs, parents' __init__ included."""
        seen: set[str] = set()
        todo = [m for r in roots for m in (*parents(r), r) if m in self.files]
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            seen.add(module)
            todo.extend(m for m in self.imports.get(module, ()) if m not in seen)
        return frozenset(seen)

    def reaches(self, path: Path, closure: frozenset[str]) -> bool:
        """Whether a process whose modules are `closure` runs (or reads) `path`."""
        module = self.module_of(path)
        if module is not None:
            return module in closure
        package = self.data.get(path)
        return package is not None and any(
            m == package or m.startswith(package + ".") for m in closure
        )

    def module_of(self, path: Path) -> str | None:
        return _module_name(self.root, path) if path.suffix == ".py" else None


def parents(module: str) -> list[str]:
    """`a.b.c` → [`a`, `a.b`]: the packages Python initialises before the module."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(module: str, source: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The project modules (those in `known`) that `source`, the text of `module`, imports.

    `from a.b import c` names `a.b.c` when that is a module, and `a.b` in any case; a
    relative import is resolved against `module`'s package.
    """
    names = set(known)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    out: set[str] = set()
    for name in found:
        out.update(m for m in (*parents(name), name) if m in names)
    out.discard(module)
    return out


def project_files(root: Path, packages: Sequence[str] = PACKAGES) -> list[Path]:
    """The files a reload watches: sources and data files under the project's packages."""
    out: list[Path] = []
    for package in packages:
        for path in (root / package).rglob("*"):
            hidden = any(p.startswith(".") or p == "__pycache__" for p in path.parts)
            if path.suffix in SUFFIXES and not hidden and path.is_file():
                out.append(path)
    return sorted(out)


def _package_of(root: Path, path: Path) -> str | None:
    """The innermost package (a folder with __init__.py) that holds a data file."""
    for folder in path.parents:
        if folder == root or root not in folder.parents:
            return None
        if (folder / "__init__.py").is_file():
            return _module_name(root, folder / "__init__.py")
    return None


def scan(root: Path, packages: Sequence[str] = PACKAGES) -> Graph:
    """Read every project source file and build the import graph."""
    root = root.resolve()
    files: dict[str, Path] = {}
    data: dict[Path, str] = {}
    for path in project_files(root, packages):
        if path.suffix == ".py":
            files[_module_name(root, path)] = path
        elif (package := _package_of(root, path)) is not None:
            data[path] = package
    imports: dict[str, frozenset[str]] = {}
    broken: dict[str, str] = {}
    for module, path in files.items():
        try:
            source = path.read_text(encoding="utf-8")
            found = imports_of(module, source, path.name == "__init__.py", files)
        except (SyntaxError, UnicodeDecodeError, OSError) as exc:
            broken[module] = f"{path.relative_to(root)}: {exc}"
            found = set()
        imports[module] = frozenset(found)
    return Graph(root, files, imports, broken, data)


def roots_of(argv: Sequence[str], table: Table) -> frozenset[str] | None:
    """The modules a stack process starts from, read from its command line: its entry module
    plus the handler modules it loads by name. None for a process that is not Python code of
    the project (nginx, Redis, Postgres)."""
    if len(argv) < 3 or argv[1] != "-m":
        return None
    entry, args = argv[2], list(argv[3:])
    hosted: list[Function]
    if not any(entry == p or entry.startswith(p + ".") for p in PACKAGES):
        return None
    if entry == "emulator.stack.instance" and args:
        hosted = list(functions_for(table, args[0]).functions.values())
    elif entry == "emulator.stack.worker" and args and args[0] in table.functions:
        hosted = [table.functions[args[0]]]
    elif entry == "emulator.stack.schedulerd":
        hosted = [fn for fn in table.functions.values() if fn.schedules]
    else:
        hosted = []
    return frozenset({entry, *(fn.module for fn in hosted)})


@dataclass(frozen=True)
class Plan:
    """What a set of changed files means: which processes restart, for which functions."""

    files: tuple[str, ...]
    services: tuple[str, ...]
    functions: tuple[str, ...]
    broken: tuple[str, ...]

    @property
    def message(self) -> str:
        changed = ", ".join(self.files)
        verb = "changes" if len(self.files) > 1 else "changed"
        if self.broken:
            return f"reload: {changed} {verb}, but {'; '.join(self.broken)}; not restarting"
        if not self.services:
            return f"reload: {changed} {verb}; no running process imports it"
        functions = ", ".join(self.functions) or "none, platform code only"
        return (
            f"reload: {changed} {verb} → restarting {', '.join(self.services)} "
            f"(functions: {functions})"
        )


def plan(
    changed: Iterable[Path],
    graph: Graph,
    processes: Mapping[str, frozenset[str]],
    table: Table,
    config: Iterable[Path] = (),
) -> Plan:
    """Which of `processes` (name → root modules) a change to `changed` reaches, and which
    functions' handler closures hold the changed files."""
    paths = sorted({p.resolve() for p in changed})
    configs = {p.resolve() for p in config}
    closures = {name: graph.closure(roots) for name, roots in processes.items()}
    handlers = {fn.name: graph.closure([fn.module]) for fn in table.functions.values()}
    services: set[str] = set()
    functions: set[str] = set()
    for path in paths:
        if path in configs:
            services.update(closures)
            functions.update(handlers)
            continue
        services.update(n for n, c in closures.items() if graph.reaches(path, c))
        functions.update(n for n, c in handlers.items() if graph.reaches(path, c))
    touched = {graph.module_of(p) for p in paths}
    broken = tuple(why for module, why in sorted(graph.broken.items()) if module in touched)
    order = list(processes)
    return Plan(
        tuple(_show(graph.root, p) for p in paths),
        tuple(sorted(services, key=order.index)),
        tuple(sorted(functions)),
        broken,
    )


def _show(root: Path, path: Path) -> str:
    return str(path.relative_to(root)) if root in path.parents else str(path)
