"""Flows the test function table runs: the pipeline as declared for it, and a probe flow for
tests of the stage adapter (discovery hands each document to the probe stage)."""

from __future__ import annotations

from shared.flow import Flow, Stage
from shared.messages import AnalyseDocument, DiscoverSource, ExtractDocument, RollupSource

PIPELINE = Flow(
    chain=(
        Stage("discovery", DiscoverSource, per="run"),
        Stage("extraction", ExtractDocument),
        Stage("wordgate", AnalyseDocument),
        Stage("intelligence", AnalyseDocument),
    ),
    on_final=Stage("analytics", RollupSource, per="run"),
)

PROBE = Flow(
    chain=(Stage("discovery", DiscoverSource, per="run"), Stage("probe", ExtractDocument)),
    on_final=Stage("analytics", RollupSource, per="run"),
)
