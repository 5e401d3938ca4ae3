"""Settings: one typed configuration of a process, from QUARRY_* variables and an optional
quarry.toml (shared.config_load reads them; shared.config_rules holds the rules they obey)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.config_rules import (
    DEV_SECRET_KEY,
    SSM_RESOLVED,
    Insecurity,
    check_bootstrap_key,
    check_networks,
    check_password_hash,
    check_secure,
)

# The drivers the application's async Postgres engines may use (shared.db.urls derives the URLs).
PgDriver = Literal["asyncpg", "psycopg"]


class Settings(BaseModel):
    """Effective configuration of one process; built once at the boundary and passed in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Literal["dev", "stack", "lambda", "test"] = Field(
        "dev", description="Where this process runs: the embedded emulator, the stack, or Lambda."
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///.quarry/dev.db",
        description="URL of the writer (primary) database: `postgresql://...` or "
        "`sqlite+aiosqlite:///...`.",
    )
    database_reader_url: str | None = Field(
        None, description="URL of the read replica; unset reads from the writer."
    )
    replica_max_lag_s: float = Field(
        5.0,
        ge=0,
        description="Reads go to the primary while the read replica is further behind than "
        "this, in seconds (a client's own writes are always read back, whatever the lag).",
    )
    pg_driver: PgDriver = Field(
        "asyncpg",
        description="Driver of the application's Postgres engines: asyncpg, or psycopg (which "
        "migrations use in any case). The database URLs name the server, not the driver.",
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
    llm_run_budget_tokens: int = Field(
        2_000_000,
        gt=0,
        description="Most LLM tokens one run may spend (the offline default spends none); "
        "past it, the run's remaining documents are marked budget_exceeded.",
    )
    llm_run_budget_usd: float = Field(
        5.0,
        gt=0,
        description="Most estimated LLM cost in USD one run may spend (prices from "
        "shared/llm/prices.toml).",
    )
    max_active_runs_per_source: int = Field(
        4,
        ge=1,
        le=1000,
        description="Runs of one source that may be queued or running at once; one more is "
        "refused with 409 until one finishes or is cancelled.",
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
        SecretStr(DEV_SECRET_KEY),
        description="Signs list cursors and CSRF tokens and seals webhook secrets; outside "
        "dev and test, at least 32 random bytes (`quarry up` makes one).",
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
    trusted_proxies: tuple[str, ...] = Field(
        ("127.0.0.1/32", "::1/128"),
        description="Addresses or CIDR networks of proxies (the stack's nginx) whose "
        "X-Forwarded-For is believed: the client is the last address they did not add.",
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
        "required outside dev and test, where unset leaves the dashboard open (with a banner).",
    )
    insecure_allow: tuple[Insecurity, ...] = Field(
        (),
        description="Insecure settings allowed outside dev and test anyway, on purpose: "
        "`open-dashboard` (no dashboard password), `weak-secret-key` (the development or a "
        "short secret key).",
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

    @model_validator(mode="after")
    def _secure_outside_dev(self, info: ValidationInfo) -> Settings:
        check_secure(self, resolved=bool(info.context and info.context.get(SSM_RESOLVED)))
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_networks(value)

    @field_validator("bootstrap_api_key")
    @classmethod
    def _bootstrap_key(cls, value: SecretStr | None) -> SecretStr | None:
        return check_bootstrap_key(value)

    @field_validator("dashboard_password_hash")
    @classmethod
    def _password_hash(cls, value: SecretStr | None) -> SecretStr | None:
        return check_password_hash(value)
