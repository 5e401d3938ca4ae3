"""Settings: one typed configuration from QUARRY_* variables and an optional quarry.toml."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from shared.errors import ConfigError
from shared.redaction import redact_url

PREFIX = "QUARRY_"
PASSWORD_HASH = re.compile(
    r"^scrypt\$[0-9]{1,8}\$[0-9]{1,3}\$[0-9]{1,3}\$[A-Za-z0-9_-]{8,}\$[A-Za-z0-9_-]{16,}$"
)


class Settings(BaseModel):
    """Effective configuration of one process; built once at the boundary and passed in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Literal["dev", "stack", "lambda", "test"] = Field(
        "dev", description="Where this process runs: the embedded emulator, the stack, or Lambda."
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///.quarry/dev.db",
        description="SQLAlchemy URL of the writer (primary) database.",
    )
    database_reader_url: str | None = Field(
        None, description="SQLAlchemy URL of the read replica; unset reads from the writer."
    )
    replica_max_lag_s: float = Field(
        5.0,
        ge=0,
        description="Reads go to the primary while the read replica is further behind than "
        "this, in seconds (a client's own writes are always read back, whatever the lag).",
    )
    queue: Literal["memory", "redis", "sqs"] = Field(
        "memory",
        description="Dispatch between stages: Taskiq's in-process broker, Redis, or SQS "
        "(Lambda, and `quarry up --aws` against a local AWS emulator).",
    )
    redis_url: str | None = Field(None, description="Redis URL of the queue (stack only).")
    cache: Literal["memory", "redis"] = Field("memory", description="Cache backend.")
    cache_url: str | None = Field(None, description="Redis URL of the cache (stack only).")
    sqs_queue_prefix: str = Field(
        "quarry-dev-",
        pattern=r"^[A-Za-z0-9_-]{0,60}$",
        description="With QUARRY_QUEUE=sqs, a stage's queue is named this prefix and the stage "
        "(serverless.yml names them service-stage-name).",
    )
    ssm_parameters: tuple[str, ...] = Field(
        (),
        description="Settings read from SSM Parameter Store once per cold start, "
        "`setting=/parameter/name` comma-separated (Lambda: endpoints and secrets).",
    )
    aws_endpoint: str | None = Field(
        None,
        pattern=r"^[0-9A-Za-z.-]+:[0-9]{1,5}$",
        description="`host:port` of a local AWS emulator (moto, LocalStack) for SQS and SSM; "
        "unset talks to AWS.",
    )
    llm_provider: Literal["local", "ollama", "openai", "groq", "huggingface"] = Field(
        "local", description="LLM provider for the intelligence stage; `local` needs no network."
    )
    llm_model: str | None = Field(
        None, description="Model of llm_provider; unset uses the provider's default model."
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of llm_provider's API; unset uses the provider's own."
    )
    llm_api_key: SecretStr = Field(SecretStr(""), description="API key of llm_provider.")
    llm_fallback: tuple[str, ...] = Field(
        (),
        description="Providers tried in order when llm_provider fails, each "
        "`name[:model][@base_url]`, e.g. `openai:gpt-4o-mini,local`.",
    )
    llm_fallback_api_keys: SecretStr = Field(
        SecretStr(""),
        description="API keys of the fallback providers, `name=key` comma-separated; "
        "a key is only ever sent to the provider it is named for.",
    )
    llm_timeout_s: float = Field(
        20.0,
        gt=0,
        le=600,
        description="Longest one LLM call may take before it counts as failed (the intelligence "
        "function has 60 s a document; finished calls are cached, so a retry resumes).",
    )
    llm_max_retries: int = Field(
        2, ge=0, le=10, description="Retries of a failed LLM call (429 and 5xx, with backoff)."
    )
    llm_concurrency: int = Field(
        4, ge=1, le=256, description="LLM calls in flight at once per provider, per process."
    )
    llm_context_tokens: int = Field(
        8192,
        ge=512,
        le=2_000_000,
        description="Context size of the model; longer documents are chunked and the parts merged.",
    )
    llm_run_budget_tokens: int | None = Field(
        None, gt=0, description="Most LLM tokens one run may spend; unset is unlimited."
    )
    llm_run_budget_usd: float | None = Field(
        None,
        gt=0,
        description="Most estimated LLM cost in USD one run may spend; unset is unlimited.",
    )
    run_compute_budget_usd: float | None = Field(
        None,
        gt=0,
        description="Most estimated AWS cost in USD (Lambda compute and requests, SQS, logs; "
        "the LLM has its own budget) one run may spend: checked before each stage message "
        "against what the invocation ledger has written, so work in flight can pass it by a "
        "little; past it the run fails. Unset is unlimited.",
    )
    secret_key: SecretStr = Field(
        SecretStr("quarry-dev-secret-change-me"),
        description="Signs list cursors and CSRF tokens; set a long random value outside dev.",
    )
    fetch_allow_hosts: tuple[str, ...] = Field(
        (),
        description="Hosts (`name`, `name:port`) or CIDR networks the fetcher may reach even "
        "on loopback, private or other non-public addresses.",
    )
    fetch_timeout_s: float = Field(
        10.0, gt=0, le=120, description="Longest one page fetch may take, redirects included."
    )
    fetch_max_bytes: int = Field(
        10 * 1024 * 1024,
        gt=0,
        description="Largest response body the fetcher reads, in bytes once decompressed.",
    )
    user_agent: str = Field("QuarryBot/0.1 (+https://quarry.dev/bot)", description="Crawler UA.")
    retry_backoff_s: float = Field(
        0.5, ge=0, le=60, description="First retry delay of a failed stage message; doubles."
    )
    fetch_connect_timeout_s: float = Field(
        5.0, gt=0, le=120, description="Longest the fetcher waits to connect to a host."
    )
    fetch_read_timeout_s: float = Field(
        5.0, gt=0, le=120, description="Longest the fetcher waits for the next bytes of a page."
    )
    fetch_host_delay_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description="Least time between the end of one request to a host and the start of the "
        "next (a longer robots.txt Crawl-delay wins, up to 30 s).",
    )
    fetch_listed_host_delay_s: float = Field(
        0.0,
        ge=0,
        le=60,
        description="The same delay for hosts named in fetch_allow_hosts (your own dev and test "
        "sites), so the demo runs fast; one request at a time and Crawl-delay still apply.",
    )
    robots_cache_s: float = Field(
        86400.0,
        gt=0,
        le=86400,
        description="How long a site's robots.txt is kept before it is fetched again "
        "(at most 24 h).",
    )
    bind_host: str = Field(
        "127.0.0.1",
        pattern=r"^[0-9A-Za-z.:]+$",
        description="Address stack processes listen on; 0.0.0.0 in containers, loopback otherwise.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level."
    )
    alerts_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token Alertmanager presents to POST /api/v1/alerts; while unset, "
        "alerts are refused.",
    )
    dashboard_password_hash: SecretStr | None = Field(
        None,
        description="scrypt hash of the dashboard password (make one with `quarry hash-password`); "
        "unset leaves the dashboard open, with a banner saying so.",
    )
    api_auth: Literal["auto", "on", "off"] = Field(
        "auto",
        description="API keys required on /api/ (health and signed webhooks excepted): `auto` "
        "is off in dev and test, on in the stack and Lambda.",
    )
    bootstrap_api_key: SecretStr | None = Field(
        None,
        description="An admin API key accepted without a database row (kept only as its "
        "hash), to provision keys before any exist; at least 32 characters.",
        min_length=32,
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        gt=0,
        le=10 * 1024 * 1024,
        description="Largest request body the API accepts (413 beyond it), at the gateway "
        "and at nginx.",
    )
    rate_limit_per_s: float = Field(
        50.0,
        ge=0,
        description="API requests per second allowed per API key (or per client address "
        "without one), as a token bucket; 0 turns rate limiting off.",
    )
    rate_limit_burst: int = Field(
        100, ge=1, description="Requests a key or address may make at once before the rate applies."
    )

    @field_validator("dashboard_password_hash")
    @classmethod
    def _password_hash(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not PASSWORD_HASH.match(value.get_secret_value()):
            raise ValueError(
                "not a password hash; expected scrypt$N$r$p$salt$hash as printed by "
                "`quarry hash-password`"
            )
        return value


def _coerce(name: str, raw: str) -> Any:
    """Environment values are strings; tuple fields take comma-separated lists."""
    field = Settings.model_fields[name]
    if field.annotation == tuple[str, ...]:
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
        name = ".".join(str(p) for p in err["loc"])
        key = PREFIX + name.upper()
        given = err.get("input")
        if "secret" in name or "password" in name:
            shown = "***"
        elif isinstance(given, str) and "://" in given and "@" in given:
            shown = repr(redact_url(given))  # e.g. a misspelled database_url key
        else:
            shown = repr(given)
        lines.append(f"{key}={shown}: {err['msg']}")
    return "invalid settings: " + "; ".join(lines)
