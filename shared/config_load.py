"""Loading the settings: QUARRY_* variables over an optional quarry.toml, and the messages
that name each invalid key."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import SecretStr, ValidationError

from shared.config import Settings
from shared.errors import ConfigError
from shared.redaction import redact_text

PREFIX = "QUARRY_"


# Settings whose values are never shown, even when invalid (a too-short bootstrap key too).
SECRET_FIELDS = frozenset(
    name
    for name, field in Settings.model_fields.items()
    if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
)


def _coerce(name: str, raw: str) -> Any:
    """Environment values are strings; tuple fields take comma-separated lists."""
    field = Settings.model_fields[name]
    if get_origin(field.annotation) is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def load_settings(environ: Mapping[str, str], toml_path: Path | None = None) -> Settings:
    """Build Settings from a mapping of QUARRY_* variables over an optional TOML file.

    Unknown QUARRY_* keys and invalid values raise ConfigError naming the key, what was
    wrong and what is accepted, so start-up stops with a clear message.
    """
    values: dict[str, Any] = {}
    if toml_path is not None and toml_path.exists():
        try:
            table = tomllib.loads(toml_path.read_text()).get("quarry", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: not valid TOML: {exc}") from exc
        if not isinstance(table, dict):
            raise ConfigError(f"{toml_path}: `quarry` must be a table ([quarry]) of settings")
        values.update(table)
    for key, raw in environ.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :].lower()
        if name not in Settings.model_fields:
            known = ", ".join(PREFIX + n.upper() for n in Settings.model_fields)
            raise ConfigError(f"{key}: unknown setting; accepted settings are {known}")
        values[name] = _coerce(name, raw)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from exc


def describe_errors(exc: ValidationError) -> str:
    """One line per invalid key: the variable name, the problem and the accepted values."""
    lines = []
    for err in exc.errors():
        if not err["loc"]:  # the settings as a whole (see Settings._secure_outside_dev)
            lines.append(str(err["msg"]).removeprefix("Value error, "))
            continue
        name = str(err["loc"][0])  # a list's entry is named by its variable
        key = PREFIX + name.upper()
        given = err.get("input")
        if name in SECRET_FIELDS or "secret" in name or "password" in name:
            shown = "***"
        elif isinstance(given, str) and "://" in given:
            shown = repr(redact_text(given))  # e.g. a misspelled database_url key
        else:
            shown = repr(given)
        lines.append(f"{key}={shown}: {err['msg']}")
    return "invalid settings: " + "; ".join(lines)
