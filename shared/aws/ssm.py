"""Settings from SSM Parameter Store, read once per cold start: serverless.yml passes parameter
NAMES (QUARRY_SSM_PARAMETERS), so endpoints and secrets are never resolved at package time
and a rotated password is picked up by the next cold start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from shared.config import Settings
from shared.config_load import describe_errors
from shared.config_rules import SSM_RESOLVED
from shared.errors import ConfigError, UnavailableError

GET_PARAMETERS_MAX = 10  # names per GetParameters call


def parse_names(specs: tuple[str, ...]) -> dict[str, str]:
    """`setting=/parameter/name` pairs as {setting: name}; a malformed pair or an unknown
    setting is a ConfigError naming it."""
    names: dict[str, str] = {}
    for spec in specs:
        setting, sep, name = spec.partition("=")
        setting, name = setting.strip(), name.strip()
        if not sep or not setting or not name.startswith("/"):
            raise ConfigError(f"QUARRY_SSM_PARAMETERS: {spec!r} is not `setting=/parameter/name`")
        if setting not in Settings.model_fields or setting == "ssm_parameters":
            raise ConfigError(f"QUARRY_SSM_PARAMETERS: {setting!r} is not a setting")
        names[setting] = name
    return names


def resolve(settings: Settings, get_parameters: Callable[..., dict[str, Any]]) -> Settings:
    """Settings with every SSM-named setting replaced by its parameter's (decrypted) value.

    `get_parameters` is an SSM client's `get_parameters`; a missing parameter stops the cold
    start with a ConfigError listing the names, since running without them cannot work."""
    names = parse_names(settings.ssm_parameters)
    if not names:
        return settings
    wanted = sorted(set(names.values()))
    values: dict[str, str] = {}
    missing: list[str] = []
    for start in range(0, len(wanted), GET_PARAMETERS_MAX):
        chunk = wanted[start : start + GET_PARAMETERS_MAX]
        try:
            reply = get_parameters(Names=chunk, WithDecryption=True)
        except Exception as exc:  # botocore's errors are not importable without boto3
            raise UnavailableError(f"SSM Parameter Store is unreachable: {exc}") from exc
        values.update({p["Name"]: p["Value"] for p in reply.get("Parameters", [])})
        missing += reply.get("InvalidParameters", [])
    if missing:
        raise ConfigError(f"SSM parameters not found: {', '.join(sorted(missing))}")
    update = {setting: values[name] for setting, name in names.items()}
    try:
        merged = settings.model_dump() | update
        return Settings.model_validate(merged, context={SSM_RESOLVED: True})
    except ValidationError as exc:  # described with secrets and passwords redacted
        raise ConfigError(f"from SSM, {describe_errors(exc)}") from exc
