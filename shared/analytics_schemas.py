"""Analytics API bodies: daily rollups, an overview of a period, rising terms, stage counts."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Sentiments(BaseModel):
    """Documents per sentiment label."""

    positive: int = 0
    neutral: int = 0
    negative: int = 0


class TermCount(BaseModel):
    term: str
    documents: int


class EntityCount(BaseModel):
    text: str
    type: str
    documents: int


class DayRollupOut(BaseModel):
    """One source's analysed documents on one UTC day."""

    source_id: str
    day: date
    documents: int
    avg_sentiment: float | None
    sentiments: Sentiments
    languages: dict[str, int]
    labels: dict[str, int]
    top_keywords: list[TermCount]
    top_entities: list[EntityCount]


class Rollups(BaseModel):
    since: date
    until: date
    source_id: str | None
    items: list[DayRollupOut] = Field(description="Ordered by day, then source.")


class Overview(BaseModel):
    """The rollups of a period merged: one source's or every source's."""

    since: date
    until: date
    source_id: str | None
    days: int = Field(description="Days in the period with at least one analysed document.")
    documents: int
    avg_sentiment: float | None
    sentiments: Sentiments
    languages: dict[str, int]
    labels: dict[str, int]
    top_keywords: list[TermCount]
    top_entities: list[EntityCount]


class TrendOut(BaseModel):
    term: str
    documents: int = Field(description="Documents in the window with the term.")
    baseline_documents: int
    rate: float = Field(description="Share of the window's documents with the term.")
    baseline_rate: float
    lift: float = Field(description="Window rate over the smoothed baseline rate.")


class Trends(BaseModel):
    source_id: str | None
    until: date
    window_days: int
    baseline_days: int
    window_documents: int
    baseline_documents: int
    items: list[TrendOut] = Field(description="Rising terms, highest lift first.")


class StageDay(BaseModel):
    day: date
    succeeded: int
    failed: int


class StageOut(BaseModel):
    stage: str
    totals: dict[str, int] = Field(description="Per-document results by status.")
    succeeded_per_day: float = Field(description="Mean over the days with activity.")
    days: list[StageDay]


class Stages(BaseModel):
    since: date
    until: date
    source_id: str | None
    items: list[StageOut] = Field(description="In pipeline order.")
