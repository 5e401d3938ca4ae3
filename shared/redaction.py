"""Secrets kept out of sight: settings shown with every secret replaced, URLs with their
password and secret query parameters hidden, and the list of secret values that tests and logs
check never leak."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, SecretStr

HIDDEN = "***"
# Query parameters that carry credentials (`?password=`, `?key=`, `?api_key=`, `?token=`,
# `?X-Amz-Signature=`...): matched on a word of the name, case-insensitively.
_SECRET_PARAM = re.compile(r"pass|pwd|key|token|secret|sig|auth|credential", re.IGNORECASE)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s,]+")


def _secret_params(query: str) -> list[str]:
    return [v for k, v in parse_qsl(query, keep_blank_values=True) if _SECRET_PARAM.search(k) and v]


def redact_url(url: str) -> str:
    """The URL with its password (if any) and its secret query parameters replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # a malformed port or bracket: show nothing after the scheme
        return url.split("://", 1)[0] + "://" + HIDDEN
    out = url
    if password:
        out = out.replace(f":{password}@", f":{HIDDEN}@", 1)
    if parts.query:
        query = "&".join(map(_redact_pair, parts.query.split("&")))
        out = out.replace(f"?{parts.query}", f"?{query}", 1)
    return out


def _redact_pair(pair: str) -> str:
    name, sep, value = pair.partition("=")
    return f"{name}={HIDDEN}" if sep and value and _SECRET_PARAM.search(name) else pair


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted (a fallback spec `name@https://...`, a list)."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def _shown(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else ""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, tuple):
        return tuple(_shown(v) for v in value)
    return value


def redacted(settings: BaseModel) -> dict[str, Any]:
    """Settings as plain values with every secret replaced, for `quarry config show`."""
    return {name: _shown(value) for name, value in settings.model_dump().items()}


def _url_secrets(text: str) -> list[str]:
    found: list[str] = []
    for match in _URL.finditer(text):
        try:
            parts = urlsplit(match.group(0))
            password = parts.password
        except ValueError:
            continue
        if password:
            found.append(password)
        found += _secret_params(parts.query)
    return found


def secret_values(settings: BaseModel) -> list[str]:
    """Every secret string in the settings, so tests and logs can check none leaks."""
    values = settings.model_dump().values()
    found = [v.get_secret_value() for v in values if isinstance(v, SecretStr)]
    for value in values:
        for text in value if isinstance(value, tuple) else (value,):
            if isinstance(text, str):
                found += _url_secrets(text)
    return [v for v in found if v]
