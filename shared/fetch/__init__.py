"""The safe fetcher every stage uses: http(s) only, checked addresses, bounded size and time.

Every way a fetch can fail is one exception, each with an `outcome` word that is recorded on
the document:

FetchError               http_error         protocol error, too many redirects, bad encoding
├── RefusedError          blocked            non-http(s) URL, or an address that is loopback,
│                                            private, link-local, CGNAT, multicast,
│                                            unspecified, metadata or reserved (in any spelling)
├── RobotsDisallowedError robots_disallowed  the site's robots.txt forbids the URL
├── TooLargeError         too_large          the decoded body passed the cap
├── FetchTimeoutError     timeout            connect, read or total time ran out
├── UnsupportedTypeError  unsupported_type   content type or encoding the caller did not accept
└── UnreachableError      unreachable        the name did not resolve, or no address answered
"""

from shared.fetch.errors import (
    FetchError,
    FetchTimeoutError,
    Outcome,
    RefusedError,
    RobotsDisallowedError,
    TooLargeError,
    UnreachableError,
    UnsupportedTypeError,
)
from shared.fetch.fetcher import MAX_REDIRECTS, PAGE_TYPES, HttpFetcher
from shared.fetch.resolve import Resolver, StaticResolver, SystemResolver

__all__ = [
    "MAX_REDIRECTS",
    "PAGE_TYPES",
    "FetchError",
    "FetchTimeoutError",
    "HttpFetcher",
    "Outcome",
    "RefusedError",
    "Resolver",
    "RobotsDisallowedError",
    "StaticResolver",
    "SystemResolver",
    "TooLargeError",
    "UnreachableError",
    "UnsupportedTypeError",
]
