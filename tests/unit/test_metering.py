"""The AWS price table, the billing arithmetic, and a demo run's cost reproduced by hand from
its recorded billed durations and counts."""

from __future__ import annotations

import re
import tomllib
from datetime import date

import pytest

from shared.db.models import RunUsage
from shared.errors import ConfigError
from shared.flow import FLOW
from shared.metering.prices import TABLE, parse, prices, table
from shared.metering.usage import (
    GB,
    Usage,
    billed_ms,
    estimate,
    monthly,
    sqs_delete_requests,
    sqs_requests,
    usd,
)
from shared.repo.costs import run_cost
from tests.conftest import ROOT


def test_price_table_parses_and_every_price_is_positive_and_dated() -> None:
    doc = tomllib.loads(TABLE.read_text())
    found = table()
    assert set(found.regions) == set(doc["regions"]) >= {"us-east-1", "eu-west-1"}
    for region, row in doc["regions"].items():
        assert isinstance(row["taken"], date), region
        assert date(2024, 1, 1) <= row["taken"] <= date.today(), region
        numbers = [v for k, v in row.items() if k != "taken" and not isinstance(v, dict)]
        numbers += list(row["lambda_gb_second"].values())
        assert len(numbers) == 6, region
        assert all(isinstance(n, float | int) and n > 0 for n in numbers), region
    assert all(v > 0 for v in vars(found.free_tier).values())
    assert set(found.sources) == {"lambda", "sqs", "http_api", "logs"}
    assert all(url.startswith("https://aws.amazon.com/") for url in found.sources.values())


def test_price_table_default_region_is_where_serverless_yml_deploys() -> None:
    text = (ROOT / "serverless.yml").read_text()
    match = re.search(r"region: \$\{opt:region, '([a-z0-9-]+)'\}", text)
    assert match is not None
    assert table().default_region == match.group(1)


def test_price_table_region_follows_aws_region_when_listed() -> None:
    assert prices({"AWS_REGION": "eu-west-1"}).region == "eu-west-1"
    assert prices({}).region == table().default_region
    assert prices({"AWS_REGION": "xx-nowhere-1"}).region == table().default_region


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sqs_requests_per_million": -0.4}, "sqs_requests_per_million must be a positive"),
        ({"logs_ingestion_per_gb": 0}, "logs_ingestion_per_gb must be a positive"),
        ({"taken": "last week"}, "taken must be a date"),
        ({"lambda_gb_second": {"x86_64": 0.1}}, "needs exactly x86_64 and arm64"),
    ],
)
def test_price_table_refuses_a_wrong_entry_naming_it(
    change: dict[str, object], message: str
) -> None:
    doc = tomllib.loads(TABLE.read_text())
    doc["regions"]["us-east-1"] |= change
    with pytest.raises(ConfigError, match=message):
        parse(doc)


def test_billed_duration_counts_every_started_millisecond() -> None:
    assert [billed_ms(s) for s in (0.0, 0.0000001, 0.001, 0.0010001, 0.0101, 1.0)] == [
        1,
        1,
        1,
        2,
        11,
        1000,
    ]


def test_sqs_requests_count_calls_of_ten_and_64_kib_chunks() -> None:
    kib = 1024
    assert sqs_requests([100]) == 1
    assert sqs_requests([64 * kib]) == 1
    assert sqs_requests([64 * kib + 1]) == 2  # a second chunk
    assert sqs_requests([256 * kib]) == 4
    assert sqs_requests([10] * 10) == 1
    assert sqs_requests([10] * 11) == 2  # a second call
    assert sqs_requests([7000] * 10) == 2  # ten messages in one call, 70,000 bytes
    assert [sqs_delete_requests(n) for n in (1, 10, 11)] == [1, 1, 2]


# A demo run of `make dev` (35 documents discovered; README's "What it costs"), as the ledger
# recorded it per function:
# invocations, billed ms, memorySize, Lambda requests, HTTP API requests, SQS requests, bytes.
DEMO = [
    ("runs", 1, 42, 512, 1, 1, 1, 969),
    ("discovery", 1, 1580, 512, 1, 0, 37, 785),
    ("extraction", 35, 46898, 1024, 35, 0, 102, 17278),
    ("intelligence", 32, 4770, 1024, 32, 0, 65, 15957),
    ("analytics", 1, 205, 512, 1, 0, 2, 486),
]


def demo_rows() -> list[RunUsage]:
    return [
        RunUsage(
            run_id="demo",
            function=fn,
            invocations=n,
            billed_ms=ms,
            mb_ms=ms * mb,
            lambda_requests=lam,
            http_requests=http,
            sqs_requests=sqs,
            log_bytes=logs,
            memory_mb=mb,
            architecture="x86_64",
        )
        for fn, n, ms, mb, lam, http, sqs, logs in DEMO
    ]


