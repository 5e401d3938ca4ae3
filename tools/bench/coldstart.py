"""The cold-start benchmark: every function of serverless.yml from a fresh process to its first
response, over several runs, against the budgets kept in infra/coldstart-budgets.toml."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import IO, Any

from emulator.table import Function, load_table
from shared.errors import ConfigError
from tools.bench.artefacts import cold_start, specs_for
from tools.bench.coldtable import COMPILED
from tools.bench.coldtrees import UNCOMPILED, stage_trees
from tools.bench.load import BenchError
from tools.bench.report import (
    Benchmark,
    BenchOptions,
    Measurement,
    Start,
    to_benchmark,
)

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "serverless.yml"
BUDGETS = ROOT / "infra" / "coldstart-budgets.toml"
BASELINE = "python-bare"
ARTEFACT = "artefact"  # an execution environment from the package (tools/bench/artefacts.py)
# A quick run (`bench all --quick`) starts every function compiled, as it always did, and the
# other ways (no bytecode, artefact) only these: one HTTP and one stage function.
QUICK_SIDE_BY_SIDE = ("health", "extraction")

ANSWER_TIMEOUT_S = 60.0
DESCRIPTION = (
    "Each function in a fresh Python process, from its start to the first response: HTTP "
    "functions import their module and answer a GET through Mangum with an API Gateway v2 "
    "event; stage functions import theirs and answer an SQS batch with one invalid record. "
    f"`{BASELINE}` is a bare interpreter start that prints one line. Figures are the median "
    "and the slowest of the runs; ratio = the bare start's median ÷ the function's (below 1 "
    "is slower), and `budget` compares the median with infra/coldstart-budgets.toml. Each "
    "function starts twice, from fresh copies of its code: `bytecode`, compiled for Python "
    "3.11 as the packages ship it (infra/serverless/bytecode.py), and `no bytecode`, as the "
    "packages were before, compiling at every start (Lambda's /var/task is read-only; here "
    "PYTHONDONTWRITEBYTECODE=1), and so were the layer's dependencies. `bytecode` counts the "
    "modules of the function's code and dependencies that had it, as the fresh process found "
    "them; `× bytecode` = the median ÷ the compiled start's. Budgets hold for compiled starts. "
    "`artefact` starts the function as `quarry up --aws` does: a new execution environment "
    "(awslambdaric in a clean interpreter, from its packaged zip and the layer of "
    "`quarry package`) answering the same event through the Lambda Runtime API; its "
    "`× bytecode` is its cost against the in-process start."
)


def probe_of(fn: Function) -> dict[str, str]:
    """What the fresh process does for `fn` (see tools.bench.coldprobe)."""
    base = {"module": fn.module, "attr": fn.attr}
    for route in fn.routes:
        if route.method in ("GET", "ANY") and route.path != "$default" and "{" not in route.path:
            return {**base, "kind": "http", "path": route.path, "route": route.key}
    return {**base, "kind": "sqs" if fn.queue else "import"}


def is_expected(probe: dict[str, str], answer: dict[str, Any]) -> bool:
    """The probe answered as it should: a GET below 500, the invalid record reported."""
    if probe["kind"] == "http":
        return isinstance(answer.get("status"), int) and answer["status"] < 500
    if probe["kind"] == "sqs":
        return answer.get("failures") == 1
    return answer.get("imported") is True


def load_budgets(path: Path) -> dict[str, float]:
    """`[budgets]` in the TOML file: function name → cold-start budget in milliseconds."""
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the cold-start budgets: {exc}") from exc
    budgets = doc.get("budgets")
    if not isinstance(budgets, dict):
        raise ConfigError(f"{path}: expected a [budgets] table of function = milliseconds")
    for name, ms in budgets.items():
        if isinstance(ms, bool) or not isinstance(ms, int | float) or ms <= 0:
            raise ConfigError(f"{path}: budget of {name!r} must be a number of ms above 0")
    return {name: float(ms) for name, ms in budgets.items()}


def over_budget(bench: Benchmark) -> list[str]:
    """A line per function whose median cold start is over its budget, or that has none."""
    lines = []
    for v in bench.variants:
        if v.name == bench.baseline or (v.start is not None and v.start.how != COMPILED):
            continue
        if v.budget_ms is None:
            lines.append(f"{v.name}: no budget in {BUDGETS.relative_to(ROOT)}")
        elif v.p50_ms > v.budget_ms:
            lines.append(f"{v.name}: {v.p50_ms:.0f} ms is over its {v.budget_ms:.0f} ms budget")
    return lines


def _tail(log: IO[bytes], limit: int = 2000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-limit:].strip()


async def start_once(
    argv: list[str], env: dict[str, str], cwd: Path = ROOT
) -> tuple[float, dict[str, Any], dict[str, Any]]:
    """Seconds from spawning `argv` to its first line of output, that line as JSON, and the
    second line (what the process reports after answering, untimed); the process is killed
    then, so its shutdown neither counts nor slows the next start."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=err, env=env, cwd=cwd
        )
        assert proc.stdout is not None
        after = b"{}"
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                line = await proc.stdout.readline()
                seconds = time.perf_counter() - start
                after = await proc.stdout.readline() or after
        except TimeoutError:
            line, seconds = b"", ANSWER_TIMEOUT_S
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        try:
            return seconds, json.loads(line), json.loads(after)
        except ValueError:
            raise BenchError(
                f"`{' '.join(argv[1:3])}` gave no answer within {ANSWER_TIMEOUT_S:g} s: "
                f"{_tail(err) or 'no output'}"
            ) from None


