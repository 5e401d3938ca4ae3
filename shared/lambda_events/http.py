"""HTTP events and results: API Gateway REST (v1) and HTTP (v2) APIs, ALB and Function URL
requests as AWS hands them to a function, what a function answers (a proxy result), and the
readers the docs function and the local gateway use."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from shared.lambda_events.arns import EXAMPLE_ACCOUNT, REGION, arn

API_ID = "quarrylocal"
URL_ID = "quarry4lambda4url4id4example"
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/problem+json",
    "application/javascript",
)


@dataclass(frozen=True)
class HttpRequest:
    """What a client sent: method, path as sent (percent-encoded), query string, headers,
    body and the address it came from."""

    method: str = "GET"
    raw_path: str = "/"
    query: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"


def is_text(content_type: str, body: bytes) -> bool:
    """Whether API Gateway passes `body` as text (else base64) for this content type."""
    if not body:
        return True
    return any(content_type.startswith(t) for t in TEXT_TYPES) and _is_utf8(body)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _body(req: HttpRequest) -> str | None:
    if not req.body:
        return None
    return req.body.decode() if _is_utf8(req.body) else base64.b64encode(req.body).decode()


def apigw_v2(
    req: HttpRequest,
    route_key: str,
    params: dict[str, str],
    request_id: str,
    *,
    api_id: str = "quarrylocal",
    domain: str = "localhost",
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event: what API Gateway hands the function for `req`."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in req.headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(req.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    text = is_text(headers.get("content-type", ""), req.body)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": req.raw_path,
        "rawQueryString": req.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": api_id,
            "domainName": headers.get("host", domain),
            "domainPrefix": headers.get("host", domain).split(".")[0],
            "http": {
                "method": req.method,
                "path": unquote(req.raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": req.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if req.body:
        event["body"] = req.body.decode() if text else base64.b64encode(req.body).decode()
    return event


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


def apigw_v1(
    req: HttpRequest, resource: str, params: dict[str, str], request_id: str, now: datetime
) -> dict[str, Any]:
    """A REST API (payload 1.0) Lambda proxy event for `req`, routed to `resource`."""
    headers = _multi([(k, v) for k, v in req.headers])
    query = _multi(parse_qsl(req.query, keep_blank_values=True))
    host = {k.lower(): v for k, v in req.headers}.get("host", f"{API_ID}.execute-api")
    return {
        "resource": resource,
        "path": req.raw_path,
        "httpMethod": req.method,
        "headers": {k: v[-1] for k, v in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": EXAMPLE_ACCOUNT,
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
            "path": f"/prod{req.raw_path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "qu4rry",
            "resourcePath": resource,
            "stage": "prod",
        },
        "body": _body(req),
        "isBase64Encoded": bool(req.body) and not _is_utf8(req.body),
    }


def function_url(req: HttpRequest, request_id: str) -> dict[str, Any]:
    """A Lambda Function URL event: payload 2.0 with route key `$default`, no route match."""
    url_id = URL_ID
    event = apigw_v2(
        req,
        "$default",
        {},
        request_id,
        api_id=url_id,
        domain=f"{url_id}.lambda-url.{REGION}.on.aws",
    )
    event["requestContext"]["accountId"] = "anonymous"
    return event


def alb(req: HttpRequest) -> dict[str, Any]:
    """An Application Load Balancer target event (multi-value headers off)."""
    target = arn(
        "elasticloadbalancing", "targetgroup/quarry/73e2d6bc24d8a067", account=EXAMPLE_ACCOUNT
    )
    return {
        "requestContext": {"elb": {"targetGroupArn": target}},
        "httpMethod": req.method,
        "path": req.raw_path,
        "queryStringParameters": dict(parse_qsl(req.query, keep_blank_values=True)),
        "headers": {k.lower(): v for k, v in req.headers},
        "body": _body(req) or "",
        "isBase64Encoded": bool(req.body) and not _is_utf8(req.body),
    }


def method_of(event: Mapping[str, Any]) -> str:
    """The request method of an HTTP API (v2), REST API (v1), ALB or Function URL event."""
    context = event.get("requestContext") or {}
    http = context.get("http") if isinstance(context, dict) else None
    if isinstance(http, dict) and isinstance(http.get("method"), str):
        return str(http["method"]).upper()
    return str(event.get("httpMethod") or "GET").upper()


def path_of(event: Mapping[str, Any]) -> str:
    """The request path of an HTTP API (v2), REST API (v1), ALB or Function URL event."""
    context = event.get("requestContext") or {}
    http = context.get("http") if isinstance(context, dict) else None
    if isinstance(http, dict) and isinstance(http.get("path"), str):
        return str(http["path"])
    return str(event.get("rawPath") or event.get("path") or "")


def result(
    status: int, body: bytes | str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A function's proxy result; a body that is not UTF-8 text goes base64-encoded."""
    data = body.encode() if isinstance(body, str) else body
    text = _is_utf8(data)
    return {
        "statusCode": status,
        "headers": dict(headers or {}),
        "body": data.decode() if text else base64.b64encode(data).decode(),
        "isBase64Encoded": not text,
    }


def from_result(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a payload-2.0 handler result, as API Gateway reads it."""
    if not isinstance(result, dict) or "statusCode" not in result:
        text = result if isinstance(result, str) else json.dumps(result)
        return 200, [("content-type", "application/json")], text.encode()
    headers = [(k.lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("set-cookie", c) for c in result.get("cookies") or []]
    raw = result.get("body") or ""
    data = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, data
