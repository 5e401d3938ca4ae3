"""`quarry events generate`: Lambda events as AWS sends them, for `quarry invoke`. The shapes
are built in `shared.lambda_events`; here a request is routed against serverless.yml, so route
keys, resources and path parameters are the ones API Gateway would fill in."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from emulator.routing import Router
from emulator.table import Table
from shared.errors import ConfigError
from shared.lambda_events import http, sqs
from shared.lambda_events.arns import EXAMPLE_ACCOUNT, REGION
from shared.lambda_events.schedule import rule_arn, scheduled_event

HTTP_KINDS = ("apigw-v1", "apigw-v2", "alb", "function-url")
KINDS = (*HTTP_KINDS, "sqs", "schedule")
CLIENT_IP = "198.51.100.7"  # a documentation address (RFC 5737)


def client_request(
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> http.HttpRequest:
    """A request from a client on the internet (a documentation address), as events carry it."""
    return http.HttpRequest(method, path, query, headers, body, source_ip=CLIENT_IP)


def parse_header(text: str) -> tuple[str, str]:
    """`Name: value` as a pair; ConfigError when there is no colon or no name."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ConfigError(f"header {text!r} is not `Name: value`")
    return name.strip(), value.strip()


def with_client_headers(req: http.HttpRequest, kind: str) -> http.HttpRequest:
    """`req` with the headers a client and the AWS front door always add, unless given."""
    if kind not in HTTP_KINDS:
        return req
    region = REGION
    host = {
        "apigw-v1": f"{http.API_ID}.execute-api.{region}.amazonaws.com",
        "apigw-v2": f"{http.API_ID}.execute-api.{region}.amazonaws.com",
        "function-url": f"{http.URL_ID}.lambda-url.{region}.on.aws",
        "alb": f"quarry-alb-1234567890.{region}.elb.amazonaws.com",
    }[kind]
    given = {name.lower() for name, _ in req.headers}
    defaults = [
        ("Host", host),
        ("User-Agent", "quarry-events/1"),
        ("X-Forwarded-For", req.source_ip),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
    ]
    extra = tuple((k, v) for k, v in defaults if k.lower() not in given)
    return replace(req, headers=(*req.headers, *extra))


def _route(table: Table | None, req: http.HttpRequest) -> tuple[str, str, dict[str, str]]:
    """(route key, resource path, path parameters) of the route serverless.yml gives `req`."""
    match = Router(table.http()).match(req.method, unquote(req.raw_path)) if table else None
    if match is None:
        return "$default", req.raw_path, {}
    return match.route.key, match.route.path, match.params


def generate(
    kind: str,
    req: http.HttpRequest,
    *,
    table: Table | None = None,
    stage: str = "discovery",
    bodies: list[str] | None = None,
    rule: str = "quarry-dev-analytics-schedule",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The event of `kind` (one of KINDS); ConfigError names the accepted kinds otherwise."""
    now = now or datetime.now(UTC)
    request_id = str(uuid.uuid4())
    req = with_client_headers(req, kind)
    if kind in HTTP_KINDS:
        route_key, resource, params = _route(table, req)
        if kind == "apigw-v1":
            return http.apigw_v1(req, resource, params, request_id, now)
        if kind == "apigw-v2":
            return http.apigw_v2(req, route_key, params, request_id, api_id=http.API_ID)
        return http.function_url(req, request_id) if kind == "function-url" else http.alb(req)
    if kind == "sqs":
        if table is not None and stage not in {f.name for f in table.stages()}:
            stages = ", ".join(f.name for f in table.stages())
            raise ConfigError(f"no stage {stage!r} in the function table; stages: {stages}")
        if not bodies:
            raise ConfigError("an SQS event needs at least one --body")
        arn = sqs.queue_arn(f"quarry-dev-{stage}", account=EXAMPLE_ACCOUNT)
        sender = "AROAQUARRYEVENTS:quarry"
        return sqs.event(sqs.record(b, arn=arn, sender=sender, now=now) for b in bodies)
    if kind == "schedule":
        return scheduled_event(rule_arn(rule), now)
    raise ConfigError(f"event kind {kind!r} is not one of {', '.join(KINDS)}")
