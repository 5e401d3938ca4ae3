"""Rows for dashboard tests: a source with a finished run, documents (one of them hostile),
insights, a rollup and a dead letter, written straight to the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.db.models import (
    DeadLetter,
    Document,
    Insight,
    Rollup,
    Run,
    Source,
    StageResult,
    utcnow,
)
from shared.ports import Runtime

# Every way crawled content could try to run script in the dashboard.
HOSTILE_TITLE = (
    "<script>window.pwned=1;document.title='pwned'</script><img src=x onerror=\"window.pwned=2\">"
)
HOSTILE_MARKDOWN = (
    "# Owned\n\n<script>window.pwned=3</script>\n\n"
    '<img src=x onerror="window.pwned=4">\n\n'
    "[click me](javascript:window.pwned=5) and [safe](https://example.org/ok)\n\n"
    '<a href="javascript:window.pwned=6">raw</a> <svg onload="window.pwned=7"></svg>\n\n'
    "![img](javascript:window.pwned=8)\n"
)
HOSTILE_URL = "javascript:window.pwned=9//https://evil.example/"
HOSTILE_SUMMARY = (
    '**bold** <iframe src="javascript:window.pwned=10"></iframe> [x](JaVaScRiPt:alert(1))'
)


@dataclass(frozen=True)
class Seeded:
    source_id: str
    run_id: str
    document_id: str
    hostile_id: str
    letter_id: str


async def seed(rt: Runtime, documents: int = 3) -> Seeded:
    now = utcnow()
    async with rt.db.writer() as session:
        source = Source(name="Gazette <b>bold</b>", kind="site", url="https://news.example/")
        session.add(source)
        await session.flush()
        run = Run(
            source_id=source.id,
            state="succeeded",
            trigger="api",
            discovered=documents + 1,
            started_at=now - timedelta(minutes=2),
            finished_at=now,
        )
        session.add(run)
        await session.flush()
        docs = [
            Document(
                source_id=source.id,
                url=f"https://news.example/a/{i}",
                title=f"Harbour story {i}",
                language="en" if i % 2 == 0 else "de",
                text=f"Story {i} about the harbour.",
                markdown=f"## Story {i}\n\nAbout the *harbour*.",
                updated_at=now - timedelta(seconds=i),
            )
            for i in range(documents)
        ]
        hostile = Document(
            source_id=source.id,
            url=HOSTILE_URL,
            canonical_url="javascript:window.pwned=11",
            title=HOSTILE_TITLE,
            author='"><script>window.pwned=12</script>',
            language="en",
            text="<script>window.pwned=13</script>",
            markdown=HOSTILE_MARKDOWN,
            updated_at=now + timedelta(seconds=1),
        )
        session.add_all([*docs, hostile])
        await session.flush()
        for doc in [*docs, hostile]:
            session.add(
                StageResult(
                    run_id=run.id, document_id=doc.id, stage="extraction", status="succeeded"
                )
            )
        session.add(
            StageResult(
                run_id=run.id,
                document_id=docs[0].id,
                stage="intelligence",
                status="failed",
                detail="model refused <script>window.pwned=14</script>",
            )
        )
        session.add(
            Insight(
                run_id=run.id,
                document_id=hostile.id,
                summary=HOSTILE_SUMMARY,
                keywords=["harbour", "<script>x</script>"],
                sentiment=-0.4,
                sentiment_label="negative",
                language="en",
                provider="local",
                model="offline",
                label="<script>window.pwned=17</script>Economy",
                entities=[{"text": "<img src=x onerror=window.pwned=18>", "type": "ORG"}],
            )
        )
        session.add(
            Rollup(
                source_id=source.id,
                day=now.date(),
                documents=documents + 1,
                avg_sentiment=0.2,
                languages={"en": 2, "de": 1},
                top_keywords=[["harbour", 3], ["<script>", 1]],
                sentiments={"positive": 1, "neutral": 1, "negative": 2},
                labels={"<script>window.pwned=16</script>": 2, "economy": 1},
                terms={"harbour": 3, "<script>": 1},
                top_entities=[["Ashford <b>Rovers</b>", "ORG", 2]],
            )
        )
        letter = DeadLetter(
            stage="extraction",
            run_id=run.id,
            body={"run_id": run.id, "url": "https://news.example/broken"},
            error="fetch failed: <script>window.pwned=15</script>",
            attempts=3,
        )
        session.add(letter)
        await session.flush()
        return Seeded(source.id, run.id, docs[0].id, hostile.id, letter.id)
