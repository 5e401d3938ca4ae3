"""The stack's own secrets: made by the first `quarry up`, kept in the state folder as files
of mode 0600, and reused by every later `quarry up`, so the data, the sealed webhook secrets
and the sessions stay readable across restarts.

Postgres (scram-sha-256) and both Redis servers get passwords, the instances a secret key of
their own (unless QUARRY_SECRET_KEY or quarry.toml sets one) and Alertmanager its token.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

FOLDER = "secrets"


def kept_secret(path: Path) -> str:
    """The secret kept in `path`, made (256 random bits, URL-safe) if it is missing or empty;
    the file is created with mode 0600 and no one else ever reads it."""
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            path.chmod(0o600)
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(value)
    path.chmod(0o600)
    return value


@dataclass(frozen=True)
class StackSecrets:
    secret_key: str
    postgres_password: str
    redis_password: str


def stack_secrets(state: Path) -> StackSecrets:
    """The stack's secrets in `state`/secrets/, made the first time."""
    folder = state / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return StackSecrets(
        secret_key=kept_secret(folder / "secret_key"),
        postgres_password=kept_secret(folder / "postgres_password"),
        redis_password=kept_secret(folder / "redis_password"),
    )
