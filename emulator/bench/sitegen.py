"""A generated site for the pipeline benchmark: N distinct English articles, a sitemap that
lists them and an open robots.txt, written to a folder the demo server can serve."""

from __future__ import annotations

import random
from pathlib import Path

HOST = "http://demo.quarry.test"  # the demo server rewrites it to its real address
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
    """Write `pages` articles, sitemap.xml and robots.txt under `root`; return the pages."""
    (root / "a").mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(pages):
        path = root / "a" / f"{i}.html"
        path.write_text(article(i))
        paths.append(path)
    urls = "".join(f"<url><loc>{HOST}/a/{i}.html</loc></url>" for i in range(pages))
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    (root / "robots.txt").write_text(f"User-agent: *\nAllow: /\nSitemap: {HOST}/sitemap.xml\n")
    return paths
