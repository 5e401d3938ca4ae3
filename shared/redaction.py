"""Secrets kept out of sight: settings shown with every secret replaced, URLs with their
password hidden, and the list of secret values that tests and logs check never leak."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr


def redact_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def redacted(settings: BaseModel) -> dict[str, Any]:
    """Settings as plain values with every secret replaced, for `quarry config show`."""
    out: dict[str, Any] = {}
    for name, value in settings.model_dump().items():
        if isinstance(value, SecretStr):
            out[name] = "**********" if value.get_secret_value() else ""
        elif isinstance(value, str) and "://" in value and "@" in value:
            out[name] = redact_url(value)
        else:
            out[name] = value
    return out


def secret_values(settings: BaseModel) -> list[str]:
    """Every secret string in the settings, so tests and logs can check none leaks."""
    found = [
        v.get_secret_value() for v in settings.model_dump().values() if isinstance(v, SecretStr)
    ]
    for value in settings.model_dump().values():
        if isinstance(value, str) and "://" in value and "@" in value:
            password = urlsplit(value).password
            if password:
                found.append(password)
    return [v for v in found if v]
