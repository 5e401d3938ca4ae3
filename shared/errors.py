"""The one error tree: every QuarryError knows its HTTP status and problem type.

QuarryError                 500  unexpected failure inside the platform
├── ConfigError             500  invalid settings or function table (stops start-up)
├── AccessDeniedError       500  the function's role does not allow an AWS call it makes
├── BadRequestError         400  malformed input, e.g. a tampered cursor
├── NotFoundError           404  no such source, run or document
├── ConflictError           409  state forbids the action (a source with an active run)
├── PayloadError            422  a message or body that fails validation
├── ThrottledError          429  concurrency or rate limit reached
└── UnavailableError        503  a dependency (queue, database) is down
"""

from __future__ import annotations

from typing import Any, ClassVar

from shared.problems import type_uri


class QuarryError(Exception):
    """Base of every error Quarry raises on purpose."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    slug: ClassVar[str] = "internal"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return type_uri(self.slug)


class ConfigError(QuarryError):
    title = "Invalid configuration"
    slug = "config"


class AccessDeniedError(QuarryError):
    """An AWS call the function's IAM role does not allow: a deployment mistake, never
    retried into success, so not an outage (UnavailableError)."""

    title = "Access denied"
    slug = "access-denied"


class BadRequestError(QuarryError):
    status = 400
    title = "Bad request"
    slug = "bad-request"


class NotFoundError(QuarryError):
    status = 404
    title = "Not found"
    slug = "not-found"


class ConflictError(QuarryError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PayloadError(QuarryError):
    status = 422
    title = "Unprocessable content"
    slug = "validation"


class ThrottledError(QuarryError):
    status = 429
    title = "Too many requests"
    slug = "throttled"


class UnavailableError(QuarryError):
    status = 503
    title = "Service unavailable"
    slug = "unavailable"
