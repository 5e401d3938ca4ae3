"""`quarry extract`: the extraction core on one page, from a file or through the safe fetcher."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shared.config import Settings
from shared.errors import ConfigError
from shared.fetch import FetchError, HttpFetcher
from shared.pipeline.extract import Extracted, extract
from tools.bench.extraction import read_html

Format = Literal["json", "markdown"]
FORMATS: tuple[Format, ...] = ("json", "markdown")
SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
EXIT_FETCH_FAILED = 3


@dataclass(frozen=True)
class Result:
    """What to print and the exit status."""

    output: str
    code: int


def to_format(value: str) -> Format:
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise ConfigError(f"--format {value!r} is not known; use json or markdown")


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def to_json(e: Extracted) -> dict[str, str | None]:
    return {
        "text": e.text,
        "markdown": e.markdown,
        "title": e.title,
        "author": e.author,
        "date": e.published,
        "language": e.language,
        "canonical_url": e.canonical_url,
        "site_name": e.site_name,
        "content_hash": e.content_hash,
    }


def render(e: Extracted, fmt: Format) -> str:
    return e.markdown if fmt == "markdown" else json.dumps(to_json(e), ensure_ascii=False, indent=2)


def from_file(path: Path, url: str | None, fmt: Format) -> Result:
    """Extract a saved page; `url` is its address, used to resolve a relative canonical link."""
    if not path.name.lower().endswith(SUFFIXES):
        raise ConfigError(f"{path} is not a page: pass an .html or .html.gz file, or a URL")
    if not path.is_file():
        raise ConfigError(f"{path} does not exist or is not a file")
    html = read_html(path)
    return Result(render(extract(html, url or path.resolve().as_uri()), fmt), 0)


async def from_url(settings: Settings, url: str, fmt: Format) -> Result:
    """Fetch with the same guarded fetcher the pipeline uses; a refused or failed fetch is a
    JSON object with its `outcome`, and exit status 3."""
    try:
        page = await HttpFetcher(settings).get(url)
    except FetchError as exc:
        return _failed(url, exc.outcome, exc.detail)
    if page.status >= 400:
        return _failed(url, "http_error", f"HTTP {page.status} from {page.url}")
    return Result(render(extract(page.text, page.url), fmt), 0)


def _failed(url: str, outcome: str, detail: str) -> Result:
    body = {"url": url, "outcome": outcome, "detail": detail}
    return Result(json.dumps(body, ensure_ascii=False, indent=2), EXIT_FETCH_FAILED)
