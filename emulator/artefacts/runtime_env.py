"""The Lambda Python runtime's own packages, for execution environments run locally: the AWS
runtime interface client (`awslambdaric`) and boto3, installed once into a folder of their own
(never the project's virtualenv) for the interpreter that runs the environments."""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

from emulator.artefacts.build import exclusive
from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "infra" / "lambda-runtime" / "requirements.txt"


def interpreter() -> Path:
    """The Python that runs execution environments: this one's base interpreter (outside any
    virtualenv), of the runtime's version."""
    base = Path(getattr(sys, "_base_executable", sys.executable) or sys.executable)
    return base.resolve()


def requirements() -> list[str]:
    """awslambdaric as pinned, and boto3 at the version the lock file gives the project."""
    pinned = [
        line.strip()
        for line in REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [*pinned, f"boto3=={importlib.metadata.version('boto3')}"]


def _installer(target: Path, python: Path) -> list[str]:
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if Path(uv).is_file():
        return [uv, "pip", "install", "--quiet", "--target", str(target), "--python", str(python)]
    return [str(python), "-m", "pip", "install", "--quiet", "--target", str(target)]


def runtime_env(cache: Path) -> Path:
    """The folder holding awslambdaric and boto3, built on first use under `cache` and reused
    while the requirements and the interpreter stay the same; one process at a time."""
    python = interpreter()
    wanted = requirements()
    cache = cache.resolve()
    key = hashlib.sha256("\n".join([str(python), *wanted]).encode()).hexdigest()[:16]
    target = cache / f"lambda-runtime-{key}"
    with exclusive(target):
        return _install(target, python, wanted)


def _install(target: Path, python: Path, wanted: list[str]) -> Path:
    done = target / ".complete"
    if done.is_file():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    argv = [*_installer(partial, python), *wanted]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise ConfigError(
            f"installing the Lambda runtime's packages ({', '.join(wanted)}) failed:\n"
            f"{(result.stdout + result.stderr).strip()[-2000:]}"
        )
    compiled = subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j", "0", str(partial)],
        capture_output=True,
        timeout=600,
        check=False,
    )
    if compiled.returncode != 0:  # as the runtime ships them: with bytecode
        raise ConfigError(f"compiling the Lambda runtime's packages failed in {partial}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    done.write_text("\n".join(wanted) + "\n")
    return target
