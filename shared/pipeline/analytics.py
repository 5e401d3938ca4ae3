"""Analytics core: per-source, per-day rollups of analysed documents, and volume trends."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

TOP_KEYWORDS = 10


@dataclass(frozen=True)
class DocFacts:
    """The few facts about one analysed document that the rollup needs."""

    source_id: str
    day: date
    language: str | None
    sentiment: float | None
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class DayRollup:
    """One source's documents on one day.

    `languages` counts only documents with a detected language, most frequent first;
    `avg_sentiment` is None when no document that day was scored.
    """

    source_id: str
    day: date
    documents: int
    avg_sentiment: float | None
    languages: tuple[tuple[str, int], ...]
    top_keywords: tuple[tuple[str, int], ...]


Rollup = tuple[DayRollup, ...]


@dataclass
class _Bucket:
    documents: int = 0
    sentiments: list[float] = field(default_factory=list)
    languages: Counter[str] = field(default_factory=Counter)
    keywords: Counter[str] = field(default_factory=Counter)


def rollup(docs: Iterable[DocFacts]) -> Rollup:
    """Group documents by (source_id, day) and summarise each group, sorted by that key.

    Ties in language and keyword counts are broken alphabetically so the output is
    the same whatever order the documents arrive in.
    """
    buckets: dict[tuple[str, date], _Bucket] = {}
    for doc in docs:
        bucket = buckets.setdefault((doc.source_id, doc.day), _Bucket())
        bucket.documents += 1
        if doc.sentiment is not None:
            bucket.sentiments.append(doc.sentiment)
        if doc.language:
            bucket.languages[doc.language] += 1
        # A keyword counts once per document, so one repetitive page cannot dominate.
        bucket.keywords.update(set(doc.keywords))
    return tuple(
        DayRollup(
            source_id=source_id,
            day=day,
            documents=b.documents,
            avg_sentiment=sum(b.sentiments) / len(b.sentiments) if b.sentiments else None,
            languages=_ranked(b.languages),
            top_keywords=_ranked(b.keywords)[:TOP_KEYWORDS],
        )
        for (source_id, day), b in sorted(buckets.items())
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


def _ranked(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