def _environment(database_url: str, *path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUARRY_", "PYTHON"))}
    return env | {
        "QUARRY_ENV": "dev",
        "QUARRY_DATABASE_URL": database_url,
        "QUARRY_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        # as on Lambda's read-only /var/task and /opt: what has no bytecode is compiled at
        # every start
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def checked_start(name: str, how: str, stats: dict[str, Any]) -> Start:
    """How the function started: every module of its code and dependencies with bytecode
    when compiled, none when not; anything else means the staging went wrong, and the
    figures would mislead."""
    modules, compiled = int(stats.get("modules", 0)), int(stats.get("compiled", -1))
    expected = modules if how == COMPILED else 0
    if modules <= 0 or compiled != expected:
        raise BenchError(
            f"cold start of {name} ({how}): {compiled} of {modules} modules had bytecode, "
            f"expected {expected}"
        )
    return Start(function=name, how=how, modules=modules, compiled=compiled)


async def bench_coldstart(options: BenchOptions) -> Benchmark:
    from shared.db import migrate  # alembic: loaded when the benchmark runs, not with the CLI

    table = load_table(TABLE)
    budgets = load_budgets(BUDGETS)
    probes = {fn.name: probe_of(fn) for fn in table.functions.values()}
    bare = [sys.executable, "-c", "import sys; sys.stdout.write('{}\\n')"]
    times: dict[tuple[str, str], list[float]] = {(BASELINE, ""): []}
    starts: dict[tuple[str, str], Start] = {}
    with tempfile.TemporaryDirectory(prefix="quarry-coldstart-") as tmp:
        trees = await stage_trees(Path(tmp))
        url = f"sqlite+aiosqlite:///{tmp}/coldstart.db"
        await asyncio.to_thread(migrate.upgrade, url)  # GET routes read empty tables
        # -S: no site-packages but PYTHONPATH's, as in Lambda's runtime
        argv = [sys.executable, "-S", "-m", "tools.bench.coldprobe"]
        quick = options.requests < BenchOptions().requests or options.cold_runs < 2
        beside = list(QUICK_SIDE_BY_SIDE) if quick else list(probes)
        for name in probes:
            times[(name, COMPILED)] = []
            if name in beside:
                times[(name, UNCOMPILED)] = []
        specs = await specs_for(beside, url)
        for name in beside:
            times[(name, ARTEFACT)] = []
        options.meter.start("coldstart", options.cold_runs * len(times))
        # one unmeasured process invoking every function, writing bytecode: the dependencies
        # get theirs (the layer ships it) and the page cache is warm for every variant alike
        code, deps = trees[COMPILED]
        warm = _environment(url, code, deps)
        warm.pop("PYTHONDONTWRITEBYTECODE")
        every = [json.dumps(probe) for probe in probes.values()]
        done = await asyncio.create_subprocess_exec(
            *argv,
            *every,
            env=warm,
            cwd=code,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,  # the probes' invalid SQS records are logged
        )
        _, err = await done.communicate()
        if done.returncode != 0:
            raise BenchError(f"warming up every function failed: {err.decode()[-2000:]}")
        for _ in range(options.cold_runs):  # interleaved, so drift spreads over every function
            for key in times:
                name, how = key
                if name == BASELINE:
                    seconds, _, _ = await start_once(bare, _environment(url, ROOT))
                elif how == ARTEFACT:
                    seconds, answer = await cold_start(specs[name], probes[name], Path(tmp))
                    if not is_expected(probes[name], answer):
                        raise BenchError(f"artefact cold start of {name}: {answer}")
                    starts[key] = Start(function=name, how=ARTEFACT)
                else:
                    code, deps = trees[how]
                    seconds, answer, stats = await start_once(
                        [*argv, json.dumps(probes[name])], _environment(url, code, deps), code
                    )
                    if not is_expected(probes[name], answer):
                        raise BenchError(f"cold start of {name}: unexpected answer {answer}")
                    starts[key] = checked_start(name, how, stats)
                times[key].append(seconds)
                options.meter.advance()
    measured = []
    for (name, how), runs in times.items():
        median_ms = statistics.median(runs) * 1000
        measured.append(
            Measurement(
                name if how in ("", COMPILED) else f"{name} ({how})",
                len(runs),
                1,
                1000 / median_ms,
                median_ms,
                max(runs) * 1000,
                budgets.get(name) if how == COMPILED else None,
                starts.get((name, how)),
            )
        )
    return to_benchmark("coldstart", DESCRIPTION, BASELINE, measured, kind="coldstart")