def test_cost_of_a_demo_run_reproduced_by_hand() -> None:
    us_east_1 = prices({"AWS_REGION": "us-east-1"})
    got = run_cost(demo_rows(), llm_usd=0.0, llm_tokens=0, at=us_east_1, order=FLOW.names)
    # By hand, with us-east-1's prices: $0.0000166667 per GB-second (x86_64), $0.20 per
    # million Lambda requests, $1.00 per million HTTP API requests, $0.40 per million SQS
    # requests, $0.50 per GB (2^30 bytes) of logs.
    gb_seconds = 0.042 * 0.5 + 1.580 * 0.5 + 46.898 * 1 + 4.770 * 1 + 0.205 * 0.5  # 52.5815
    compute = gb_seconds * 0.0000166667
    requests = 70 * 0.20 / 1e6 + 1 * 1.00 / 1e6
    queue = (1 + 37 + 102 + 65 + 2) * 0.40 / 1e6
    logs = (969 + 785 + 17278 + 15957 + 486) / 2**30 * 0.50
    assert got.usage.gb_seconds == pytest.approx(52.5815)
    assert got.cost.compute_usd == pytest.approx(compute, rel=1e-12)
    assert got.cost.requests_usd == pytest.approx(requests, rel=1e-12)
    assert got.cost.queue_usd == pytest.approx(queue, rel=1e-12)
    assert got.cost.logs_usd == pytest.approx(logs, rel=1e-12)
    assert got.cost.llm_usd == 0.0
    assert got.cost.total_usd == pytest.approx(compute + requests + queue + logs, rel=1e-12)
    # README's "What it costs" figures
    assert (round(compute, 6), round(queue, 7), round(logs, 7)) == (0.000876, 0.0000828, 0.0000165)
    assert got.cost.total_usd == pytest.approx(0.00099068, abs=1e-8)
    assert got.cost.total_usd * 1000 / 35 == pytest.approx(0.0283, abs=1e-4)  # per 1,000 docs
    extraction = next(f for f in got.functions if f.function == "extraction")
    assert extraction.cost.compute_usd == pytest.approx(46.898 * 0.0000166667, rel=1e-12)
    assert [f.function for f in got.functions] == [
        "runs",
        "discovery",
        "extraction",
        "intelligence",
        "analytics",
    ]


def test_cost_arm64_and_llm_spend_enter_their_components() -> None:
    at = prices({"AWS_REGION": "us-east-1"})
    usage = Usage(invocations=1, billed_ms=1000, mb_ms=1000 * 1024, lambda_requests=1)
    assert estimate(usage, at, "arm64").compute == pytest.approx(0.0000133334)
    assert estimate(usage, at, "x86_64", llm_usd=0.25).total == pytest.approx(
        0.0000166667 + 0.2e-6 + 0.25
    )


def test_monthly_bill_takes_the_free_tier_off_only_when_asked() -> None:
    at = prices({"AWS_REGION": "us-east-1"})
    month = Usage(
        mb_ms=500_000 * 1024 * 1000,  # 500,000 GB-seconds
        lambda_requests=3_000_000,
        http_requests=500_000,
        sqs_requests=2_000_000,
        log_bytes=6 * GB,
    )
    billed = monthly(month, at, "x86_64", table().free_tier)
    assert billed.compute == pytest.approx(100_000 * 0.0000166667)
    assert billed.requests == pytest.approx(2_000_000 * 0.20 / 1e6)  # HTTP API all free
    assert billed.queue == pytest.approx(1_000_000 * 0.40 / 1e6)
    assert billed.logs == pytest.approx(0.50)
    assert monthly(month, at, "x86_64").total > billed.total


def test_usd_shows_small_amounts_without_rounding_them_to_zero() -> None:
    assert [usd(v) for v in (0.0, 2.2e-7, 0.0012, 0.02339986, 1.5, 12.0, 123.456)] == [
        "$0",
        "$0.00000022",
        "$0.0012",
        "$0.0234",
        "$1.5",
        "$12",
        "$123.46",
    ]


def test_a_runs_functions_list_its_starters_by_name_then_the_flow() -> None:
    rows = demo_rows()
    flow = ("discovery", "extraction", "wordgate", "intelligence", "analytics")
    got = run_cost(list(reversed(rows)), 0.0, 0, prices({"AWS_REGION": "us-east-1"}), flow)
    names = [f.function for f in got.functions]
    stages = [n for n in names if n in flow]
    assert stages == [n for n in flow if n in names]
    assert names == sorted(n for n in names if n not in flow) + stages
