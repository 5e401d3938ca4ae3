"""The invocation ledger across the stack's processes: API instances and stage workers write it
to Postgres, and every dashboard instance reads the same figures."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.stack.conftest import Stack, wait_for
from tests.stack.test_up import final_run, start_run

STAGES = ["runs", "discovery", "extraction", "intelligence", "analytics"]


def test_ledger_a_stack_run_is_costed_from_every_process_that_worked_on_it(stack: Stack) -> None:
    with stack.client() as client:
        run_id = start_run(client, {"name": "ledger", "kind": "site", "url": stack.demo + "/"})
        run = final_run(client, run_id, 90)
        assert run["state"] == "succeeded"

        def costed() -> dict[str, Any] | None:  # each process writes its ledger every second
            cost: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}").json()["cost"]
            names = [f["function"] for f in cost["functions"]]
            return cost if names == STAGES else None

        cost = wait_for("every function of the run in its cost", costed, 90, every=0.5)
        by_fn = {f["function"]: f["usage"] for f in cost["functions"]}
        assert by_fn["runs"]["http_requests"] == 1  # written by the API instance that started it
        # by two workers, a batch of up to batchSize pages an invocation
        invoked = by_fn["extraction"]["invocations"]
        assert 0 < invoked <= run["discovered"]
        assert cost["cost"]["total_usd"] > 0
        session = client.cookies  # logged in to the dashboard (sessions hold on every instance)

        def extraction_row(url: str) -> str:
            page = httpx.get(url + "/functions", timeout=30, trust_env=False, cookies=session)
            assert page.status_code == 200, page.text[:300]
            row = re.search(r'href="/functions/extraction".*?</tr>', page.text, re.S)
            assert row is not None
            figures = re.search(r"from ([\d,]+) invocations?: [\d,]+ billed ms", row.group(0))
            assert figures is not None, row.group(0)
            return figures.group(1)

        # both dashboard instances read the same figures, whichever process wrote them (once
        # the last ledger flushes have landed: each process writes its own every second)
        def agreed() -> list[str] | None:
            seen = [extraction_row(stack.service(name)["url"]) for name in ("web-1", "web-2")]
            return seen if seen[0] == seen[1] else None

        seen = wait_for("both dashboard instances to show the same figures", agreed, 60, every=1)
    assert int(seen[0].replace(",", "")) >= invoked  # the last day's, this run's among them
