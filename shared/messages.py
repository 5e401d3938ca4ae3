"""Queue messages between stages: validated at the boundary, unknown fields refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    run_id: str


class DiscoverSource(Message):
    """discovery: turn the run's source into candidate documents; with `urls` (a webhook
    whose payload names the pages), exactly those pages instead of reading the source."""

    source_id: str
    urls: list[str] | None = None


class ExtractDocument(Message):
    """extraction: fetch one document's page and extract its main text."""

    source_id: str
    document_id: str
    url: str


class AnalyseDocument(Message):
    """intelligence: derive insights from one extracted document."""

    source_id: str
    document_id: str


class RollupSource(Message):
    """analytics: recompute one source's rollups (after a run ends, or on schedule)."""

    source_id: str | None = None
