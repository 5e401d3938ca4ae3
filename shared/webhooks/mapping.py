"""Per-source rule mapping a webhook payload to the URLs to process (pure).

A rule is a dotted path (`data.post.url`, list indexes as numbers) or a JSON pointer
(`/data/post/url`); it must lead to a URL or a list of URLs.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from shared.errors import PayloadError

MAX_URLS = 100
MAX_URL_LENGTH = 2048
_RULE = re.compile(r"^(/([^/]|~[01])*)+$|^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


def check_rule(rule: str) -> str:
    """The rule if well formed, else ValueError saying what is accepted."""
    if len(rule) > 500 or not _RULE.match(rule):
        raise ValueError(
            "urls_path must be a dotted path such as `data.post.url` or a JSON pointer such "
            "as `/data/post/url`"
        )
    return rule


def steps_of(rule: str) -> list[str]:
    if rule.startswith("/"):
        return [p.replace("~1", "/").replace("~0", "~") for p in rule[1:].split("/")]
    return rule.split(".")


def resolve(document: Any, rule: str) -> Any:
    """The value at `rule` in `document`, or PayloadError naming where the path stopped."""
    value = document
    walked: list[str] = []
    for step in steps_of(rule):
        walked.append(step)
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            raise PayloadError(f"payload has nothing at {'.'.join(walked)} (rule {rule!r})")
    return value


def is_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        return False
    if not value.isprintable() or any(c.isspace() for c in value):
        return False  # control characters and spaces: never a URL worth storing
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def urls_from(body: bytes, rule: str) -> list[str]:
    """The URLs a payload names under `rule`: one URL or a list of them, deduplicated in
    order; PayloadError (422) for a body that is not JSON or a value that is not URLs."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"payload is not JSON, so rule {rule!r} cannot apply") from exc
    found = resolve(document, rule)
    items = found if isinstance(found, list) else [found]
    if not items or len(items) > MAX_URLS:
        raise PayloadError(f"rule {rule!r} must name between 1 and {MAX_URLS} URLs")
    bad = [item for item in items if not is_url(item)]
    if bad:
        shown = json.dumps(bad[0])[:80]
        raise PayloadError(f"rule {rule!r} leads to {shown}, not an http(s) URL")
    return list(dict.fromkeys(str(item) for item in items))
