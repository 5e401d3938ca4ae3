"""Run the test tiers in order, each with its time budget, and print how long each took."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

# tier: budget in seconds on the 2-core CI machine
TIERS = {"unit": 60, "integration": 180, "stack": 360, "e2e": 120}


def main(argv: list[str]) -> int:
    chosen = argv or list(TIERS)
    results: list[tuple[str, int, float]] = []
    for tier in chosen:
        folder = Path("tests") / tier
        if not any(folder.glob("test_*.py")):
            continue
        start = time.monotonic()
        code = subprocess.call(
            [sys.executable, "-m", "pytest", str(folder), "-q", "-p", "no:cacheprovider"]
        )
        results.append((tier, code, time.monotonic() - start))
        if code != 0:
            break
    print("\ntier         result   time    budget")
    for tier, code, took in results:
        over = "  OVER BUDGET" if took > TIERS[tier] else ""
        verdict = "ok" if code == 0 else "FAILED"
        print(f"{tier:<12} {verdict:<8} {took:6.1f}s  {TIERS[tier]:4d}s{over}")
    failed = [t for t, c, _ in results if c != 0]
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
