"""URL normalisation: one canonical spelling per page, so discovery can deduplicate."""

from __future__ import annotations

from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

HTTP_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMS = frozenset({"gclid", "fbclid", "mc_cid", "mc_eid"})
TRACKING_PREFIXES = ("utm_",)


def is_http_url(url: str) -> bool:
    """Say whether ``url`` is an absolute http(s) URL with a host; never raises."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # the property raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in HTTP_SCHEMES and bool(parts.hostname)


def normalize_url(url: str, base: str | None = None) -> str:
    """Return the canonical spelling of an http(s) URL, resolving it against ``base`` first.

    Two spellings of the same page must compare equal, so this:

    - resolves a relative ``url`` against ``base`` (RFC 3986 joining);
    - lowercases the scheme and host, and drops the port when it is the scheme's default
      (80 for http, 443 for https);
    - drops the fragment, which never reaches the server;
    - removes tracking parameters (``utm_*``, ``gclid``, ``fbclid``, ``mc_cid``, ``mc_eid``) and
      sorts the rest by name, keeping the order of repeated names and their original encoding;
    - turns an empty path into ``/``.

    Trailing slashes are kept exactly as given: ``/news`` and ``/news/`` may be different
    resources, and only the server can say whether they are the same. Userinfo and the path's
    percent-encoding are also left untouched.

    Raises ``ValueError`` when the result is not an absolute http(s) URL with a host.
    """
    text = url.strip()
    if not text:
        raise ValueError("cannot normalise an empty URL; expected an absolute http(s) URL")
    try:
        joined = urljoin(base.strip(), text) if base is not None else text
        parts = urlsplit(joined)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"cannot parse URL {url!r}: {exc}") from exc

    scheme = parts.scheme.lower()
    if not scheme:
        raise ValueError(
            f"URL {url!r} is relative; pass a base URL or give an absolute http(s) URL"
        )
    if scheme not in HTTP_SCHEMES:
        raise ValueError(f"unsupported URL scheme {scheme!r} in {url!r}; only http and https")
    host = parts.hostname
    if not host:
        raise ValueError(f"URL {url!r} has no host; expected http(s)://host/path")

    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    userinfo, sep, _ = parts.netloc.rpartition("@")
    if sep:
        netloc = f"{userinfo}@{netloc}"

    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


def _clean_query(query: str) -> str:
    """Drop tracking parameters and sort the rest by name, keeping their raw encoding."""
    kept: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name = unquote_plus(piece.partition("=")[0])
        if _is_tracking(name):
            continue
        kept.append((name, piece))
    kept.sort(key=lambda pair: pair[0])
    return "&".join(piece for _, piece in kept)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)
