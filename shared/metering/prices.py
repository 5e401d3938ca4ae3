"""The AWS price table (aws_prices.toml): per region, what Lambda, SQS, the HTTP API and
CloudWatch Logs charge, the day the prices were taken, and the monthly free tier."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from shared.errors import ConfigError

TABLE = Path(__file__).with_name("aws_prices.toml")
ARCHITECTURES = ("x86_64", "arm64")
MILLION = 1_000_000
_PRICES = (
    "lambda_requests_per_million",
    "sqs_requests_per_million",
    "http_api_requests_per_million",
    "logs_ingestion_per_gb",
)
_FREE = (
    "lambda_gb_seconds",
    "lambda_requests",
    "sqs_requests",
    "http_api_requests",
    "logs_ingestion_gb",
)


@dataclass(frozen=True)
class FreeTier:
    """What AWS gives each month before charging."""

    lambda_gb_seconds: float
    lambda_requests: float
    sqs_requests: float
    http_api_requests: float
    logs_ingestion_gb: float


@dataclass(frozen=True)
class AwsPrices:
    """One region's prices in USD: per GB-second by architecture, per request, per GB."""

    region: str
    taken: date
    lambda_gb_second: Mapping[str, float]
    lambda_request: float
    sqs_request: float
    http_api_request: float
    logs_per_gb: float


@dataclass(frozen=True)
class PriceTable:
    default_region: str
    regions: Mapping[str, AwsPrices]
    free_tier: FreeTier
    sources: Mapping[str, str]


def _positive(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{TABLE.name}: {where} must be a positive number, got {value!r}")
    return float(value)


def parse(doc: Mapping[str, Any]) -> PriceTable:
    """The table from its TOML document; ConfigError names the entry that is wrong."""
    regions: dict[str, AwsPrices] = {}
    for region, row in (doc.get("regions") or {}).items():
        taken = row.get("taken")
        if not isinstance(taken, date):
            raise ConfigError(f"{TABLE.name}: regions.{region}.taken must be a date (YYYY-MM-DD)")
        per_gb_s = row.get("lambda_gb_second") or {}
        if set(per_gb_s) != set(ARCHITECTURES):
            raise ConfigError(
                f"{TABLE.name}: regions.{region}.lambda_gb_second needs exactly "
                f"{' and '.join(ARCHITECTURES)}"
            )
        price = {k: _positive(f"regions.{region}.{k}", row.get(k)) for k in _PRICES}
        regions[region] = AwsPrices(
            region=region,
            taken=taken,
            lambda_gb_second={
                arch: _positive(f"regions.{region}.lambda_gb_second.{arch}", per_gb_s[arch])
                for arch in ARCHITECTURES
            },
            lambda_request=price["lambda_requests_per_million"] / MILLION,
            sqs_request=price["sqs_requests_per_million"] / MILLION,
            http_api_request=price["http_api_requests_per_million"] / MILLION,
            logs_per_gb=price["logs_ingestion_per_gb"],
        )
    default = doc.get("default_region")
    if default not in regions:
        raise ConfigError(f"{TABLE.name}: default_region {default!r} has no prices")
    free = doc.get("free_tier") or {}
    sources = doc.get("sources") or {}
    return PriceTable(
        default_region=str(default),
        regions=regions,
        free_tier=FreeTier(**{k: _positive(f"free_tier.{k}", free.get(k)) for k in _FREE}),
        sources={str(k): str(v) for k, v in sources.items()},
    )


@cache
def table() -> PriceTable:
    """The price table shipped with Quarry, read once."""
    return parse(tomllib.loads(TABLE.read_text()))


def prices(environ: Mapping[str, str] | None = None) -> AwsPrices:
    """The prices the estimate uses: AWS_REGION's where it is set and listed (Lambda sets
    it), else the region serverless.yml deploys to by default."""
    env = os.environ if environ is None else environ
    found = table()
    region = env.get("AWS_REGION", "")
    return found.regions.get(region) or found.regions[found.default_region]
