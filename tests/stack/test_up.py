"""`quarry up` end to end: the pipeline through nginx, and the faults the design survives."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal

import httpx
import pytest

from tests.conftest import ROOT
from tests.stack.conftest import TIMEOUTS, SlowSite, Stack, wait_for

pytestmark = pytest.mark.stack
LABELS = json.loads((ROOT / "tests/sites/demo/labels.json").read_text())


def start_run(client: httpx.Client, source: dict[str, object]) -> str:
    created = client.post("/api/v1/sources", json=source)
    assert created.status_code == 201, created.text
    started = client.post("/api/v1/runs", json={"source_id": created.json()["id"]})
    assert started.status_code == 202, started.text
    return str(started.json()["id"])


def final_run(client: httpx.Client, run_id: str, deadline_s: float) -> dict[str, object]:
    def final() -> dict[str, object] | None:
        run = client.get(f"/api/v1/runs/{run_id}").json()
        return run if run["state"] not in ("queued", "running") else None

    return dict(wait_for(f"run {run_id} to finish", final, deadline_s))


def test_up_pipeline_runs_through_nginx(stack: Stack) -> None:
    with stack.client() as client:
        run_id = start_run(client, {"name": "demo", "kind": "site", "url": stack.demo + "/"})
        run = final_run(client, run_id, 90)
        pages = [p for p in LABELS["pages"] if p["in_sitemap"] or p["in_feed"]]
        assert run["state"] == "succeeded"
        assert run["discovered"] == len(pages) + len(LABELS["refused"])
        stages = run["stages"]
        assert isinstance(stages, dict)
        assert stages["intelligence"]["succeeded"] == len(pages) - 2
        assert stages["extraction"]["failed"] == 1
        docs = client.get("/api/v1/documents", params={"run_id": run_id, "limit": 200}).json()
        assert len(docs["items"]) == run["discovered"]
        page = client.get("/runs")  # the dashboard, through nginx, lists the finished run
        assert page.status_code == 200
        assert run_id[:8] in page.text
        detail = client.get(f"/runs/{run_id}")
        assert detail.status_code == 200
        assert "succeeded" in detail.text
        assert client.get("/metrics").status_code == 404  # nginx does not proxy /metrics
        stylesheet = re.search(r'href="(/static/quarry\.[0-9a-f]+\.css)"', page.text)
        assert stylesheet is not None, "the page links a content-hashed stylesheet"
        css = client.get(stylesheet.group(1))
        assert css.status_code == 200
        assert css.headers["cache-control"] == "public, max-age=31536000, immutable"

    def served_by_each() -> list[float] | None:
        counts = []
        for i in (1, 2, 3):  # each API instance serves its own metrics
            text = httpx.get(stack.service(f"api-{i}")["url"] + "/metrics").text
            counts.append(
                sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("quarry_function_invocations_total{")
                )
            )
        if all(counts):
            return counts
        # An instance nginx took out for a while (one restarted by an earlier test) comes
        # back after fail_timeout: keep the round robin going until every one has served.
        with stack.client() as client:
            client.get("/api/v1/sources")
        return None

    assert wait_for("every API instance to serve invocations", served_by_each, 90, every=0.5)
    worker = httpx.get(stack.service("worker-extraction")["url"] + "/metrics").text
    assert (
        'quarry_function_invocations_total{function="extraction",outcome="success",'
        'trigger="sqs"}' in worker
    )


def test_up_reads_your_writes_through_nginx(stack: Stack) -> None:
    misses = 0
    with stack.client() as client:  # keeps the quarry_lsn cookie, as a browser would
        for i in range(40):  # 80 requests: within nginx's burst of 100 at 50 r/s
            created = client.post(
                "/api/v1/sources",
                json={"name": f"ryw-{i}", "kind": "urls", "urls": ["https://example.org/x"]},
            )
            assert created.status_code == 201
            assert created.headers["x-quarry-lsn"]
            read = client.get(f"/api/v1/sources/{created.json()['id']}")
            misses += read.status_code != 200
    assert misses == 0


def test_up_replica_stopped_mid_run_reads_keep_succeeding(stack: Stack) -> None:
    with stack.client() as client:
        run_id = start_run(
            client, {"name": "replica-down", "kind": "site", "url": stack.demo + "/"}
        )
        os.kill(stack.service("pg-replica")["pid"], signal.SIGKILL)
        failures = 0

        def final() -> dict[str, object] | None:
            nonlocal failures
            response = client.get(f"/api/v1/runs/{run_id}")
            failures += response.status_code != 200
            run = response.json()
            return run if run["state"] not in ("queued", "running") else None

        run = wait_for(f"run {run_id} to finish with the replica down", final, 90)
        listed = client.get("/api/v1/documents", params={"run_id": run_id, "limit": 200})
    assert failures == 0
    assert listed.status_code == 200
    assert run["state"] == "succeeded"
    wait_for(
        "the supervisor to restart the replica",
        lambda: stack.service("pg-replica")["restarts"] >= 1,
        90,
    )


def test_up_worker_killed_mid_task_finishes_without_traffic(
    stack: Stack, slow_site: SlowSite
) -> None:
    with stack.client() as client:
        run_id = start_run(
            client, {"name": "slow", "kind": "urls", "urls": [slow_site.base + "/killed.html"]}
        )
        assert slow_site.first_seen.wait(90), "the extraction worker never fetched the page"
        for name in ("worker-extraction", "worker-extraction-2"):  # whichever holds it
            os.kill(stack.service(name)["pid"], signal.SIGKILL)  # mid-task: 4 s page
        # no further traffic: only the reclaim loop can bring the message back
        # reclaimed after extraction's timeout + 5 s; the deadline leaves a loaded machine
        # room for the worker's restart and the remaining stages
        run = final_run(client, run_id, TIMEOUTS["extraction"] + 5 + 120)
    assert run["state"] == "succeeded"
    assert slow_site.requests.count("/killed.html") == 2
    assert stack.service("worker-extraction")["restarts"] >= 1
    logs = [
        stack.quarry("logs", name, "-n", "300").stdout
        for name in ("worker-extraction", "worker-extraction-2")
    ]
    assert any("reclaimed a message" in text for text in logs)


def test_up_ps_and_logs_work_from_another_terminal(stack: Stack) -> None:
    ps = stack.quarry("ps")
    assert ps.returncode == 0, ps.stderr
    for name in (
        "nginx",
        "api-3",
        "web-2",
        "worker-analytics",
        "pg-replica",
        "redis-queue",
        "scheduler",
        "prometheus",
    ):
        assert name in ps.stdout
    logs = stack.quarry("logs", "nope")
    assert logs.returncode == 2
    assert "services with logs" in logs.stderr


def test_up_prometheus_scrapes_every_instance_and_worker(stack: Stack) -> None:
    prom = stack.service("prometheus")["url"]

    def all_up() -> list[dict[str, object]] | None:
        targets = httpx.get(prom + "/api/v1/targets").json()["data"]["activeTargets"]
        healthy = [t for t in targets if t["health"] == "up"]
        return targets if len(healthy) == len(targets) == 3 + 2 + (4 + 1) + 1 else None

    targets = wait_for("Prometheus to scrape every target", all_up, 90)
    assert {t["labels"]["job"] for t in targets} == {"api", "web", "worker", "scheduler"}


def test_up_sigterm_mid_run_then_next_up_finishes_every_document(
    stack: Stack, slow_site: SlowSite
) -> None:
    urls = [f"{slow_site.base}/drain-{i}.html" for i in range(3)]
    with stack.client() as client:
        run_id = start_run(client, {"name": "drained", "kind": "urls", "urls": urls})
        assert slow_site.first_seen.wait(90), "the extraction worker never fetched a drain page"
        wait_for(
            "the extraction worker to start on the slow pages",
            lambda: any(p.startswith("/drain-") for p in slow_site.requests),
            90,
        )
    names = ("secret_key", "postgres_password", "redis_password")
    secrets_dir = stack.root / ".quarry/stack/secrets"
    kept = {name: (secrets_dir / name).read_text() for name in names}
    stack.terminate()  # drains: in-flight work finishes, unread messages stay queued
    assert stack.proc is not None
    assert stack.proc.returncode == 0
    stack.up()  # the same data directories and ports: pending work resumes
    assert {name: (secrets_dir / name).read_text() for name in names} == kept  # reused
    with stack.client() as client:
        # the drained messages come back after their visibility timeout; generous for a
        # loaded machine, where the second `quarry up` itself takes a while to settle
        run = final_run(client, run_id, 240)
        docs = client.get("/api/v1/documents", params={"run_id": run_id}).json()["items"]
        details = [
            (
                d["url"],
                d["id"],
                (x := client.get(f"/api/v1/documents/{d['id']}").json())["stages"],
                (x["text"] or "")[:60],
            )
            for d in docs
        ]
    assert run["state"] == "succeeded", details
    stages = run["stages"]
    assert isinstance(stages, dict)
    assert stages["extraction"]["succeeded"] == len(urls), details
    assert stages["intelligence"]["succeeded"] == len(urls)
    print(f"quarry up took {stack.started_s[0]:.1f} s fresh, {stack.started_s[-1]:.1f} s again")


def test_up_two_extraction_workers_never_overlap_on_one_host(
    stack: Stack, slow_site: SlowSite
) -> None:
    urls = [f"{slow_site.base}/polite-{i}.html" for i in range(6)]
    with stack.client() as client:
        run_id = start_run(client, {"name": "polite", "kind": "urls", "urls": urls})
        run = final_run(client, run_id, 60)
    assert run["state"] == "succeeded"
    spans = sorted((b, e) for path, b, e in slow_site.spans if path.startswith("/polite-"))
    assert len(spans) == len(urls)
    overlaps = [(a, b) for a, b in itertools.pairwise(spans) if b[0] < a[1]]
    assert overlaps == [], "two workers fetched from one host at the same time"
    handled = 0.0
    for name in ("worker-extraction", "worker-extraction-2"):
        text = httpx.get(stack.service(name)["url"] + "/metrics").text
        handled += sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("quarry_documents_total{") and 'stage="extraction"' in line
        )
    assert handled >= len(urls)  # the documents left extraction through these workers
