"""The start of a script that runs the health function as Lambda runs it (QUARRY_ENV=lambda, a
fresh interpreter, the handler called with an API Gateway v2 event), shared by the tests that
check what a Lambda invocation writes: `prelude(secret)` leaves `handler`, `event` and
`LambdaContext` defined; the test appends what it invokes and prints."""

from __future__ import annotations


def prelude(secret_key: str) -> str:
    return f"""
import asyncio, json, sys
asyncio.set_event_loop(asyncio.new_event_loop())
from taskiq import InMemoryBroker
from shared.config_load import load_settings
from shared.composition import build_runtime
from shared.dispatch.taskiq import TaskiqDispatcher
from shared import ports
from shared.handlers.context import LambdaContext

url = sys.argv[1]
settings = load_settings({{
    "QUARRY_ENV": "lambda",
    "QUARRY_DATABASE_URL": url,
    "QUARRY_SECRET_KEY": "{secret_key}",
    "QUARRY_DASHBOARD_PASSWORD_HASH": "scrypt$16384$8$1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43,
}})
ports.install(build_runtime(settings, dispatcher=TaskiqDispatcher(InMemoryBroker())))
from functions.api.health import handler
event = json.load(open("tests/events/apigw-http-v2-get.json"))
event |= {{"rawPath": "/api/v1/health", "routeKey": "GET /api/v1/health", "pathParameters": {{}}}}
event["requestContext"]["http"]["path"] = "/api/v1/health"
"""
