"""Cold start: the intelligence stage and shared.llm import no provider client library."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("openai", "groq", "ollama")


def test_llm_importing_stage_and_package_loads_no_client_library() -> None:
    code = (
        "import json, sys\n"
        "import functions.stages.intelligence, shared.llm, shared.llm.service, shared.llm.tasks\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_llm_building_an_openai_chain_loads_its_client() -> None:
    code = (
        "import json, sys\n"
        "from shared.config import Settings\n"
        "from shared.llm.registry import build, specs\n"
        "build(specs(Settings(llm_provider='groq'))[0], 1.0)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == ["groq", "openai"]
