"""Lambda events as AWS sends them, for `quarry events generate` and `quarry invoke`: API
Gateway REST (v1) and HTTP (v2) APIs, ALB, Lambda Function URLs, SQS batches and EventBridge
schedules. Routes are matched against serverless.yml, so route keys and path parameters are
the ones API Gateway would fill in."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from emulator.apigw import HttpRequest, to_event
from emulator.routing import Router
from emulator.table import Table
from shared.errors import ConfigError

HTTP_KINDS = ("apigw-v1", "apigw-v2", "alb", "function-url")
KINDS = (*HTTP_KINDS, "sqs", "schedule")
ACCOUNT = "123456789012"
REGION = "us-east-1"
API_ID = "quarrylocal"
URL_ID = "quarry4lambda4url4id4example"


@dataclass(frozen=True)
class Request:
    """What a client sent: method, path, query string, headers and body."""

    method: str = "GET"
    path: str = "/"
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    source_ip: str = "198.51.100.7"


def parse_header(text: str) -> tuple[str, str]:
    """`Name: value` as a pair; ConfigError when there is no colon or no name."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ConfigError(f"header {text!r} is not `Name: value`")
    return name.strip(), value.strip()


def with_client_headers(req: Request, kind: str) -> Request:
    """`req` with the headers a client and the AWS front door always add, unless given."""
    if kind not in HTTP_KINDS:
        return req
    host = {
        "apigw-v1": f"{API_ID}.execute-api.{REGION}.amazonaws.com",
        "apigw-v2": f"{API_ID}.execute-api.{REGION}.amazonaws.com",
        "function-url": f"{URL_ID}.lambda-url.{REGION}.on.aws",
        "alb": f"quarry-alb-1234567890.{REGION}.elb.amazonaws.com",
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
    return replace(req, headers=req.headers + extra)


def _route(table: Table | None, req: Request) -> tuple[str, str, dict[str, str]]:
    """(route key, resource path, path parameters) of the route serverless.yml gives `req`."""
    match = Router(table.http()).match(req.method, unquote(req.path)) if table else None
    if match is None:
        return "$default", req.path, {}
    return match.route.key, match.route.path, match.params


def _is_text(req: Request) -> bool:
    try:
        req.body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _body(req: Request) -> str | None:
    if not req.body:
        return None
    return req.body.decode() if _is_text(req) else base64.b64encode(req.body).decode()


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


# A REST API request's caller identity: null for an unauthenticated caller.
_IDENTITY = (
    "accessKey",
    "accountId",
    "caller",
    "cognitoAuthenticationProvider",
    "cognitoAuthenticationType",
    "cognitoIdentityId",
    "cognitoIdentityPoolId",
    "principalOrgId",
    "sourceIp",
    "user",
    "userAgent",
    "userArn",
)


def apigw_v1(req: Request, table: Table | None, now: datetime, request_id: str) -> dict[str, Any]:
    """A REST API (payload 1.0) Lambda proxy event."""
    _, resource, params = _route(table, req)
    headers = _multi([(k, v) for k, v in req.headers])
    query = _multi(parse_qsl(req.query, keep_blank_values=True))
    host = {k.lower(): v for k, v in req.headers}.get("host", f"{API_ID}.execute-api")
    return {
        "resource": resource,
        "path": req.path,
        "httpMethod": req.method,
        "headers": {k: v[-1] for k, v in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "extendedRequestId": request_id,
            "httpMethod": req.method,
            "identity": {
                **dict.fromkeys(_IDENTITY),
                "sourceIp": req.source_ip,
                "userAgent": dict(req.headers).get("User-Agent", ""),
            },
            "path": f"/prod{req.path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "qu4rry",
            "resourcePath": resource,
            "stage": "prod",
        },
        "body": _body(req),
        "isBase64Encoded": bool(req.body) and not _is_text(req),
    }


def apigw_v2(req: Request, table: Table | None, request_id: str) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event, built as the local gateway builds it."""
    route_key, _, params = _route(table, req)
    http = HttpRequest(
        req.method, req.path, req.query, list(req.headers), req.body, source_ip=req.source_ip
    )
    return to_event(http, route_key, params, request_id, api_id=API_ID)


def function_url(req: Request, request_id: str) -> dict[str, Any]:
    """A Lambda Function URL event: payload 2.0 with route key `$default`, no route match."""
    http = HttpRequest(
        req.method, req.path, req.query, list(req.headers), req.body, source_ip=req.source_ip
    )
    url_id = URL_ID
    event = to_event(
        http,
        "$default",
        {},
        request_id,
        api_id=url_id,
        domain=f"{url_id}.lambda-url.{REGION}.on.aws",
    )
    event["requestContext"]["accountId"] = "anonymous"
    return event


def alb(req: Request) -> dict[str, Any]:
    """An Application Load Balancer target event (multi-value headers off)."""
    target = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/quarry/73e2d6bc24d8a067"
    return {
        "requestContext": {"elb": {"targetGroupArn": target}},
        "httpMethod": req.method,
        "path": req.path,
        "queryStringParameters": dict(parse_qsl(req.query, keep_blank_values=True)),
        "headers": {k.lower(): v for k, v in req.headers},
        "body": _body(req) or "",
        "isBase64Encoded": bool(req.body) and not _is_text(req),
    }


def sqs(
    stage: str, bodies: list[str], now: datetime, *, service: str = "quarry", receive_count: int = 1
) -> dict[str, Any]:
    """An SQS batch as the stage's event source mapping delivers it, one record per body."""
    if not bodies:
        raise ConfigError("an SQS event needs at least one --body")
    millis = str(int(now.timestamp() * 1000))
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{service}-dev-{stage}"
    records = [
        {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": base64.b64encode(uuid.uuid4().bytes * 4).decode(),
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": str(receive_count),
                "SentTimestamp": millis,
                "SenderId": "AROAQUARRYEVENTS:quarry",
                "ApproximateFirstReceiveTimestamp": millis,
            },
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": REGION,
        }
        for body in bodies
    ]
    return {"Records": records}


def schedule(rule: str, now: datetime) -> dict[str, Any]:
    """An EventBridge scheduled event for the rule named `rule`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


def generate(
    kind: str,
    req: Request,
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
    if kind == "apigw-v1":
        return apigw_v1(req, table, now, request_id)
    if kind == "apigw-v2":
        return apigw_v2(req, table, request_id)
    if kind == "function-url":
        return function_url(req, request_id)
    if kind == "alb":
        return alb(req)
    if kind == "sqs":
        if table is not None and stage not in {f.name for f in table.stages()}:
            stages = ", ".join(f.name for f in table.stages())
            raise ConfigError(f"no stage {stage!r} in the function table; stages: {stages}")
        return sqs(stage, bodies or [], now)
    if kind == "schedule":
        return schedule(rule, now)
    raise ConfigError(f"event kind {kind!r} is not one of {', '.join(KINDS)}")
