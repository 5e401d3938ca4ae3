"""serverless.yml against the flow: one queue and dead-letter queue per stage, each stage fed by
its queue, and every role allowed to send exactly where its functions' code sends.

Where a function sends is derived, not listed: a stage function sends where the flow says
(`Flow.sends`: the next stage, and the on_final stage from any stage that can end a run);
any other function sends to the first stage if its code can start a run, and to every stage
if it can replay a dead letter or relay the outbox. "Its code" is every module of ours its
handler imports, directly or not, read from source; so a new caller of `start_run` in an
imported module widens the function's sends here, and the role must follow.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from emulator.table import Table, load_table, read_document
from shared.flow import FLOW
from tests.conftest import ROOT

OURS = ("shared", "functions", "dashboard")
FIRST, EVERY = "the first stage", "every stage"
# The calls that send to a stage queue from outside the stage adapter, and where they send.
SENDERS = {
    ("shared.runs", "start_run"): FIRST,
    ("shared.runs", "start_run_in"): FIRST,
    ("shared.deadletters", "replay"): EVERY,
    ("shared.outbox", "relay"): EVERY,
}
DOC = read_document(ROOT / "serverless.yml")
RESOURCES: dict[str, Any] = DOC["resources"]["Resources"]


def _path(module: str) -> Path | None:
    for path in (ROOT / f"{module.replace('.', '/')}.py", ROOT / module.replace(".", "/")):
        if path.suffix == ".py" and path.is_file():
            return path
        if (path / "__init__.py").is_file():
            return path / "__init__.py"
    return None


@cache
def _names(module: str) -> dict[str, tuple[str, str | None]]:
    """The module's imported names of ours: local name → (module, attribute or None)."""
    path = _path(module)
    out: dict[str, tuple[str, str | None]] = {}
    if path is None:
        return out
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(OURS):
                    out[alias.asname or alias.name] = (alias.name, None)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(OURS):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                local = alias.asname or alias.name
                out[local] = (sub, None) if _path(sub) else (node.module, alias.name)
    return out


@cache
def _closure(module: str) -> frozenset[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or _path(name) is None:
            continue
        seen.add(name)
        todo += [target for target, _ in _names(name).values()]
        todo += [name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)]  # packages
    return frozenset(seen)


def _calls(module: str) -> set[str]:
    """Where the module's own code sends, by the SENDERS it uses."""
    names = _names(module)
    found: set[str] = set()
    for node in ast.walk(ast.parse(_path(module).read_text())):  # type: ignore[union-attr]
        target = None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            imported = names.get(node.value.id)
            target = (imported[0], node.attr) if imported and imported[1] is None else None
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            imported = names.get(node.id)
            target = (imported[0], imported[1]) if imported and imported[1] else None
        if target in SENDERS and target[0] != module:
            found.add(SENDERS[target])
    return found


def _targets(kinds: set[str]) -> set[str]:
    return ({FLOW.first.name} if FIRST in kinds else set()) | (
        set(FLOW.names) if EVERY in kinds else set()
    )


def sends(table: Table, function: str) -> set[str]:
    """The stages `function` sends messages to, derived from the flow and its code."""
    fn = table.functions[function]
    if fn.queue and FLOW.find(function):
        return set(FLOW.sends(function))
    kinds = set().union(*(_calls(m) for m in _closure(fn.module)))
    return _targets(kinds)


def _arn(value: Any) -> str:
    assert isinstance(value, dict), value
    assert "GetAtt" in value, value
    logical, attribute = str(value["GetAtt"]).split(".")
    assert attribute == "Arn", value
    return logical


def _queues() -> dict[str, str]:
    """Logical id → queue name suffix (the stage, or STAGE-dlq)."""
    return {
        logical: r["Properties"]["QueueName"].removeprefix("${self:service}-${sls:stage}-")
        for logical, r in RESOURCES.items()
        if r["Type"] == "AWS::SQS::Queue"
    }


def _grants(role: str) -> dict[str, set[str]]:
    """Each sqs: action the role allows → the queues (by name suffix) it allows it on."""
    queues = _queues()
    granted: dict[str, set[str]] = defaultdict(set)
    for policy in RESOURCES[role]["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            resources = statement["Resource"]
            for action in actions if isinstance(actions, list) else [actions]:
                if action.startswith("sqs:"):
                    for r in resources if isinstance(resources, list) else [resources]:
                        granted[action].add(queues[_arn(r)])
    return granted


def test_flow_roles_each_stage_has_a_queue_and_dead_letter_queue_and_nothing_else() -> None:
    queues = _queues()
    assert sorted(queues.values()) == sorted([*FLOW.names, *(f"{n}-dlq" for n in FLOW.names)])
    for logical, name in queues.items():
        policy = RESOURCES[logical]["Properties"].get("RedrivePolicy")
        if name.endswith("-dlq"):
            assert policy is None, logical
        else:
            assert queues[_arn(policy["deadLetterTargetArn"])] == f"{name}-dlq"


def test_flow_roles_each_stage_function_is_fed_by_its_own_queue() -> None:
    table = load_table(ROOT / "serverless.yml")
    assert [fn.name for fn in table.stages()] == list(FLOW.names)
    queues = _queues()
    for stage in FLOW.names:
        (event,) = [e["sqs"] for e in DOC["functions"][stage]["events"] if "sqs" in e]
        assert queues[_arn(event["arn"])] == stage
        assert event["functionResponseType"] == "ReportBatchItemFailures"
        assert event["batchSize"] == table.functions[stage].batch_size


def test_flow_roles_the_derivation_sees_each_kind_of_sender() -> None:
    table = load_table(ROOT / "serverless.yml")
    assert sends(table, "runs") == {"discovery"}  # POST /api/v1/runs
    assert sends(table, "webhooks") == {"discovery"}  # a signed delivery starts a run
    assert sends(table, "deadletters") == set(FLOW.names)  # a replay goes back to its stage
    assert sends(table, "ticker") == set(FLOW.names)  # due runs, the outbox relay
    assert sends(table, "health") == set()
    assert sends(table, "extraction") == {"intelligence", "analytics"}


def test_flow_roles_allow_exactly_the_sends_the_code_makes() -> None:
    table = load_table(ROOT / "serverless.yml")
    needed: dict[str, set[str]] = defaultdict(set)
    users: dict[str, list[str]] = defaultdict(list)
    for name, spec in DOC["functions"].items():
        needed[spec["role"]] |= sends(table, name)
        users[spec["role"]].append(name)
    for role, functions in users.items():
        granted = _grants(role)
        assert granted.get("sqs:SendMessage", set()) == needed[role], (
            f"{role} (used by {', '.join(functions)}) may send to "
            f"{sorted(granted.get('sqs:SendMessage', set()))}; its functions send to "
            f"{sorted(needed[role])}"
        )
        assert granted.get("sqs:GetQueueUrl", set()) >= needed[role], role
    roles = {r for r, res in RESOURCES.items() if res["Type"] == "AWS::IAM::Role"}
    assert set(users) <= roles


def test_flow_roles_stage_functions_read_only_their_queue_and_the_ticker_the_dead_letters() -> None:
    for stage in FLOW.names:
        granted = _grants(DOC["functions"][stage]["role"])
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
            assert granted[action] == {stage}, (stage, action)
    ticker = _grants(DOC["functions"]["ticker"]["role"])
    assert (
        ticker["sqs:ReceiveMessage"]
        == ticker["sqs:DeleteMessage"]
        == {f"{n}-dlq" for n in FLOW.names}
    )
