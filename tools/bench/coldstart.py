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
from tools.bench.load import BenchError
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "serverless.yml"
BUDGETS = ROOT / "infra" / "coldstart-budgets.toml"
BASELINE = "python-bare"
ANSWER_TIMEOUT_S = 60.0
DESCRIPTION = (
    "Each function in a fresh Python process, from its start to the first response: HTTP "
    "functions import their module and answer a GET through Mangum with an API Gateway v2 "
    "event; stage functions import theirs and answer an SQS batch with one invalid record. "
    f"`{BASELINE}` is a bare interpreter start that prints one line. Figures are the median "
    "and the slowest of the runs; ratio = the bare start's median ÷ the function's (below 1 "
    "is slower), and `budget` compares the median with infra/coldstart-budgets.toml."
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
        if v.name == bench.baseline:
            continue
        if v.budget_ms is None:
            lines.append(f"{v.name}: no budget in {BUDGETS.relative_to(ROOT)}")
        elif v.p50_ms > v.budget_ms:
            lines.append(f"{v.name}: {v.p50_ms:.0f} ms is over its {v.budget_ms:.0f} ms budget")
    return lines


def _tail(log: IO[bytes], limit: int = 2000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-limit:].strip()


async def start_once(argv: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Seconds from spawning `argv` to its first line of output, and that line as JSON; the
    process is killed then, so its shutdown neither counts nor slows the next start."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=err, env=env, cwd=ROOT
        )
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                line = await proc.stdout.readline()
            seconds = time.perf_counter() - start
        except TimeoutError:
            line, seconds = b"", ANSWER_TIMEOUT_S
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        try:
            return seconds, json.loads(line)
        except ValueError:
            raise BenchError(
                f"`{' '.join(argv[1:3])}` gave no answer within {ANSWER_TIMEOUT_S:g} s: "
                f"{_tail(err) or 'no output'}"
            ) from None


def _environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARRY_")}
    return env | {
        "QUARRY_ENV": "dev",
        "QUARRY_DATABASE_URL": database_url,
        "QUARRY_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


async def bench_coldstart(options: BenchOptions) -> Benchmark:
    from shared.db import migrate  # alembic: loaded when the benchmark runs, not with the CLI

    table = load_table(TABLE)
    budgets = load_budgets(BUDGETS)
    probes = {fn.name: probe_of(fn) for fn in table.functions.values()}
    argv = {BASELINE: [sys.executable, "-c", "import sys; sys.stdout.write('{}\\n')"]}
    for name, probe in probes.items():
        argv[name] = [sys.executable, "-m", "tools.bench.coldprobe", json.dumps(probe)]
    times: dict[str, list[float]] = {name: [] for name in argv}
    with tempfile.TemporaryDirectory(prefix="quarry-coldstart-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/coldstart.db"
        await asyncio.to_thread(migrate.upgrade, url)  # GET routes read empty tables
        env = _environment(url)
        # one unmeasured import of every handler: compiled bytecode and a warm page cache,
        # as a deployed package has them, rather than timing the first compile
        modules = "; ".join(f"import {m}" for m in sorted({p["module"] for p in probes.values()}))
        await start_once([sys.executable, "-c", f"{modules}; print('{{}}')"], env)
        options.meter.start("coldstart", options.cold_runs * len(argv))
        for _ in range(options.cold_runs):  # interleaved, so drift spreads over every function
            for name, command in argv.items():
                seconds, answer = await start_once(command, env)
                if name in probes and not is_expected(probes[name], answer):
                    raise BenchError(f"cold start of {name}: unexpected answer {answer}")
                times[name].append(seconds)
                options.meter.advance()
    measured = []
    for name, starts in times.items():
        median_ms = statistics.median(starts) * 1000
        measured.append(
            Measurement(
                name,
                len(starts),
                1,
                1000 / median_ms,
                median_ms,
                max(starts) * 1000,
                budgets.get(name) if name in probes else None,
            )
        )
    return to_benchmark("coldstart", DESCRIPTION, BASELINE, measured, kind="coldstart")
