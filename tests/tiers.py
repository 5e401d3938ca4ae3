"""Run the test tiers in order, every one even when an earlier one fails, and end with one
summary: each tier's time against its budget and every failing test's node id. A tier that
fails a test, or takes more than 1.5 times its budget, fails the run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# tier: budget in seconds on the 2-core CI machine
TIERS = {"unit": 60, "integration": 180, "stack": 360, "e2e": 120}
# past budget x this, a tier fails the run even with every test green
HARD_FACTOR = 1.5
# past budget x this, a tier's pytest is stopped: a hung tier must not hang the run
KILL_FACTOR = 2.0
# Tiers whose tests wait on processes and servers run on two pytest-xdist workers, one per
# core. In the stack tier a worker takes whole groups (tests/stack/conftest.py): every test of
# the session's shared stack on one worker, each other module on one worker, the longest first.
PARALLEL = {
    "integration": ("-n", "2"),
    "stack": ("-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder"),
}
# pytest's short summary (-ra), after its header line, names what failed, one per line
SUMMARY_HEADER = "short test summary info"
FAILURE_PREFIXES = ("FAILED ", "ERROR ")


@dataclass(frozen=True)
class TierResult:
    tier: str
    code: int  # pytest's exit status
    took_s: float
    failures: tuple[str, ...]  # the short summary's FAILED/ERROR lines


def failures_in(output: str) -> tuple[str, ...]:
    """The FAILED/ERROR lines of pytest's short test summary (node id and reason); lines
    before the summary's header (a test's captured log, `ERROR    quarry...`) are not."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if SUMMARY_HEADER in line]
    summary = lines[starts[-1] + 1 :] if starts else []
    return tuple(_ungrouped(line.strip()) for line in summary if line.startswith(FAILURE_PREFIXES))


def _ungrouped(line: str) -> str:
    """The line with its node id as pytest accepts it again: without the `@group` that
    pytest-xdist's --dist loadgroup appends (after any parameter ids' closing bracket)."""
    verdict, _, rest = line.partition(" ")
    nodeid, sep, reason = rest.partition(" ")
    at = nodeid.rfind("@")
    if at > nodeid.rfind("]"):
        nodeid = nodeid[:at]
    return f"{verdict} {nodeid}{sep}{reason}"


def summarise(results: list[TierResult], budgets: dict[str, int]) -> tuple[list[str], int]:
    """The closing summary's lines and the run's exit status (0 only when every tier ran green
    within 1.5x its budget and at least one tier ran)."""
    lines = ["", "tier         result   time    budget"]
    problems: list[str] = []
    for r in results:
        budget = budgets[r.tier]
        verdict = "ok" if r.code == 0 else f"FAILED ({r.code})"
        limit = budget * HARD_FACTOR
        note = ""
        if r.took_s > limit:
            note = f"  OVER 1.5x BUDGET ({limit:.0f} s)"
            problems.append(
                f"{r.tier}: took {r.took_s:.1f} s, over 1.5x its {budget} s budget ({limit:.0f} s)"
            )
        elif r.took_s > budget:
            note = "  over budget (within 1.5x)"
        lines.append(f"{r.tier:<12} {verdict:<8} {r.took_s:6.1f}s  {budget:4d}s{note}")
        if r.code != 0:
            named = r.failures or (f"pytest exited {r.code} without naming a test",)
            problems.extend(f"{r.tier}: {f}" for f in named)
    if not results:
        problems.append("no tier ran: no tests/<tier>/test_*.py found")
    if problems:
        lines += ["", f"{len(problems)} problem(s):", *(f"  {p}" for p in problems)]
    return lines, 1 if problems else 0


def run_tier(tier: str, budget: int) -> TierResult:
    """Run one tier's pytest, streaming its output and keeping its short summary; stopped
    (with the processes it started) past KILL_FACTOR x its budget."""
    began = time.monotonic()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "pytest", f"tests/{tier}", "-q", "-p", "no:cacheprovider"),
            # a test still running after the whole tier's budget has every thread's stack
            # dumped, so a hang says where it hangs before the watchdog stops the tier
            *("-ra", "-o", f"faulthandler_timeout={budget}", *PARALLEL.get(tier, ())),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so a stop takes its children too
    )
    assert proc.stdout is not None
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    watchdog = threading.Timer(budget * KILL_FACTOR, stop)
    watchdog.start()
    kept: list[str] = []
    summary = False
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        summary = summary or SUMMARY_HEADER in line
        if summary:
            kept.append(line)
    code = proc.wait()
    watchdog.cancel()
    failures = failures_in("".join(kept))
    if stopped.is_set():  # a kill leaves no summary: say why the tier ended
        failures += (f"stopped after {budget * KILL_FACTOR:.0f} s ({KILL_FACTOR:g}x its budget)",)
        code = code or 1
    return TierResult(tier, code, time.monotonic() - began, failures)


def main(argv: list[str]) -> int:
    unknown = [t for t in argv if t not in TIERS]
    if unknown:
        print(f"unknown tier(s) {', '.join(unknown)}; tiers: {', '.join(TIERS)}", file=sys.stderr)
        return 2
    chosen = [t for t in argv or list(TIERS) if any((Path("tests") / t).glob("test_*.py"))]
    results = [run_tier(tier, TIERS[tier]) for tier in chosen]
    lines, code = summarise(results, TIERS)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
