"""API bodies: what clients send and receive. Validated at the boundary, extras refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from shared.schedule import ScheduleError, parse_schedule

T = TypeVar("T")
SourceKind = Literal["site", "sitemap", "feed", "crawl", "urls"]


class SourceIn(BaseModel):
    """A source to run: a whole site (robots.txt sitemaps and feeds), one sitemap, one
    feed, a link crawl, or a list of page URLs.

    A `crawl` starts at `url` and follows links up to depth 2 and 200 pages, on that host
    and under that URL's directory; per-source crawl options (depth, pages, include and
    exclude patterns, path prefix) arrive with the migration that gives sources a column
    for them. Until then `quarry discover --kind crawl` takes them on the command line.
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: SourceKind
    url: HttpUrl | None = Field(None, description="Site root, sitemap, feed or crawl start URL.")
    urls: list[HttpUrl] = Field(default_factory=list, max_length=10_000)
    schedule: str | None = Field(None, description="rate(...) or cron(...), as EventBridge.")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_schedule(value)
            except ScheduleError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @model_validator(mode="after")
    def _entry(self) -> SourceIn:
        if self.kind == "urls" and not self.urls:
            raise ValueError("a `urls` source needs at least one URL in `urls`")
        if self.kind != "urls" and self.url is None:
            raise ValueError(f"a `{self.kind}` source needs `url`")
        return self


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    kind: str
    url: str | None
    urls: list[str]
    schedule: str | None
    created_at: datetime


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_id: str = Field(min_length=1, max_length=64)


class StageCounts(BaseModel):
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    source_id: str
    state: str
    trigger: str
    discovered: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    stages: dict[str, StageCounts] = Field(default_factory=dict)


class InsightOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    run_id: str
    summary: str
    keywords: list[str]
    sentiment: float | None
    sentiment_label: str | None
    language: str | None
    provider: str
    model: str


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    source_id: str
    url: str
    title: str | None
    author: str | None
    published: str | None
    language: str | None
    canonical_url: str | None
    site_name: str | None
    content_hash: str | None
    duplicate_of: str | None
    updated_at: datetime


class DocumentDetail(DocumentOut):
    text: str | None
    markdown: str | None
    insights: list[InsightOut] = Field(default_factory=list)
    stages: list[dict[str, Any]] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next page."""

    items: list[T]
    next_cursor: str | None


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    stage: str
    run_id: str | None
    body: dict[str, Any]
    error: str
    attempts: int
    created_at: datetime
    replayed_at: datetime | None
