"""`quarry bench profile`: where the stack's time goes. One pipeline run of the generated site
through the stack (`quarry up`, one worker per stage) with every stage worker's steady state
under cProfile in CPU seconds (BENCH_PROFILE_DIR), then, per stage: its CPU seconds, its
statements sent to Postgres (by psycopg or asyncpg), its own time by owner (ours, each library, the
standard library; C functions charged to whoever called them), and the top costs by own
time."""

from __future__ import annotations

import pstats
import sysconfig
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.stack.profiling import PROFILE_ENV
from tools.bench.report import BenchOptions
from tools.bench.scaling import _run_once, _Stack
from tools.bench.sitegen import served, write_site

ROOT = Path(__file__).resolve().parents[2]
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
TOP = 5
# The event loop waiting for I/O: idle, not a cost.
WAITING = ("<method 'poll' of 'select.epoll' objects>", "<method 'select' of 'select.epoll")
Key = tuple[str, int, str]  # pstats' (file, line, function)
# What a driver sends, counted by plain functions (cProfile counts each resumption of a
# coroutine as a call): psycopg's query and command (BEGIN, COMMIT), one round trip each;
# asyncpg's statement (prepared, as its cache is off) and its transaction (BEGIN and its end).
STATEMENTS = {
    ("psycopg", "_cursor_base.py", "_execute_send"): 1,
    ("psycopg", "_connection_base.py", "_exec_command"): 1,
    ("asyncpg", "prepared_stmt.py", "__init__"): 1,
    ("asyncpg", "transaction.py", "__init__"): 2,
}


def statements_of(key: Key, calls: int) -> int:
    path = Path(key[0])
    return calls * STATEMENTS.get((path.parent.name, path.name, key[2]), 0)


@dataclass(frozen=True)
class Cost:
    where: str  # function (file:line)
    owner: str  # "ours", a library's folder under site-packages, "stdlib" or "C"
    seconds: float
    calls: int


@dataclass(frozen=True)
class StageProfile:
    stage: str
    busy_s: float  # CPU seconds not spent in the event loop's poll
    waiting_s: float
    statements: int  # sent to Postgres (psycopg's or asyncpg's)
    top: list[Cost]
    owners: list[tuple[str, float]]  # own time by owner, largest first


def owner_of(filename: str) -> str:
    """Who wrote the code at `filename`: ours (this repository), a library (its folder under
    site-packages), the standard library, or C (a builtin, no file)."""
    if filename == "~" or filename.startswith("<"):
        return "C"
    path = Path(filename)
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    if path.is_relative_to(ROOT):
        return "ours"
    return "stdlib" if path.resolve().is_relative_to(STDLIB) else "other"


def _where(key: Key) -> str:
    filename, line, func = key
    if filename == "~":
        return func
    path = Path(filename)
    if "site-packages" in path.parts:
        path = Path(*path.parts[path.parts.index("site-packages") + 1 :])
    elif path.is_relative_to(ROOT):
        path = path.relative_to(ROOT)
    return f"{func} ({path.name if path.is_absolute() else path}:{line})"


def _waiting(key: Key) -> bool:
    return key[0] == "~" and key[2].startswith(WAITING)


def summarise(stage: str, files: list[Path]) -> StageProfile:
    """One stage's profile from its workers' .prof files."""
    raw: dict[Key, tuple[Any, ...]] = pstats.Stats(*map(str, files)).stats  # type: ignore[attr-defined]
    waiting = busy = 0.0
    statements = 0
    costs: list[Cost] = []
    owners: Counter[str] = Counter()  # seconds (floats) by owner
    for key, (_, calls, own, _, callers) in raw.items():
        if _waiting(key):
            waiting += own
            continue
        busy += own
        statements += statements_of(key, calls)
        owner = owner_of(key[0])
        costs.append(Cost(_where(key), owner, own, calls))
        if owner != "C" or not callers:
            owners[owner] += own
            continue
        for caller, (_, _, from_there, _) in callers.items():  # C code: its callers' cost
            owners[f"{owner_of(caller[0])} (C)" if owner_of(caller[0]) != "C" else "C"] += (
                from_there
            )
    costs.sort(key=lambda c: c.seconds, reverse=True)
    top_owners = [(owner, float(s)) for owner, s in owners.most_common(TOP)]
    return StageProfile(stage, busy, waiting, statements, costs[:TOP], top_owners)


async def run_profiled(pages: int, out: Path) -> None:
    """Run `pages` generated pages through a one-worker-per-stage stack whose workers write
    their profiles into `out` (an absolute folder) as they stop."""
    with tempfile.TemporaryDirectory(prefix="quarry-bench-profile-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)  # noqa: ASYNC240  (Postgres runs as its own user; it reads here)
        write_site(folder / "site", pages)
        with served(folder / "site", pages) as site:
            (folder / "stack").mkdir()
            stack = _Stack(folder / "stack", 1, site.hosts)
            stack.env[PROFILE_ENV] = str(out)
            try:
                await stack.start()
                await _run_once(stack, site, BenchOptions(), "profile")
            finally:
                await stack.stop()


def profile_stack(pages: int, out: Path) -> list[StageProfile]:
    """Profile one stack run of `pages` pages into `out` (emptied of earlier profiles first)
    and summarise each stage."""
    import asyncio

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.prof"):
        old.unlink()
    asyncio.run(run_profiled(pages, out))
    by_stage: dict[str, list[Path]] = {}
    for f in sorted(out.glob("*.prof")):
        by_stage.setdefault(f.stem.rsplit("-", 1)[0], []).append(f)
    return [summarise(stage, files) for stage, files in by_stage.items()]


def to_markdown(profiles: list[StageProfile], pages: int) -> str:
    lines = [
        f"One stack run of {pages} generated pages, one worker per stage, each worker's steady "
        "state under cProfile in CPU seconds (its overhead inflates Python-heavy code). Own "
        "time by owner charges C functions to their callers' owner (`ours (C)`: C code our "
        "functions call). Statements: what the Postgres driver sent, one round trip each.",
        "",
    ]
    for p in profiles:
        share = ", ".join(f"{o} {s / p.busy_s:.0%}" for o, s in p.owners) if p.busy_s else "–"
        lines += [
            f"### {p.stage}: {p.busy_s:.2f} CPU s ({p.busy_s / pages * 1000:.1f} ms per "
            f"document), {p.statements / pages:.1f} statements per document",
            "",
            f"Own time by owner: {share}.",
            "",
            "| # | function | owner | own s | of busy | calls |",
            "| ---: | --- | --- | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {i} | `{c.where}` | {c.owner} | {c.seconds:.2f} "
            f"| {c.seconds / p.busy_s:.0%} | {c.calls} |"
            for i, c in enumerate(p.top, 1)
        ]
        lines.append("")
    return "\n".join(lines)
