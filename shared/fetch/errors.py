"""Why a fetch produced no page: one FetchError subclass per outcome, each naming it."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from shared.errors import QuarryError

Outcome = Literal[
    "blocked",
    "too_large",
    "timeout",
    "http_error",
    "robots_disallowed",
    "unsupported_type",
    "unreachable",
]


class FetchError(QuarryError):
    """A page could not be fetched; `outcome` says why in one word, `detail` in a sentence."""

    status = 502
    title = "Fetch failed"
    slug = "fetch"
    outcome: ClassVar[Outcome] = "http_error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, outcome=self.outcome, **extra)


class RefusedError(FetchError):
    """The URL points somewhere the fetcher must never go (scheme, address or host)."""

    title = "Fetch refused"
    slug = "fetch-refused"
    outcome = "blocked"


class RobotsDisallowedError(FetchError):
    """The site's robots.txt does not let this crawler fetch the URL."""

    title = "Disallowed by robots.txt"
    slug = "fetch-robots"
    outcome = "robots_disallowed"


class TooLargeError(FetchError):
    """The body, once decompressed, passed the size cap."""

    title = "Response too large"
    slug = "fetch-too-large"
    outcome = "too_large"


class FetchTimeoutError(FetchError):
    """Connecting, waiting for bytes or the whole fetch took longer than allowed."""

    status = 504
    title = "Fetch timed out"
    slug = "fetch-timeout"
    outcome = "timeout"


class UnsupportedTypeError(FetchError):
    """The response's content type or content encoding is not one the caller accepts."""

    title = "Unsupported content type"
    slug = "fetch-unsupported-type"
    outcome = "unsupported_type"


class UnreachableError(FetchError):
    """The host did not resolve, or no address of it accepted a connection."""

    title = "Host unreachable"
    slug = "fetch-unreachable"
    outcome = "unreachable"
