"""Settings: defaults, QUARRY_* variables over quarry.toml, clear refusals, and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.config import Settings
from shared.config_load import load_settings
from shared.config_rules import SSM_RESOLVED
from shared.errors import ConfigError
from shared.redaction import redacted, secret_values

ACCEPTED = (
    "QUARRY_ENV, QUARRY_DATABASE_URL, QUARRY_DATABASE_READER_URL, QUARRY_REPLICA_MAX_LAG_S, "
    "QUARRY_PG_DRIVER, QUARRY_QUEUE, QUARRY_REDIS_URL, QUARRY_CACHE, QUARRY_CACHE_URL, "
    "QUARRY_SQS_QUEUE_PREFIX, "
    "QUARRY_SSM_PARAMETERS, QUARRY_AWS_ENDPOINT, QUARRY_LLM_PROVIDER, "
    "QUARRY_LLM_MODEL, QUARRY_LLM_BASE_URL, QUARRY_LLM_API_KEY, QUARRY_LLM_FALLBACK, "
    "QUARRY_LLM_FALLBACK_API_KEYS, QUARRY_LLM_TIMEOUT_S, QUARRY_LLM_MAX_RETRIES, "
    "QUARRY_LLM_CONCURRENCY, QUARRY_LLM_CONTEXT_TOKENS, QUARRY_LLM_RUN_BUDGET_TOKENS, "
    "QUARRY_LLM_RUN_BUDGET_USD, QUARRY_MAX_ACTIVE_RUNS_PER_SOURCE, QUARRY_RUN_COMPUTE_BUDGET_USD, "
    "QUARRY_SECRET_KEY, "
    "QUARRY_FETCH_ALLOW_HOSTS, QUARRY_FETCH_TIMEOUT_S, QUARRY_FETCH_MAX_BYTES, QUARRY_USER_AGENT, "
    "QUARRY_RETRY_BACKOFF_S, QUARRY_FETCH_CONNECT_TIMEOUT_S, QUARRY_FETCH_READ_TIMEOUT_S, "
    "QUARRY_FETCH_HOST_DELAY_S, QUARRY_FETCH_LISTED_HOST_DELAY_S, QUARRY_ROBOTS_CACHE_S, "
    "QUARRY_TRUSTED_PROXIES, QUARRY_BIND_HOST, QUARRY_LOG_LEVEL, QUARRY_ALERTS_TOKEN, "
    "QUARRY_DASHBOARD_PASSWORD_HASH, QUARRY_INSECURE_ALLOW, "
    "QUARRY_API_AUTH, QUARRY_BOOTSTRAP_API_KEY, QUARRY_MAX_BODY_BYTES, QUARRY_RATE_LIMIT_PER_S, "
    "QUARRY_RATE_LIMIT_BURST"
)
STRONG = "k" * 32
HASH = "scrypt$16384$8$1$MDEyMzQ1Njc4OWFiY2RlZg$" + "A" * 43
DEFAULTS = {
    "env": "dev",
    "database_url": "sqlite+aiosqlite:///.quarry/dev.db",
    "database_reader_url": None,
    "replica_max_lag_s": 5.0,
    "pg_driver": "asyncpg",
    "queue": "memory",
    "redis_url": None,
    "cache": "memory",
    "cache_url": None,
    "sqs_queue_prefix": "quarry-dev-",
    "ssm_parameters": (),
    "aws_endpoint": None,
    "llm_provider": "local",
    "llm_model": None,
    "llm_base_url": None,
    "llm_api_key": "",
    "llm_fallback": (),
    "llm_fallback_api_keys": "",
    "llm_timeout_s": 20.0,
    "llm_max_retries": 2,
    "llm_concurrency": 4,
    "llm_context_tokens": 8192,
    "llm_run_budget_tokens": 2_000_000,
    "llm_run_budget_usd": 5.0,
    "max_active_runs_per_source": 4,
    "run_compute_budget_usd": None,
    "secret_key": "**********",
    "fetch_allow_hosts": (),
    "fetch_timeout_s": 10.0,
    "fetch_max_bytes": 10 * 1024 * 1024,
    "user_agent": "QuarryBot/0.1 (+https://quarry.dev/bot)",
    "retry_backoff_s": 0.5,
    "fetch_connect_timeout_s": 5.0,
    "fetch_read_timeout_s": 5.0,
    "fetch_host_delay_s": 1.0,
    "fetch_listed_host_delay_s": 0.0,
    "robots_cache_s": 86400.0,
    "trusted_proxies": ("127.0.0.1/32", "::1/128"),
    "bind_host": "127.0.0.1",
    "log_level": "INFO",
    "alerts_token": "",
    "dashboard_password_hash": None,
    "insecure_allow": (),
    "api_auth": "auto",
    "bootstrap_api_key": None,
    "max_body_bytes": 1024 * 1024,
    "rate_limit_per_s": 50.0,
    "rate_limit_burst": 100,
}


def refusal(environ: dict[str, str], toml_path: Path | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(environ, toml_path)
    return str(info.value)


def test_settings_defaults_load_from_an_empty_mapping() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert redacted(settings) == DEFAULTS
    assert settings.secret_key.get_secret_value() == "quarry-dev-secret-change-me"


def test_settings_run_budget_is_finite_by_default() -> None:
    settings = Settings()
    assert (settings.llm_run_budget_tokens, settings.llm_run_budget_usd) == (2_000_000, 5.0)
    assert "unlimited" not in refusal({"QUARRY_LLM_RUN_BUDGET_TOKENS": ""})


def test_settings_ignore_variables_without_the_prefix() -> None:
    assert load_settings({"HOME": "/root", "PATH": "/bin", "quarry_env": "test"}) == Settings()


def test_settings_read_every_kind_of_variable() -> None:
    settings = load_settings(
        {
            "QUARRY_ENV": "stack",
            "QUARRY_SECRET_KEY": STRONG,
            "QUARRY_DASHBOARD_PASSWORD_HASH": HASH,
            "QUARRY_QUEUE": "redis",
            "QUARRY_REDIS_URL": "redis://redis:6379/0",
            "QUARRY_FETCH_ALLOW_HOSTS": " sites.test, 127.0.0.1 ,,",
            "QUARRY_FETCH_TIMEOUT_S": "2.5",
            "QUARRY_FETCH_MAX_BYTES": "1024",
            "QUARRY_LOG_LEVEL": "DEBUG",
        }
    )
    assert redacted(settings) == {
        **DEFAULTS,
        "env": "stack",
        "dashboard_password_hash": "**********",
        "queue": "redis",
        "redis_url": "redis://redis:6379/0",
        "fetch_allow_hosts": ("sites.test", "127.0.0.1"),
        "fetch_timeout_s": 2.5,
        "fetch_max_bytes": 1024,
        "log_level": "DEBUG",
    }


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"QUARRY_FETCH_TIMEOUT_S": "abc"},
            "invalid settings: QUARRY_FETCH_TIMEOUT_S='abc': "
            "Input should be a valid number, unable to parse string as a number",
        ),
        (
            {"QUARRY_FETCH_TIMEOUT_S": "0"},
            "invalid settings: QUARRY_FETCH_TIMEOUT_S='0': Input should be greater than 0",
        ),
        (
            {"QUARRY_FETCH_TIMEOUT_S": "121"},
            "invalid settings: QUARRY_FETCH_TIMEOUT_S='121': "
            "Input should be less than or equal to 120",
        ),
        (
            {"QUARRY_FETCH_MAX_BYTES": "1.5"},
            "invalid settings: QUARRY_FETCH_MAX_BYTES='1.5': "
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"QUARRY_QUEUE": "kafka"},
            "invalid settings: QUARRY_QUEUE='kafka': Input should be 'memory', 'redis' or 'sqs'",
        ),
        (
            {"QUARRY_LOG_LEVEL": "LOUD"},
            "invalid settings: QUARRY_LOG_LEVEL='LOUD': "
            "Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'",
        ),
        (
            {"QUARRY_ENV": "prod"},
            "invalid settings: QUARRY_ENV='prod': "
            "Input should be 'dev', 'stack', 'lambda' or 'test'",
        ),
        (
            {"QUARRY_QUEUE": "kafka", "QUARRY_CACHE": "memcached"},
            "invalid settings: QUARRY_QUEUE='kafka': Input should be 'memory', 'redis' or "
            "'sqs'; "
            "QUARRY_CACHE='memcached': Input should be 'memory' or 'redis'",
        ),
    ],
)
def test_settings_invalid_value_names_variable_and_accepted(
    environ: dict[str, str], message: str
) -> None:
    assert refusal(environ) == message


def test_settings_unknown_key_names_accepted_keys() -> None:
    assert refusal({"QUARRY_QUEUE_URL": "redis://x"}) == (
        f"QUARRY_QUEUE_URL: unknown setting; accepted settings are {ACCEPTED}"
    )


def test_settings_toml_is_read_and_env_overrides_it(tmp_path: Path) -> None:
    toml = tmp_path / "quarry.toml"
    toml.write_text(
        "[quarry]\n"
        'queue = "redis"\n'
        'redis_url = "redis://redis:6379/0"\n'
        'log_level = "DEBUG"\n'
        "fetch_timeout_s = 5\n"
        'fetch_allow_hosts = ["sites.test"]\n'
        "\n[other]\n"
        'queue = "ignored"\n'
    )
    settings = load_settings({"QUARRY_LOG_LEVEL": "WARNING"}, toml)
    assert redacted(settings) == {
        **DEFAULTS,
        "queue": "redis",
        "redis_url": "redis://redis:6379/0",
        "log_level": "WARNING",
        "fetch_timeout_s": 5.0,
        "fetch_allow_hosts": ("sites.test",),
    }


def test_settings_missing_toml_file_is_defaults(tmp_path: Path) -> None:
    assert load_settings({}, tmp_path / "quarry.toml") == Settings()


def test_settings_invalid_toml_names_the_file(tmp_path: Path) -> None:
    toml = tmp_path / "quarry.toml"
    toml.write_text("[quarry]\nqueue = redis\n")
    assert refusal({}, toml).startswith(f"{toml}: not valid TOML: ")


def test_settings_toml_quarry_not_a_table_names_the_file(tmp_path: Path) -> None:
    toml = tmp_path / "quarry.toml"
    toml.write_text('quarry = "redis"\n')
    assert refusal({}, toml) == f"{toml}: `quarry` must be a table ([quarry]) of settings"


def test_settings_invalid_toml_value_names_the_variable(tmp_path: Path) -> None:
    toml = tmp_path / "quarry.toml"
    toml.write_text('[quarry]\nqueue = "kafka"\n')
    assert refusal({}, toml) == (
        "invalid settings: QUARRY_QUEUE='kafka': Input should be 'memory', 'redis' or 'sqs'"
    )


def test_settings_redacted_hides_secret_and_database_passwords() -> None:
    settings = load_settings(
        {
            "QUARRY_SECRET_KEY": "s3cr3t-signing-key-0123456789",
            "QUARRY_DATABASE_URL": "postgresql://quarry:hunter2@db:5432/quarry",
            "QUARRY_DATABASE_READER_URL": "postgresql://reader:tr0ub4dor@replica/quarry",
            "QUARRY_CACHE_URL": "redis://:r3dis-pw@cache:6379/1",
        }
    )
    shown = redacted(settings)
    assert shown == {
        **DEFAULTS,
        "database_url": "postgresql://quarry:***@db:5432/quarry",
        "database_reader_url": "postgresql://reader:***@replica/quarry",
        "cache_url": "redis://:***@cache:6379/1",
    }
    assert secret_values(settings) == [
        "s3cr3t-signing-key-0123456789",
        "hunter2",
        "tr0ub4dor",
        "r3dis-pw",
    ]
    assert not [v for v in secret_values(settings) if v in repr(shown)]


def test_settings_invalid_secret_is_not_in_the_message(tmp_path: Path) -> None:
    toml = tmp_path / "quarry.toml"
    toml.write_text("[quarry]\nsecret_key = 31415926535897932\n")
    message = refusal({}, toml)
    assert message == "invalid settings: QUARRY_SECRET_KEY=***: Input should be a valid string"
    assert "31415926535897932" not in message


def test_settings_misspelled_url_key_does_not_show_its_password(tmp_path: Path) -> None:
    toml = tmp_path / "quarry.toml"
    toml.write_text('[quarry]\ndatabase_uri = "postgresql://quarry:hunter2@db/quarry"\n')
    message = refusal({}, toml)
    assert message == (
        "invalid settings: QUARRY_DATABASE_URI='postgresql://quarry:***@db/quarry': "
        "Extra inputs are not permitted"
    )


def test_settings_redacted_hides_query_secrets_and_fallback_urls() -> None:
    settings = load_settings(
        {
            "QUARRY_LLM_BASE_URL": "https://llm.example/v1?key=AIza-secret-one&model=x",
            "QUARRY_LLM_FALLBACK": "openai:gpt-4o-mini@https://u:secret-two@proxy.example/v1,"
            "groq@https://g.example/v1?api_key=secret-three",
            "QUARRY_DATABASE_URL": "postgresql://db/quarry?password=secret-four&sslmode=on",
            "QUARRY_CACHE_URL": "redis://cache:6379/0?password=secret-five",
            "QUARRY_LLM_FALLBACK_API_KEYS": "openai=sk-secret-six,groq=gsk-secret-seven",
        }
    )
    shown = redacted(settings)
    assert shown["llm_base_url"] == "https://llm.example/v1?key=***&model=x"
    assert shown["llm_fallback"] == (
        "openai:gpt-4o-mini@https://u:***@proxy.example/v1",
        "groq@https://g.example/v1?api_key=***",
    )
    assert shown["database_url"] == "postgresql://db/quarry?password=***&sslmode=on"
    assert shown["cache_url"] == "redis://cache:6379/0?password=***"
    assert shown["llm_fallback_api_keys"] == "**********"
    found = secret_values(settings)
    for n in ("one", "two", "three", "four", "five", "six", "seven"):
        assert any(f"secret-{n}" in v for v in found), n
        assert f"secret-{n}" not in repr(shown), n


def test_settings_too_short_bootstrap_key_is_not_in_the_message() -> None:
    message = refusal({"QUARRY_BOOTSTRAP_API_KEY": "qk_short-but-still-a-secret"})
    assert message.startswith("invalid settings: QUARRY_BOOTSTRAP_API_KEY=***: ")
    assert "at least 32 characters" in message
    assert "short-but-still-a-secret" not in message


@pytest.mark.parametrize("env", ["stack", "lambda"])
def test_settings_outside_dev_refuse_the_development_secret_key(env: str) -> None:
    message = refusal({"QUARRY_ENV": env, "QUARRY_DASHBOARD_PASSWORD_HASH": HASH})
    assert "QUARRY_SECRET_KEY" in message
    assert "development" in message
    short = refusal(
        {"QUARRY_ENV": env, "QUARRY_SECRET_KEY": "k" * 31, "QUARRY_DASHBOARD_PASSWORD_HASH": HASH}
    )
    assert "QUARRY_SECRET_KEY" in short
    assert "at least 32 bytes" in short
    assert "k" * 31 not in short


@pytest.mark.parametrize("env", ["stack", "lambda"])
def test_settings_outside_dev_refuse_an_open_dashboard(env: str) -> None:
    message = refusal({"QUARRY_ENV": env, "QUARRY_SECRET_KEY": STRONG})
    assert "QUARRY_DASHBOARD_PASSWORD_HASH" in message
    assert "quarry hash-password" in message
    assert "QUARRY_INSECURE_ALLOW=open-dashboard" in message


def test_settings_outside_dev_accept_secure_values_or_a_loud_opt_out() -> None:
    secure = load_settings(
        {"QUARRY_ENV": "stack", "QUARRY_SECRET_KEY": STRONG, "QUARRY_DASHBOARD_PASSWORD_HASH": HASH}
    )
    assert secure.env == "stack"
    opted = load_settings(
        {"QUARRY_ENV": "stack", "QUARRY_INSECURE_ALLOW": "open-dashboard,weak-secret-key"}
    )
    assert opted.insecure_allow == ("open-dashboard", "weak-secret-key")
    assert refusal({"QUARRY_INSECURE_ALLOW": "everything"}) == (
        "invalid settings: QUARRY_INSECURE_ALLOW='everything': "
        "Input should be 'open-dashboard' or 'weak-secret-key'"
    )
    for env in ("dev", "test"):  # the development defaults stay where they belong
        assert load_settings({"QUARRY_ENV": env}).env == env


def test_settings_named_in_ssm_are_checked_once_read_from_it() -> None:
    """In Lambda the secret key and the password hash come from SSM at the cold start:
    before that they are placeholders, checked by resolve() once it has read them."""
    names = "secret_key=/q/p/secret-key,dashboard_password_hash=/q/p/dashboard-password-hash"
    pending = load_settings({"QUARRY_ENV": "lambda", "QUARRY_SSM_PARAMETERS": names})
    assert pending.env == "lambda"
    read = pending.model_dump() | {"secret_key": "short", "dashboard_password_hash": HASH}
    with pytest.raises(ValidationError, match="QUARRY_SECRET_KEY is too short"):
        Settings.model_validate(read, context={SSM_RESOLVED: True})
    read["secret_key"] = STRONG
    assert Settings.model_validate(read, context={SSM_RESOLVED: True}).env == "lambda"


def test_settings_pg_driver_is_asyncpg_or_psycopg() -> None:
    assert load_settings({"QUARRY_PG_DRIVER": "psycopg"}).pg_driver == "psycopg"
    assert refusal({"QUARRY_PG_DRIVER": "psycopg2"}) == (
        "invalid settings: QUARRY_PG_DRIVER='psycopg2': Input should be 'asyncpg' or 'psycopg'"
    )
