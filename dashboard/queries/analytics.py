"""Rollups per source and day, as the Analytics page charts them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from shared.db.models import Rollup, Source, utcnow
from shared.runtime.deps import Runtime


@dataclass
class SourceSeries:
    source_id: str
    name: str
    days: list[date] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)
    sentiment: list[float | None] = field(default_factory=list)
    languages: Counter[str] = field(default_factory=Counter)
    keywords: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.documents)


def _keyword(item: object) -> tuple[str, int] | None:
    match item:
        case [str(word), int(n)] | {"keyword": str(word), "count": int(n)}:
            return word, n
        case str(word):
            return word, 1
    return None


async def series(rt: Runtime, days: int = 30) -> list[SourceSeries]:
    since = utcnow().date() - timedelta(days=days - 1)
    async with rt.db.reader() as session:
        rows = await session.execute(
            select(Rollup, Source.name)
            .join(Source, Source.id == Rollup.source_id)
            .where(Rollup.day >= since)
            .order_by(Source.name, Rollup.day)
        )
        out: dict[str, SourceSeries] = {}
        for rollup, name in rows:
            s = out.setdefault(rollup.source_id, SourceSeries(rollup.source_id, str(name)))
            s.days.append(rollup.day)
            s.documents.append(rollup.documents)
            s.sentiment.append(rollup.avg_sentiment)
            for lang, n in (rollup.languages or {}).items():
                if isinstance(n, int):
                    s.languages[str(lang)] += n
            for item in rollup.top_keywords or []:
                found = _keyword(item)
                if found:
                    s.keywords[found[0]] += found[1]
    return list(out.values())
