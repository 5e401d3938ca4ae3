"""API bodies: what clients send and receive. Validated at the boundary, extras refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from shared.cost_schemas import RunCostOut
from shared.pipeline.urlpatterns import compile_patterns
from shared.schedule_expressions import ScheduleError, parse_schedule

T = TypeVar("T")
SourceKind = Literal["site", "sitemap", "feed", "crawl", "urls"]


class CrawlIn(BaseModel):
    """How far a `crawl` source goes: depth and page caps, a path prefix on the start URL's
    host, and regular expressions a URL must match (`include`) or must not (`exclude`), in
    RE2's syntax (linear-time matching: no backreferences or lookaround)."""

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
        compile_patterns(value)  # ValueError naming the pattern and RE2's reason
        return value


MAX_SCHEMA_CHARS = 20_000


def _local_refs_only(node: Any, where: str = "schema") -> None:
    """Refuse `$ref`s that leave the schema: they would be fetched or fail at run time."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None and (not isinstance(ref, str) or not ref.startswith("#")):
            raise ValueError(f"{where}: only local `$ref`s (starting with `#`) are accepted")
        for key, value in node.items():
            _local_refs_only(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _local_refs_only(value, f"{where}/{i}")


class IntelligenceIn(BaseModel):
    """What the intelligence stage does for this source beyond summary, entities, keywords
    and sentiment: classify into `labels` (name → description of what belongs there), and
    extract fields against `schema`, a JSON Schema of an object (validated answers only)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    labels: dict[str, str] = Field(default_factory=dict, max_length=50)
    json_schema: dict[str, Any] | None = Field(
        None, alias="schema", description="JSON Schema (draft 2020-12) of an object to extract."
    )

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for name, description in value.items():
            if not 1 <= len(name.strip()) <= 100 or len(description) > 500:
                raise ValueError(
                    "each label needs a name of 1 to 100 characters and a description of at "
                    f"most 500; {name[:100]!r} has not"
                )
        return value

    @field_validator("json_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        import json

        import jsonschema  # only when a schema arrives: it is slow to import

        if len(json.dumps(value)) > MAX_SCHEMA_CHARS:
            raise ValueError(f"the JSON Schema is longer than {MAX_SCHEMA_CHARS} characters")
        validator = jsonschema.validators.validator_for(value, jsonschema.Draft202012Validator)
        try:
            validator.check_schema(value)
        except jsonschema.SchemaError as exc:
            at = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise ValueError(f"not a valid JSON Schema at {at}: {exc.message}") from exc
        if value.get("type") != "object":
            raise ValueError('the JSON Schema must describe an object ("type": "object")')
        _local_refs_only(value)
        return value

    def stored(self) -> dict[str, Any]:
        """As kept in the source's `intelligence` column."""
        return {"labels": self.labels, "schema": self.json_schema}


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
    intelligence: IntelligenceIn | None = Field(
        None, description="Labels to classify into and a JSON Schema to extract."
    )

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
    intelligence: IntelligenceIn | None = None
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
    spent_tokens: int = Field(0, description="LLM tokens the run's calls spent so far.")
    spent_usd: float = Field(0.0, description="Their estimated cost in USD.")
    budget_tokens: int | None = Field(None, description="The run's LLM token budget, if any.")
    budget_usd: float | None = Field(None, description="The run's LLM USD budget, if any.")
    cost: RunCostOut | None = Field(
        None,
        description="The run's estimated AWS cost, broken down, with the inputs it follows "
        "from (GET /api/v1/runs/{run_id} only; lists leave it out).",
    )


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
    status: str = Field(
        "ok", description="ok, or invalid_output when structured extraction failed validation."
    )
    entities: list[dict[str, str]] | None = None
    label: str | None = None
    label_scores: dict[str, float] | None = None
    structured: dict[str, Any] | None = None
    missing_fields: list[str] | None = None
    tokens: int = Field(0, description="LLM tokens this insight's calls spent (cached: 0).")
    cost_usd: float = Field(0.0, description="Their estimated cost from the price table.")


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
