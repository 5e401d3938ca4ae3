"""What a user installs: the runtime dependencies alone (`uv sync --no-dev`, what the Docker
image and the Lambda layer are built from) import every handler of serverless.yml, and the
`quarry` CLI's local AWS comes with the optional extra `aws-local`, whose absence it names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.stack.services.ports import free_port
from emulator.table import load_table
from tests.conftest import ROOT

EXTRA = "aws-local"
# One interpreter per handler, so one failing import cannot hide another's.
PROBE = """
import importlib, json, sys
module = sys.argv[1]
try:
    importlib.import_module(module)
    print(json.dumps({"ok": True}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
"""


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    assert Path(found).is_file(), "uv is missing: run `make test`, which installs it"
    return found


def _fresh_env(where: Path, *extras: str) -> Path:
    """A new virtual environment holding the locked runtime dependencies (no dev group) and
    the project, plus `extras`."""
    flags = [arg for extra in extras for arg in ("--extra", extra)]
    done = subprocess.run(
        [_uv(), "sync", "--frozen", "--no-dev", "--quiet", *flags],
        cwd=ROOT,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(where)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return where / "bin"


@pytest.fixture(scope="module")
def runtime_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fresh_env(tmp_path_factory.mktemp("runtime") / "venv")


@pytest.fixture(scope="module")
def aws_local_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _fresh_env(tmp_path_factory.mktemp("aws-local") / "venv", EXTRA)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("QUARRY_", "PYTHON"))}


def _has(bin_dir: Path, module: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([bin_dir / "python", "-c", code], check=False, timeout=60).returncode == 0


def test_runtime_install_imports_every_handler_of_serverless_yml(runtime_bin: Path) -> None:
    assert not _has(runtime_bin, "pytest")  # the dev group is absent
    assert not _has(runtime_bin, "moto")  # and so is the extra
    functions = load_table(ROOT / "serverless.yml").functions

    def probe(module: str) -> dict[str, Any]:
        done = subprocess.run(
            [runtime_bin / "python", "-c", PROBE, module],
            cwd=ROOT,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        lines = done.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else {"ok": False, "error": done.stderr[-500:]}

    # Each handler still in an interpreter of its own; a few at once, as the cores allow.
    names = sorted(functions)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        found = list(pool.map(probe, [functions[n].module for n in names]))
    answers = dict(zip(names, found, strict=True))
    failures = {name: a["error"] for name, a in answers.items() if not a["ok"]}
    assert len(functions) == 16
    assert failures == {}


def test_runtime_install_without_the_extra_names_it(runtime_bin: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [runtime_bin / "quarry", "up", "--aws", "--table", str(ROOT / "serverless.yml")],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    message = " ".join(done.stderr.split())
    assert f"pip install 'quarry[{EXTRA}]'" in message
    assert f"uv sync --extra {EXTRA}" in message
    assert "Traceback" not in done.stderr


def test_runtime_install_with_the_extra_starts_the_local_aws(aws_local_bin: Path) -> None:
    helped = subprocess.run(
        [aws_local_bin / "quarry", "up", "--aws", "--help"],
        env={**_clean_env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert helped.returncode == 0, helped.stderr
    assert "--aws" in helped.stdout
    assert f"quarry[{EXTRA}]" in " ".join(helped.stdout.split())
    # The local AWS exactly as `quarry up --aws` runs it: moto's server from the environment,
    # then the one-shot that creates serverless.yml's queues there.
    port = free_port()
    argv_code = (
        "import json, sys; from emulator.aws.server import moto_server_argv; "
        f"print(json.dumps(moto_server_argv({port})))"
    )
    argv = json.loads(
        subprocess.run(
            [aws_local_bin / "python", "-c", argv_code],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    assert argv[0].startswith(str(aws_local_bin)), argv
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/moto-api/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "moto's server did not answer within 60 s"
            time.sleep(0.2)
        created = subprocess.run(
            [aws_local_bin / "python", "-m", "emulator.aws.stack", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        queues = dict(line.split(": ", 1) for line in created.stdout.splitlines())
        assert queues["ExtractionQueue"].endswith("/quarry-dev-extraction")
        assert len(queues) == 8
    finally:
        server.terminate()
        server.wait(timeout=30)
