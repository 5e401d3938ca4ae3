"""A generated site for the pipeline benchmarks: N distinct English articles and an open
robots.txt in a folder, served from several loopback origins under one sitemap."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from emulator.demo import serve_site

# Origins the pages are spread over: fetches to one origin take turns, as politeness asks.
HOSTS = 4


@dataclass(frozen=True)
class Site:
    """A served generated site: its sitemap URL and the host:port of every origin."""

    sitemap: str
    hosts: tuple[str, ...]


# Function words keep the text recognisably English; the made-up content words (drawn
# from a large vocabulary) keep any two articles far apart by simhash, as real ones are.
_FUNCTION = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "with",
    "as",
    "was",
    "on",
    "by",
    "at",
    "from",
    "this",
    "which",
]
_SYLLABLES = ("ka", "lo", "mer", "vin", "sa", "tor", "bel", "ru", "dan", "fi", "gro", "pel")


def article(i: int) -> str:
    """Article `i`: about 300 words of English-looking prose, deterministic per index."""
    rng = random.Random(i)
    sentences = []
    for _ in range(24):
        words = [
            rng.choice(_FUNCTION) if rng.random() < 0.45 else _word(rng)
            for _ in range(rng.randint(8, 18))
        ]
        sentences.append(" ".join(words).capitalize() + ".")
    paragraphs = "".join(f"<p>{' '.join(sentences[k : k + 4])}</p>" for k in range(0, 24, 4))
    return (
        f"<!doctype html><html lang='en'><head><title>Report {i}</title>"
        f"<meta name='author' content='Desk {i % 7}'>"
        f"<meta property='article:published_time' content='2026-11-{1 + i % 28:02d}'>"
        f"</head><body><nav><a href='/'>Home</a> <a href='/about'>About</a></nav>"
        f"<article><h1>Report {i}</h1>{paragraphs}</article>"
        f"<footer>Copyright 2026 The Generated Gazette</footer></body></html>"
    )


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))


def write_site(root: Path, pages: int) -> list[Path]:
    """Write `pages` articles and an open robots.txt under `root`; return the pages."""
    (root / "a").mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(pages):
        path = root / "a" / f"{i}.html"
        path.write_text(article(i))
        paths.append(path)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return paths


@contextmanager
def served(root: Path, pages: int, hosts: int = HOSTS) -> Iterator[Site]:
    """Serve the site from `hosts` loopback servers (each its own host for politeness, as a
    news site's pages spread over several origins would be) with one sitemap that lists
    page i on host i mod `hosts`."""
    with ExitStack() as stack:
        bases = [stack.enter_context(serve_site(root)) for _ in range(hosts)]
        urls = "".join(f"<url><loc>{bases[i % hosts]}/a/{i}.html</loc></url>" for i in range(pages))
        (root / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )
        yield Site(
            sitemap=f"{bases[0]}/sitemap.xml", hosts=tuple(b.split("//", 1)[1] for b in bases)
        )
