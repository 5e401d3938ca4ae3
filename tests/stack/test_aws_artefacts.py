"""`quarry up --aws` in artefact mode: every function runs from its packaged zip and the layer in
execution environments under the Lambda Runtime API, its AWS calls signed with its own role
against moto with IAM enforced. One such stack for the module (it costs a packaging, when the
package changed, and sixteen cold starts)."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from dashboard.passwords import hash_password
from emulator.artefacts.stack import PACKAGE
from emulator.artefacts.template import read_template
from emulator.aws.credentials import ADMIN, read_profile
from emulator.aws.iam import apply_roles, queue_arn
from emulator.aws.queues import queue_specs
from emulator.demo import serve_site
from emulator.stack.services.ports import is_free
from emulator.table import read_document
from shared.webhooks.signature import sign_standard
from tests.conftest import ROOT
from tests.stack.conftest import API_KEY, DASHBOARD_PASSWORD, Stack, alive, wait_for

pytestmark = pytest.mark.stack
LABELS = json.loads((ROOT / "tests/sites/demo/labels.json").read_text())
SECRET = "whsec_" + "YXJ0ZWZhY3QtbW9kZS13ZWJob29rLWtleS0wMTIzNA=="
LAMBDA_UP_S = 420  # packaging reused, then sixteen cold starts on a busy 2-core machine
VENV = ROOT / ".venv"


@pytest.fixture(scope="module")
def aws_stack(packaged: Path) -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="quarry-up-aws-"))
    root.chmod(0o711)
    with serve_site() as demo:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QUARRY_", "AWS_"))}
        env |= {
            "QUARRY_FETCH_ALLOW_HOSTS": demo.split("//")[1],
            "QUARRY_RETRY_BACKOFF_S": "0.05",
            # no QUARRY_SECRET_KEY: `quarry up` makes one, and puts it in SSM for the functions
            "QUARRY_DASHBOARD_PASSWORD_HASH": hash_password(DASHBOARD_PASSWORD),
            "QUARRY_BOOTSTRAP_API_KEY": API_KEY,
            "PYTHONPATH": str(ROOT),
        }
        stack = Stack(
            root,
            ROOT / "serverless.yml",
            env,
            demo=demo,
            options=("--aws", "--api", "1", "--web", "1"),  # fewer processes: a quicker start
            up_deadline_s=LAMBDA_UP_S,
        )
        stack.up()
        try:
            yield stack
        finally:
            services = stack.state.get("services", {}).values()
            pids = [s["pid"] for s in services]
            ports = [s["port"] for s in services if s["port"]]
            stack.down()
            leftovers = [pid for pid in pids if alive(pid)]
            bound = [port for port in ports if not is_free(port)]
            shutil.rmtree(root, ignore_errors=True)
            assert not leftovers, f"quarry down left processes behind: {leftovers}"
            assert not bound, f"quarry down left ports bound: {bound}"


def _logs(stack: Stack) -> dict[str, str]:
    folder = stack.root / ".quarry/stack/logs"
    return {p.stem: p.read_text(errors="replace") for p in folder.glob("*.log")}


def _lambda(stack: Stack) -> str:
    return str(stack.service("lambda")["url"])


def _start(client: httpx.Client, source: dict[str, object]) -> tuple[str, str]:
    created = client.post("/api/v1/sources", json=source)
    assert created.status_code == 201, created.text
    started = client.post("/api/v1/runs", json={"source_id": created.json()["id"]})
    assert started.status_code == 202, started.text
    return str(created.json()["id"]), str(started.json()["id"])


def _final(client: httpx.Client, run_id: str, deadline_s: float) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        run = client.get(f"/api/v1/runs/{run_id}").json()
        return run if run["state"] not in ("queued", "running") else None

    return dict(wait_for(f"run {run_id} to finish", final, deadline_s))


def _admin(stack: Stack, service: str) -> Any:
    keys = read_profile(stack.root / ".quarry/stack/aws/credentials", ADMIN)
    endpoint = stack.service("aws")["url"]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
    )


def test_aws_artefacts_demo_pipeline_runs_from_packages_with_iam_enforced(
    aws_stack: Stack,
) -> None:
    with aws_stack.client() as client:
        _, run_id = _start(client, {"name": "demo", "kind": "site", "url": aws_stack.demo + "/"})
        run = _final(client, run_id, 240)
        pages = [p for p in LABELS["pages"] if p["in_sitemap"] or p["in_feed"]]
        assert run["state"] == "succeeded"
        assert run["discovered"] == len(pages) + len(LABELS["refused"]) == 35
        assert run["stages"]["intelligence"]["succeeded"] == len(pages) - 2
        docs = client.get("/api/v1/documents", params={"run_id": run_id, "limit": 200}).json()
        assert len(docs["items"]) == 35
        page = client.get("/runs")  # the dashboard function, from its package too
        assert page.status_code == 200
        assert run_id[:8] in page.text
    # the invocation ledger, written by the environments themselves before each returns
    costed = {f["function"]: f for f in run["cost"]["functions"]}
    for stage in ("discovery", "extraction", "intelligence"):
        assert costed[stage]["usage"]["invocations"] > 0, costed.get(stage)
        assert costed[stage]["cost"]["compute_usd"] > 0, costed[stage]
    assert run["cost"]["cost"]["total_usd"] > 0
    logs = _logs(aws_stack)
    denied = [
        line for text in logs.values() for line in text.splitlines() if "AccessDenied" in line
    ]
    missing = [
        line for text in logs.values() for line in text.splitlines() if "ImportModuleError" in line
    ]
    assert denied == []
    assert missing == []
    environments = httpx.get(_lambda(aws_stack) + "/quarry/environments").json()["environments"]
    assert {e["function"] for e in environments} == _functions()
    for env in environments:
        path = env["sys_path"]
        assert path, env
        assert path[0] == str(PACKAGE.resolve() / "unpacked" / env["function"]), env
        assert not [p for p in path if p.startswith(str(VENV)) or "site-packages" in p], env
        assert not env["executable"].startswith(str(VENV)), env
    init = httpx.get(_lambda(aws_stack) + "/quarry/init").json()["functions"]
    assert all(r["ok"] for r in init.values()), init
    said = " ".join((aws_stack.root / "up.out").read_text().split())
    assert f"{len(init)} of {len(init)} initialised an execution environment" in said
    metrics = httpx.get(_lambda(aws_stack) + "/metrics").text
    assert 'quarry_function_cold_starts_total{function="extraction"}' in metrics
    assert (
        'quarry_function_invocations_total{function="extraction",outcome="success",trigger="sqs"}'
        in metrics
    )


def test_aws_artefacts_layer_ships_bytecode_for_every_module(aws_stack: Stack) -> None:
    """The layer `quarry package` built (and the stack ran from) has current bytecode for
    Python 3.11 beside each of its modules, as the function zips do."""
    with zipfile.ZipFile(PACKAGE / "deps.zip") as zf:
        names = set(zf.namelist())
        sources = [n for n in names if n.startswith("python/") and n.endswith(".py")]
        assert len(sources) > 1000
        stale = []
        for source in sources:
            folder, _, file = source.rpartition("/")
            cached = f"{folder}/__pycache__/{file[:-3]}.cpython-311.pyc"
            pyc = zf.read(cached) if cached in names else b""
            current = (
                pyc[:4] == importlib.util.MAGIC_NUMBER
                and int.from_bytes(pyc[4:8], "little") == 0b01
                and pyc[8:16] == importlib.util.source_hash(zf.read(source))
            )
            if not current:
                stale.append(source)
    assert stale == []
    prometheus = aws_stack.service("prometheus")["url"]

    seen: set[str] = set()

    def scrapes_lambda() -> bool:
        reply = httpx.get(prometheus + "/api/v1/targets", timeout=10, trust_env=False)
        seen.clear()
        seen.update(t["labels"]["job"] for t in reply.json()["data"]["activeTargets"])
        return "lambda" in seen

    try:
        wait_for(f"Prometheus ({prometheus}) to scrape the lambda job", scrapes_lambda, 60)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; its jobs: {sorted(seen)}") from None


def _functions() -> set[str]:
    template = read_template(PACKAGE / "cloudformation-template-update-stack.json")
    return {
        str(r["Properties"]["FunctionName"]).removeprefix("quarry-dev-")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }


def _without_send(template: dict[str, Any], role: str, queue: str) -> dict[str, Any]:
    """A copy of the template whose `role` may no longer send to `queue`."""
    out = copy.deepcopy(template)
    for policy in out["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else []
            if {"Fn::GetAtt": [queue, "Arn"]} in targets and "sqs:SendMessage" in statement[
                "Action"
            ]:
                statement["Action"] = [a for a in statement["Action"] if a != "sqs:SendMessage"]
    return out


def test_aws_artefacts_grant_removed_is_access_denied_and_the_message_kept(
    aws_stack: Stack,
) -> None:
    template = read_template(PACKAGE / "cloudformation-template-update-stack.json")
    arns = {  # every queue's ARN, for the roles' !GetAtt Queue.Arn
        spec.logical: queue_arn(spec.name)
        for spec in queue_specs(read_document(ROOT / "serverless.yml"), "dev")
    }
    iam = _admin(aws_stack, "iam")
    narrowed = _without_send(template, "ExtractionRole", "IntelligenceQueue")
    apply_roles(iam, narrowed, {"ExtractionRole"}, arns, "quarry", "dev")
    try:
        page = aws_stack.demo + LABELS["pages"][0]["path"]
        with aws_stack.client() as client:
            _, run_id = _start(client, {"name": "denied", "kind": "urls", "urls": [page]})

            def denied() -> list[str]:
                return [
                    line
                    for line in _logs(aws_stack)["lambda-extraction"].splitlines()
                    if "AccessDenied" in line
                ]

            lines = wait_for("extraction's send to intelligence to be denied", denied, 120)
            assert "quarry-dev-extraction may not sqs:SendMessage on " in lines[0]
            assert arns["IntelligenceQueue"] in lines[0]
            assert client.get(f"/api/v1/runs/{run_id}").json()["state"] == "running"
            # The message was kept (in the outbox): the ticker, with its own role, relays it
            # (once it is 5 s old), as each minute's tick would.
            tick = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}

            def ticked() -> bool:
                answer = httpx.post(
                    _lambda(aws_stack) + "/2015-03-31/functions/ticker/invocations",
                    json=tick,
                    timeout=120,
                )
                assert "x-amz-function-error" not in answer.headers, answer.text
                state = client.get(f"/api/v1/runs/{run_id}").json()["state"]
                return state not in ("queued", "running")

            wait_for("the ticker to relay the denied message", ticked, 120, every=3)
            run = _final(client, run_id, 120)
            assert run["state"] == "succeeded"
            assert run["stages"]["intelligence"]["succeeded"] == 1
    finally:
        apply_roles(iam, template, {"ExtractionRole"}, arns, "quarry", "dev")


def test_aws_artefacts_webhook_run_of_mapped_urls_completes(aws_stack: Stack) -> None:
    page = aws_stack.demo + LABELS["pages"][1]["path"]
    with aws_stack.client() as admin:
        source = admin.post(
            "/api/v1/sources", json={"name": "cms", "kind": "urls", "urls": [aws_stack.demo + "/"]}
        ).json()["id"]
        config = {"scheme": "standard", "secrets": [SECRET], "urls_path": "entry.urls"}
        set_up = admin.put(f"/api/v1/sources/{source}/webhook", json=config)
        assert set_up.status_code == 200, set_up.text
    body = json.dumps({"type": "entry.published", "entry": {"urls": [page]}}).encode()
    stamp = int(time.time())
    headers = {
        "webhook-id": "msg_artefact_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard(SECRET, "msg_artefact_1", stamp, body),
    }
    with httpx.Client(base_url=aws_stack.entry, timeout=60, trust_env=False) as sender:
        answer = sender.post(f"/api/v1/webhooks/{source}", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    with aws_stack.client() as admin:
        run = _final(admin, answer.json()["run_id"], 150)
        assert run["state"] == "succeeded"
        assert run["discovered"] == 1
        assert run["stages"]["intelligence"]["succeeded"] == 1
    # every send of the webhooks function is one its role allows (it starts the run through
    # discovery), so nothing waited for the ticker's relay
    assert "AccessDenied" not in _logs(aws_stack)["lambda-webhooks"]
