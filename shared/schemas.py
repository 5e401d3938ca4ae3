"""API bodies: what clients send and receive. Validated at the boundary, extras refused."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from shared.schedule import ScheduleError, parse_schedule

T = TypeVar("T")
SourceKind = Literal["site", "sitemap", "feed", "crawl", "urls"]


class CrawlIn(BaseModel):
    """How far a `crawl` source goes: depth and page caps, a path prefix on the start URL's
    host, and regular expressions a URL must match (`include`) or must not (`exclude`)."""

    model_config = ConfigDict(extra="forbid")
    max_depth: int = Field(2, ge=0, le=10)
    max_pages: int = Field(200, ge=1, le=5_000)
    include: list[str] = Field(default_factory=list, max_length=50)
    exclude: list[str] = Field(default_factory=list, max_length=50)
    path_prefix: str | None = Field(None, max_length=2_000, pattern=r"^/")
    follow_nofollow: bool = False

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
        return value


class SourceIn(BaseModel):
    """A source to run: a whole site (robots.txt sitemaps and feeds), one sitemap, one
    feed, a link crawl, or a list of page URLs.

    A `crawl` starts at `url` and follows links within `crawl` (default: depth 2, 200
    pages, that host, under that URL's directory); `crawl` is refused for other kinds.
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: SourceKind
    url: HttpUrl | None = Field(None, description="Site root, sitemap, feed or crawl start URL.")
    urls: list[HttpUrl] = Field(default_factory=list, max_length=10_000)
    schedule: str | None = Field(None, description="rate(...) or cron(...), as EventBridge.")
    crawl: CrawlIn | None = Field(None, description="Crawl scope; only for `crawl` sources.")

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
        if self.crawl is not None and self.kind != "crawl":
            raise ValueError(f"`crawl` options apply to `crawl` sources, not `{self.kind}`")
        return self


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    kind: str
    url: str | None
    urls: list[str]
    schedule: str | None
    crawl: CrawlIn | None = None
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
    request_id: str | None = Field(
        None, description="The request that started the run; every log line it caused has it."
    )
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
