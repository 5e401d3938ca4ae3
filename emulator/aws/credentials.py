"""Credentials of the local AWS, in an AWS shared-credentials file (INI, one profile each):
the emulator's own administrator, and each function's role session from STS AssumeRole."""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from shared.errors import ConfigError

ADMIN = "quarry-emulator"


@dataclass(frozen=True)
class Keys:
    access_key: str
    secret_key: str
    token: str = ""


def role_profile(function: str) -> str:
    """The profile holding `function`'s role session."""
    return f"function-{function}"


def write_profiles(path: Path, profiles: dict[str, Keys]) -> None:
    """Write the file readable by its owner only."""
    parser = configparser.ConfigParser()
    for name, keys in profiles.items():
        parser[name] = {
            "aws_access_key_id": keys.access_key,
            "aws_secret_access_key": keys.secret_key,
        }
        if keys.token:
            parser[name]["aws_session_token"] = keys.token
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        parser.write(out)
    partial.replace(path)


def read_profile(path: Path, name: str) -> Keys:
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise ConfigError(f"no credentials file {path}: the local AWS was not set up")
    if name not in parser:
        raise ConfigError(f"{path}: no profile {name!r}")
    section = parser[name]
    return Keys(
        section["aws_access_key_id"],
        section["aws_secret_access_key"],
        section.get("aws_session_token", ""),
    )
