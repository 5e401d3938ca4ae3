"""The trees the cold-start benchmark starts functions from: fresh copies of the deployed code
as Lambda's read-only /var/task holds it, one compiled as the packages ship it and one not,
with the dependencies as the layer holds them, with bytecode or mirrored without."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from tools.bench.coldtable import COMPILED
from tools.bench.load import BenchError

ROOT = Path(__file__).resolve().parents[2]
BYTECODE = ROOT / "infra" / "serverless" / "bytecode.py"
UNCOMPILED = "no bytecode"
STARTS = (COMPILED, UNCOMPILED)
HARNESS = ("tools", "emulator")  # the probe (tools.bench.coldprobe) and what it imports
SHIPPED = ("functions", "shared", "dashboard", *HARNESS)


def mirror_without_bytecode(source: Path, target: Path) -> Path:
    """`source` (the dependencies) as symbolic links, without any __pycache__: the layer as
    it was shipped before, whose every module compiled at each cold start."""
    for folder, dirs, files in os.walk(source):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        here = target / Path(folder).relative_to(source)
        here.mkdir(parents=True, exist_ok=True)
        for name in files:
            if not name.endswith(".pyc"):
                (here / name).symlink_to(Path(folder) / name)
    return target


async def _compile(folder: Path, prefix: str = "/var/task") -> None:
    """Bytecode as the packages ship it, by the same tool (infra/serverless/bytecode.py)."""
    done = await asyncio.create_subprocess_exec(
        *(sys.executable, str(BYTECODE), "--prefix", prefix, str(folder)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await done.communicate()
    if done.returncode != 0:
        raise BenchError(f"compiling bytecode failed: {err.decode(errors='replace')[-2000:]}")


async def stage_trees(tmp: Path) -> dict[str, tuple[Path, Path]]:
    """By how it starts, the function code's folder and the dependencies' folder, as the
    packages unpack to /var/task and /opt/python: fresh copies of the deployed code
    (functions, shared, dashboard) and the probe (tools, emulator) with none of a developer's
    bytecode, one compiled as the packages ship it; the dependencies with their bytecode
    (this environment's site-packages), or mirrored without it. The probe's own modules are
    compiled in both, so only the function's code and its dependencies differ."""
    trees = {how: tmp / how.replace(" ", "-") for how in STARTS}
    for tree in trees.values():
        for folder in SHIPPED:
            shutil.copytree(
                ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        shutil.copy2(ROOT / "openapi.json", tree / "openapi.json")
    await _compile(trees[COMPILED])
    for folder in HARNESS:
        await _compile(trees[UNCOMPILED] / folder, prefix=f"/var/task/{folder}")
    deps = Path(sysconfig.get_paths()["purelib"])
    bare = await asyncio.to_thread(mirror_without_bytecode, deps, tmp / "deps-no-bytecode")
    return {COMPILED: (trees[COMPILED], deps), UNCOMPILED: (trees[UNCOMPILED], bare)}
