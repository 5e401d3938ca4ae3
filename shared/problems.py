"""Problem documents (RFC 9457): the one builder of every error body Quarry answers with.

The HTTP functions, the auth gate, the local gateway, the docs function and nginx's own
answers build their bodies here, so one status has one type URI and one title everywhere.
Standard library only: the docs function, which ships without the dependencies layer, uses it.
"""

from __future__ import annotations

import json
from typing import Any

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://quarry.dev/problems/"

# status: (slug of the type URI, title)
KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Content too large"),
    422: ("validation", "Unprocessable content"),
    429: ("throttled", "Too many requests"),
    500: ("internal", "Internal error"),
    502: ("bad-gateway", "Bad gateway"),
    503: ("unavailable", "Service unavailable"),
    504: ("timeout", "Gateway timeout"),
}


def type_uri(slug: str) -> str:
    return TYPE_BASE + slug


def slug_of(status: int) -> str:
    return KINDS.get(status, (str(status), ""))[0]


def title_of(status: int) -> str:
    return KINDS.get(status, ("", "Error"))[1]


def problem(
    status: int,
    detail: str,
    request_id: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A problem document; the type and title follow the status unless an error names its own
    (a QuarryError's slug and title, e.g. `login-required`)."""
    body: dict[str, Any] = {
        "type": type_uri(slug or slug_of(status)),
        "title": title or title_of(status),
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
    body.update(extra)
    return body


def problem_bytes(status: int, detail: str, request_id: str, **extra: Any) -> bytes:
    """The document as the bytes of a response body."""
    return json.dumps(problem(status, detail, request_id, **extra)).encode()
