"""Webhook secrets at rest: encrypted with a key derived from QUARRY_SECRET_KEY (Fernet).

HMAC needs the secret itself, so it cannot be hashed; changing QUARRY_SECRET_KEY makes the
stored secrets unreadable and they must be set again.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from shared.errors import ConfigError


def _fernet(secret_key: SecretStr) -> Fernet:
    digest = hashlib.sha256(b"quarry-webhook-secrets\0" + secret_key.get_secret_value().encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def seal(secret_key: SecretStr, secrets: list[str]) -> str:
    """Encrypt a list of secrets for a database column."""
    return _fernet(secret_key).encrypt(json.dumps(secrets).encode()).decode()


def unseal(secret_key: SecretStr, sealed: str) -> list[str]:
    """The secrets back; ConfigError when QUARRY_SECRET_KEY changed since they were sealed."""
    try:
        value = json.loads(_fernet(secret_key).decrypt(sealed.encode()))
    except (InvalidToken, ValueError) as exc:
        raise ConfigError(
            "stored webhook secrets cannot be decrypted: QUARRY_SECRET_KEY changed since they "
            "were set; set the webhook secrets again"
        ) from exc
    return [str(v) for v in value]
