"""The extraction benchmark: pages/s of Quarry's extraction core against bare trafilatura on
the same pages, each page extracted by both in turn so drift hits them alike."""

from __future__ import annotations

import gzip
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from shared.errors import ConfigError
from shared.pipeline.extract import extract
from tools.bench.report import Benchmark, BenchOptions, Measurement, to_benchmark

ROOT = Path(__file__).resolve().parents[2]
DIRS = (ROOT / "tests/sites/extraction", ROOT / "tests/sites/demo/articles")
BASELINE = "trafilatura-full"
TEXT_ONLY = "trafilatura-text"
VARIANT = "quarry-extract"
# Quick runs (300 requests) make one pass over the pages; full runs ~1,000 extractions.
PAGES_PER_REQUEST = 10
DESCRIPTION = (
    "Pages per second of `shared.pipeline.extract.extract()`: main text, "
    "Markdown, metadata, language, canonical URL, content hash and simhash "
    f"(`{VARIANT}`), against bare trafilatura doing the same job, "
    "`bare_extraction(html, url=url, with_metadata=True, include_formatting=True, "
    f"include_tables=True)` (`{BASELINE}`, the baseline), and against "
    f"`trafilatura.extract(html, url=url)` with its default settings, plain text only "
    f"(`{TEXT_ONLY}`), on the same pages in one process (concurrency 1)."
)

Page = tuple[str, str]  # (url, html)


def read_html(path: Path) -> str:
    """An .html or .html.gz file as text (undecodable bytes replaced, as the fetcher does)."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def load_pages(dirs: tuple[Path, ...] | list[Path]) -> list[Page]:
    pages: list[Page] = []
    for directory in dirs:
        if not directory.is_dir():
            raise ConfigError(f"{directory} is not a directory; pass folders of .html pages")
        for path in sorted(directory.iterdir()):
            if path.name.endswith((".html", ".html.gz")):
                pages.append((f"https://bench.example/{path.name}", read_html(path)))
    if not pages:
        raise ConfigError(f"no .html or .html.gz pages in {', '.join(map(str, dirs))}")
    return pages


def _quarry(url: str, html: str) -> object:
    return extract(html, url)


def _bare_full(url: str, html: str) -> object:
    return trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_formatting=True, include_tables=True
    )


def _bare_text(url: str, html: str) -> object:
    return trafilatura.extract(html, url=url)


VARIANTS: dict[str, Callable[[str, str], object]] = {
    VARIANT: _quarry,
    BASELINE: _bare_full,
    TEXT_ONLY: _bare_text,
}


def measure(pages: list[Page], total: int, options: BenchOptions) -> list[Measurement]:
    """Extract `total` pages (cycling through `pages`) with every variant, timing each call."""
    for url, html in pages[: min(5, len(pages))]:  # warm-up: imports, caches, regexes
        for fn in VARIANTS.values():
            fn(url, html)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    options.meter.start("extraction", total)
    for i in range(total):
        url, html = pages[i % len(pages)]
        for name, fn in VARIANTS.items():
            start = time.perf_counter()
            fn(url, html)
            times[name].append(time.perf_counter() - start)
        options.meter.advance()
    return [
        Measurement(
            name=name,
            requests=total,
            concurrency=1,
            rps=total / sum(spent),
            p50_ms=statistics.median(spent) * 1000,
            p99_ms=statistics.quantiles(spent, n=100, method="inclusive")[98] * 1000,
        )
        for name, spent in times.items()
    ]


async def bench_extraction(
    options: BenchOptions, dirs: tuple[Path, ...] | list[Path] = DIRS
) -> Benchmark:
    pages = load_pages(dirs)
    total = max(len(pages), options.requests // PAGES_PER_REQUEST)
    measured = measure(pages, total, options)
    return to_benchmark("extraction", DESCRIPTION, BASELINE, measured, unit="pages/s")
