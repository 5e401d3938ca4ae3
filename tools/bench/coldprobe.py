"""One cold start: `python -m tools.bench.coldprobe PROBE_JSON` imports a handler, answers
one invocation and prints one JSON line; the parent times process start → that line.

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
    from shared.config import load_settings
    from shared.lambda_events.http import HttpRequest, apigw_v2

    ports.install(build_runtime(load_settings(os.environ), dispatcher=NoDispatch()))
    request = HttpRequest("GET", probe["path"], "", [("host", "localhost")], b"")
    result = handler(apigw_v2(request, probe["route"], {}, "coldstart-1"), context)
    return {"status": int(result["statusCode"])}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tools.bench.coldprobe PROBE_JSON", file=sys.stderr)
        return 2
    probe: dict[str, Any] = json.loads(argv[0])
    handler = getattr(importlib.import_module(probe["module"]), probe["attr"])
    answer = {"imported": True} if probe["kind"] == "import" else _invoke(handler, probe)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
