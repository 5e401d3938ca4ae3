"""The rules the settings are checked by: secure outside dev, and the values some settings
must have (networks, API keys, password hashes)."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

if TYPE_CHECKING:
    from shared.config import Settings

DEV_SECRET_KEY = "quarry-dev-secret-change-me"
MIN_SECRET_KEY_BYTES = 32
# Environments that face other people: start-up refuses insecure settings there.
GUARDED_ENVS = ("stack", "lambda")
Insecurity = Literal["open-dashboard", "weak-secret-key"]
SSM_RESOLVED = "ssm_resolved"
PASSWORD_HASH = re.compile(
    r"^scrypt\$[0-9]{1,8}\$[0-9]{1,3}\$[0-9]{1,3}\$[A-Za-z0-9_-]{8,}\$[A-Za-z0-9_-]{16,}$"
)


def check_secure(settings: Settings, resolved: bool) -> None:
    """Outside dev and test, refuse what would leave the deployment open. Settings that
    SSM provides are checked once read from it (`resolved`): shared.aws.ssm.resolve validates
    again with the context SSM_RESOLVED."""
    if settings.env not in GUARDED_ENVS:
        return
    from_ssm = set() if resolved else {s.partition("=")[0].strip() for s in settings.ssm_parameters}
    problems = []
    key = settings.secret_key.get_secret_value()
    weak = key == DEV_SECRET_KEY or len(key.encode()) < MIN_SECRET_KEY_BYTES
    if weak and "secret_key" not in from_ssm and "weak-secret-key" not in settings.insecure_allow:
        what = "the development value" if key == DEV_SECRET_KEY else "too short"
        problems.append(
            f"QUARRY_SECRET_KEY is {what}: outside dev it must be at least "
            f"{MIN_SECRET_KEY_BYTES} bytes of randomness (python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'), or anyone can forge what it signs"
        )
    if (
        settings.dashboard_password_hash is None
        and "dashboard_password_hash" not in from_ssm
        and "open-dashboard" not in settings.insecure_allow
    ):
        problems.append(
            "QUARRY_DASHBOARD_PASSWORD_HASH is unset, which leaves the dashboard open to "
            "anyone who reaches it: set it to the output of `quarry hash-password`, or "
            "QUARRY_INSECURE_ALLOW=open-dashboard to leave it open on purpose"
        )
    if problems:
        raise ValueError(f"refusing to start as QUARRY_ENV={settings.env}: " + "; ".join(problems))


def check_networks(value: tuple[str, ...]) -> tuple[str, ...]:
    for net in value:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError as exc:
            raise ValueError(f"{net!r} is not an address or CIDR network") from exc
    return value


def check_bootstrap_key(value: SecretStr | None) -> SecretStr | None:
    if value is not None and len(value.get_secret_value()) < 32:
        raise ValueError(
            "an API key must be at least 32 characters; make one with "
            "`python3 -c 'import secrets; print(\"qk_\" + secrets.token_urlsafe(32))'`"
        )
    return value


def check_password_hash(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not PASSWORD_HASH.match(value.get_secret_value()):
        raise ValueError(
            "not a password hash; expected scrypt$N$r$p$salt$hash as printed by "
            "`quarry hash-password`"
        )
    return value
