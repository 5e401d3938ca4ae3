"""`quarry extract`: one page from a file, a gzipped file or a URL; a refused URL's outcome."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.demo import serve_site
from tests.conftest import ROOT

QUARRY = Path(sys.executable).with_name("quarry")
SITE = ROOT / "tests/sites/extraction"
PAGE = SITE / "news-sidebar-comments.html"
KEYS = {
    "text",
    "markdown",
    "title",
    "author",
    "date",
    "language",
    "canonical_url",
    "site_name",
    "content_hash",
}


def quarry(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(QUARRY), "extract", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve_site(SITE) as base:
        yield base


def assert_news_page(out: dict[str, str | None]) -> None:
    assert set(out) == KEYS
    assert out["title"] == "River authority approves new flood barrier for Dunmore"
    assert (out["author"], out["date"], out["language"]) == ("Priya Raman", "2026-03-14", "en")
    assert out["canonical_url"] == "https://courier.example/news/dunmore-flood-barrier"
    assert out["site_name"] == "The Northern Courier"
    assert "movable flood barrier for Dunmore" in str(out["text"])
    assert "Missing cat found alive" not in str(out["text"])
    assert str(out["markdown"]).startswith("# River authority approves")


def test_extract_cli_file_prints_json() -> None:
    done = quarry(str(PAGE))
    assert done.returncode == 0, done.stderr
    assert_news_page(json.loads(done.stdout))


def test_extract_cli_gzipped_file_matches_the_plain_file(tmp_path: Path) -> None:
    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(PAGE.read_bytes()))
    done = quarry(str(packed), "--url", "https://courier.example/news/x")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(quarry(str(PAGE)).stdout)


def test_extract_cli_markdown_format() -> None:
    done = quarry(str(PAGE), "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# River authority approves new flood barrier for Dunmore\n")


def test_extract_cli_url_through_the_fetcher(site: str) -> None:
    host = site.split("//", 1)[1]
    done = quarry(f"{site}/news-sidebar-comments.html", "--allow-host", host)
    assert done.returncode == 0, done.stderr
    assert_news_page(json.loads(done.stdout))


def test_extract_cli_loopback_url_is_refused_without_allow_host(site: str) -> None:
    done = quarry(f"{site}/news-sidebar-comments.html")
    assert done.returncode == 3
    out = json.loads(done.stdout)
    assert out["outcome"] == "blocked"
    assert out["url"] == f"{site}/news-sidebar-comments.html"


def test_extract_cli_metadata_address_is_refused() -> None:
    done = quarry("http://169.254.169.254/latest/meta-data/")
    assert done.returncode == 3
    assert json.loads(done.stdout)["outcome"] == "blocked"


def test_extract_cli_rejects_a_file_that_is_not_a_page(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    done = quarry(str(notes))
    assert done.returncode == 2
    assert "pass an .html or .html.gz file, or a URL" in done.stderr
