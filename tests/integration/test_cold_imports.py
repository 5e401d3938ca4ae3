"""Cold starts guarded by what each function imports, not by timing: heavy clients load only
when the code path that needs them runs, and each function pulls in only its own parsers."""

from __future__ import annotations

import json
import subprocess
import sys

from emulator.table import load_table
from tests.conftest import ROOT

# Never imported when a handler module loads: provider and AWS clients (imported on first
# use), test and build tools, and migrations (a deploy step, never a cold start).
NEVER = (
    "openai",
    "groq",
    "ollama",
    "huggingface_hub",
    "boto3",
    "botocore",
    "moto",
    "playwright",
    "schemathesis",
    "alembic",
    "uvicorn",
)
# Parsers and renderers that belong to one function each.
ONLY_IN = {
    "trafilatura": {"extraction"},
    "lxml": {"extraction"},
    "feedparser": {"discovery"},
    "vaderSentiment": {"intelligence"},
    "nh3": {"dashboard"},
    "markdown_it": {"dashboard"},
}
# One interpreter loads what every handler shares, then forks a child per handler module,
# so each child's modules are exactly what importing that handler needs (and the probe costs
# one interpreter start, not one per function).
PROBE = """
import importlib, json, os, sys
import shared.handlers.http, shared.handlers.stage
base = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"": base}), flush=True)
for module in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(module)
            found = sorted({m.split(".")[0] for m in sys.modules})
        except Exception as exc:
            found = {"error": repr(exc)}
        print(json.dumps({module: found}), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def _imports_of_every_function() -> dict[str, set[str]]:
    functions = load_table(ROOT / "serverless.yml").functions
    modules = sorted({fn.module for fn in functions.values()})
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = {}
    for line in done.stdout.splitlines():
        found.update(json.loads(line))
    assert set(found) == {"", *modules}, done.stderr
    imported: dict[str, set[str]] = {"(shared runtime)": set(found[""])}  # type: ignore[arg-type]
    for name, fn in functions.items():
        result = found[fn.module]
        assert isinstance(result, list), f"{name} does not import: {result}"
        imported[name] = set(result)
    return imported


def test_cold_imports_stay_lean_per_function() -> None:
    imported = _imports_of_every_function()
    assert {"health", "sources", "runs", "extraction", "dashboard"} <= set(imported)
    problems = [
        f"{name} imports {module} at cold start"
        for name, modules in sorted(imported.items())
        for module in NEVER
        if module in modules
    ]
    problems += [
        f"{name} imports {module}, which only {', '.join(sorted(owners))} needs"
        for name, modules in sorted(imported.items())
        for module, owners in ONLY_IN.items()
        if module in modules and name not in owners
    ]
    assert not problems, "\n".join(problems)
    assert "trafilatura" in imported["extraction"]  # the probe sees real imports
    assert "trafilatura" not in imported["(shared runtime)"]
