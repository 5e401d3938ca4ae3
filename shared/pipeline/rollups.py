"""Analytics core: per-source, per-day (UTC) rollups of analysed documents, and stage counts."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from shared.pipeline.sentiment import label as sentiment_label

TOP_KEYWORDS = 10
TOP_ENTITIES = 10
# Every keyword of a day is kept for trend detection, up to this many per (source, day).
MAX_TERMS = 500
SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class DocFacts:
    """The few facts about one analysed document that the rollup needs.

    `entities` are (text, type) pairs; `sentiment_label` falls back to the score's label.
    """

    source_id: str
    day: date
    language: str | None
    sentiment: float | None
    keywords: tuple[str, ...]
    sentiment_label: str | None = None
    entities: tuple[tuple[str, str], ...] = ()
    label: str | None = None


@dataclass(frozen=True)
class DayRollup:
    """One source's documents on one UTC day.

    `languages`, `labels`, `top_keywords` and `terms` count documents, most frequent first
    (ties alphabetical); `avg_sentiment` is None when no document that day was scored;
    `sentiments` counts documents per sentiment label, all three always present.
    """

    source_id: str
    day: date
    documents: int
    avg_sentiment: float | None
    languages: tuple[tuple[str, int], ...]
    top_keywords: tuple[tuple[str, int], ...]
    sentiments: tuple[tuple[str, int], ...] = tuple((s, 0) for s in SENTIMENTS)
    top_entities: tuple[tuple[str, str, int], ...] = ()
    labels: tuple[tuple[str, int], ...] = ()
    terms: tuple[tuple[str, int], ...] = ()


Rollup = tuple[DayRollup, ...]


@dataclass
class _Bucket:
    documents: int = 0
    sentiments: list[float] = field(default_factory=list)
    labels_of_sentiment: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    keywords: Counter[str] = field(default_factory=Counter)
    entities: Counter[tuple[str, str]] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)


def utc_day(published: str | None, fallback: datetime) -> date:
    """The UTC day a document belongs to: its published time if readable, else `fallback`.

    "2024-03-01T23:30:00-05:00" is 2 March in UTC; a bare "2024-03-01" is that day; an
    unreadable value (hostile or just odd) falls back rather than failing the rollup.
    """
    if published:
        text = published.strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                moment = None
        if moment is not None:
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC)
            return moment.date()
    return fallback.astimezone(UTC).date() if fallback.tzinfo else fallback.date()


def rollup(docs: Iterable[DocFacts]) -> Rollup:
    """Group documents by (source_id, day) and summarise each group, sorted by that key.

    Keywords, entities and labels count once per document, so one repetitive page cannot
    dominate; ties are broken alphabetically so the output does not depend on order.
    """
    buckets: dict[tuple[str, date], _Bucket] = {}
    for doc in docs:
        bucket = buckets.setdefault((doc.source_id, doc.day), _Bucket())
        bucket.documents += 1
        if doc.sentiment is not None:
            bucket.sentiments.append(doc.sentiment)
        named = doc.sentiment_label or (
            sentiment_label(doc.sentiment) if doc.sentiment is not None else None
        )
        if named in SENTIMENTS:
            bucket.labels_of_sentiment[named] += 1
        if doc.language:
            bucket.languages[doc.language] += 1
        bucket.keywords.update(set(doc.keywords))
        bucket.entities.update(set(doc.entities))
        if doc.label:
            bucket.labels[doc.label] += 1
    return tuple(_summary(source_id, day, b) for (source_id, day), b in sorted(buckets.items()))


def _summary(source_id: str, day: date, b: _Bucket) -> DayRollup:
    entities = sorted(b.entities.items(), key=lambda item: (-item[1], item[0]))
    return DayRollup(
        source_id=source_id,
        day=day,
        documents=b.documents,
        avg_sentiment=sum(b.sentiments) / len(b.sentiments) if b.sentiments else None,
        languages=ranked(b.languages),
        top_keywords=ranked(b.keywords)[:TOP_KEYWORDS],
        sentiments=tuple((s, b.labels_of_sentiment[s]) for s in SENTIMENTS),
        top_entities=tuple((text, kind, n) for (text, kind), n in entities[:TOP_ENTITIES]),
        labels=ranked(b.labels),
        terms=ranked(b.keywords)[:MAX_TERMS],
    )


def trend(series: Sequence[DayRollup]) -> float:
    """Least-squares slope of documents per day over the given days (0.0 below two days).

    Days absent from `series` are not counted as zero; pass them explicitly if they should be.
    """
    if len(series) < 2:
        return 0.0
    origin = min(r.day for r in series)
    xs = [float((r.day - origin).days) for r in series]
    ys = [float(r.documents) for r in series]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0.0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def ranked(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    """Counts most frequent first, ties alphabetical."""
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


@dataclass(frozen=True)
class StageCount:
    """One row of stage_results counted: how many (stage, status) rows on a UTC day."""

    stage: str
    status: str
    day: date
    count: int


@dataclass(frozen=True)
class StageStats:
    """Per-stage totals by status, and succeeded/failed per day for throughput charts."""

    stage: str
    totals: tuple[tuple[str, int], ...]
    days: tuple[tuple[date, int, int], ...]
    per_day: float


def stage_stats(rows: Iterable[StageCount], stages: Sequence[str] = ()) -> tuple[StageStats, ...]:
    """Fold counted stage_results rows into per-stage figures, in `stages` order first.

    `per_day` is the mean number of documents a stage finished (succeeded) per day over
    the days that had any activity in that stage.
    """
    totals: dict[str, Counter[str]] = {}
    days: dict[str, dict[date, list[int]]] = {}
    for row in rows:
        totals.setdefault(row.stage, Counter())[row.status] += row.count
        cell = days.setdefault(row.stage, {}).setdefault(row.day, [0, 0])
        if row.status == "succeeded":
            cell[0] += row.count
        elif row.status == "failed":
            cell[1] += row.count
    order = [s for s in stages if s in totals] + sorted(set(totals) - set(stages))
    out = []
    for stage in order:
        per_day = sorted(days[stage].items())
        succeeded = sum(ok for ok, _ in days[stage].values())
        out.append(
            StageStats(
                stage=stage,
                totals=ranked(totals[stage]),
                days=tuple((day, ok, failed) for day, (ok, failed) in per_day),
                per_day=succeeded / len(per_day) if per_day else 0.0,
            )
        )
    return tuple(out)
