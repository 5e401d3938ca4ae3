"""One cold start: `python -m tools.bench.coldprobe PROBE_JSON` imports a handler, answers
one invocation and prints one JSON line; the parent times process start → that line. A second
line, untimed, says how many modules it loaded from PYTHONPATH (the function's code and its
dependencies) and how many of them had bytecode.

PROBE_JSON names the handler (`module`, `attr`) and what to send: `{"kind": "http", "path":
"/api/v1/health", "route": "GET /api/v1/health"}` for a GET through Mangum with an API Gateway
v2 event, `{"kind": "sqs"}` for a batch with one invalid record (reported as a failure before
any database work), or `{"kind": "import"}` for the import and nothing else.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any


class NoDispatch:
    """A GET dispatches nothing; anything else would be a bug in the probe."""

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None:
        raise RuntimeError(f"a cold-start probe tried to dispatch to {stage}")


def _invoke(handler: Any, probe: dict[str, Any]) -> dict[str, Any]:
    from shared.handlers.context import LambdaContext

    context = LambdaContext(str(probe["module"]), timeout_s=30.0)
    if probe["kind"] == "sqs":
        from shared.lambda_events import sqs

        batch = sqs.event([{"messageId": "coldstart-1", "body": "not a message"}])
        result = handler(batch, context)
        return {"failures": len(result["batchItemFailures"])}
    from shared import ports
    from shared.composition import build_runtime
    from shared.config_load import load_settings
    from shared.lambda_events.http import HttpRequest, apigw_v2

    ports.install(build_runtime(load_settings(os.environ), dispatcher=NoDispatch()))
    request = HttpRequest("GET", probe["path"], "", [("host", "localhost")], b"")
    result = handler(apigw_v2(request, probe["route"], {}, "coldstart-1"), context)
    return {"status": int(result["statusCode"])}


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tools.bench.coldprobe PROBE_JSON...", file=sys.stderr)
        return 2
    for raw in argv:  # one probe when timed; every function's at once to warm up
        probe: dict[str, Any] = json.loads(raw)
        handler = getattr(importlib.import_module(probe["module"]), probe["attr"])
        answer = {"imported": True} if probe["kind"] == "import" else _invoke(handler, probe)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()  # the parent's clock stops at the first; what follows is untimed
    roots = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    tree = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    harness = tuple(os.path.join(tree, name, "") for name in ("tools", "emulator"))
    sys.stdout.write(json.dumps(bytecode_of(roots, harness)) + "\n")
    sys.stdout.flush()
    return 0


def bytecode_of(roots: list[str], harness: tuple[str, ...]) -> dict[str, int]:
    """Modules this process loaded from `roots` (the function's code and its dependencies,
    this probe's own `harness` folders aside), and how many had bytecode to load from."""
    folders = tuple(os.path.join(root, "") for root in roots if root)
    ours = [
        spec
        for module in list(sys.modules.values())
        if (spec := getattr(module, "__spec__", None)) is not None
        and isinstance(spec.origin, str)
        and spec.origin.endswith(".py")
        and spec.origin.startswith(folders)
        and not spec.origin.startswith(harness)
    ]
    cached = [s for s in ours if s.cached and os.path.isfile(s.cached)]
    return {"modules": len(ours), "compiled": len(cached)}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
