"""The flow declaration: the pipeline in order, the dispatch graph derived from it, the
declarations it refuses, and the stage functions of serverless.yml taking its messages."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.table import load_handler, load_table
from shared.flow import FLOW, Flow, Stage
from shared.messages import AnalyseDocument, DiscoverSource, ExtractDocument, RollupSource
from tests.conftest import ROOT


def test_flow_declares_the_pipeline_in_order() -> None:
    assert FLOW.names == ("discovery", "extraction", "intelligence", "analytics")
    assert (FLOW.first.name, FLOW.first.per) == ("discovery", "run")
    assert [s.name for s in FLOW.document_stages] == ["extraction", "intelligence"]
    assert FLOW.on_final == Stage("analytics", RollupSource, per="run")
    assert [FLOW.next(n) for n in FLOW.names] == [
        FLOW.stage("extraction"),
        FLOW.stage("intelligence"),
        None,
        None,
    ]


def test_flow_sends_to_the_next_stage_and_on_final_from_any_stage_that_ends_a_run() -> None:
    assert {n: set(FLOW.sends(n)) for n in FLOW.names} == {
        "discovery": {"extraction", "analytics"},  # a run with no documents is final at once
        "extraction": {"intelligence", "analytics"},  # a skipped last document ends the run
        "intelligence": {"analytics"},
        "analytics": set(),
    }


def test_flow_with_a_stage_in_the_middle_changes_only_what_it_touches() -> None:
    toy = Flow(
        chain=(
            Stage("discovery", DiscoverSource, per="run"),
            Stage("extraction", ExtractDocument),
            Stage("toy", AnalyseDocument),
            Stage("intelligence", AnalyseDocument),
        ),
        on_final=Stage("analytics", RollupSource, per="run"),
    )
    assert toy.sends("extraction") == {"toy", "analytics"}
    assert toy.sends("toy") == {"intelligence", "analytics"}
    assert toy.sends("intelligence") == FLOW.sends("intelligence")


def _flow(*chain: Stage, on_final: Stage | None = None) -> Flow:
    return Flow(chain=chain, on_final=on_final)


@pytest.mark.parametrize(
    ("chain", "on_final", "says"),
    [
        ((Stage("x", ExtractDocument),), None, "first stage works per run"),
        (
            (Stage("d", DiscoverSource, per="run"), Stage("d", ExtractDocument)),
            None,
            "appears twice",
        ),
        (
            (Stage("d", DiscoverSource, per="run"), Stage("r", RollupSource)),
            None,
            "carries a document_id",
        ),
        (
            (Stage("d", DiscoverSource, per="run"), Stage("e", ExtractDocument, per="run")),
            None,
            "works per document",
        ),
        ((Stage("d", DiscoverSource, per="run"),), Stage("a", RollupSource), "works per run"),
    ],
)
def test_flow_refuses_a_declaration_it_cannot_run(
    chain: tuple[Stage, ...], on_final: Stage | None, says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        _flow(*chain, on_final=on_final)


def test_flow_expected_and_waiting_follow_what_each_stage_let_through() -> None:
    counts: dict[str, dict[str, Any]] = {
        "discovery": {"succeeded": 10},
        "extraction": {"succeeded": 6, "failed": 1, "skipped": 1},
        "intelligence": {"succeeded": 2, "failed": 1},
    }
    assert FLOW.expected(10, counts) == {"discovery": 10, "extraction": 10, "intelligence": 8}
    assert FLOW.waiting(10, counts) == {"extraction": 2, "intelligence": 3}
    assert FLOW.expected(None, counts) == FLOW.waiting(None, counts) == {}


def test_flow_stage_functions_take_the_flows_messages() -> None:
    table = load_table(ROOT / "serverless.yml")
    for stage in FLOW.stages:
        handler, _ = load_handler(table.functions[stage.name])
        assert handler.name == stage.name
        assert handler.message_type is stage.message, stage.name
