"""Extraction core: fetched HTML → main text, metadata and fingerprints (pure, no network)."""

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.xml import xmltotxt

from shared.pipeline.language import detect_language
from shared.pipeline.similarity import simhash

MIN_MAIN_TEXT = 200
_LANG_SUBTAG = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Extracted:
    """Main text and metadata of one page; `simhash` is unsigned (see `to_signed64`).
    `markdown` is the same main text with headings, lists, emphasis and code kept."""

    title: str | None
    author: str | None
    published: str | None
    language: str | None
    canonical_url: str | None
    text: str
    content_hash: str
    simhash: int
    markdown: str = ""
    site_name: str | None = None


def extract(html: str, url: str) -> Extracted:
    """Pull the main text and metadata out of a page, dropping navigation and boilerplate.

    Never raises on malformed input: a page with nothing readable gives empty text.
    Works on the string only, so trafilatura never fetches anything. One extraction keeps
    the formatting; the plain text is rendered from the same tree (it matches a plain
    extraction exactly, and costs a fraction of a second pass).
    """
    if not html.strip():
        return _build(text="", language=None)
    try:
        # One parse serves both the head scan and trafilatura (which copies the tree).
        tree = trafilatura.load_html(html)
    except ValueError:  # undecodable markup: a page without text
        tree = None
    if tree is None:
        return _build(text="", language=None)
    head = _read_head(tree, url)
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_formatting=True,
        )
    except ValueError:  # unparsable markup: treat as a page without text
        doc = None
    if doc is None or isinstance(doc, dict):
        return _build(text="", language=head.language, canonical_url=head.canonical_url)
    text = xmltotxt(doc.body, False).strip() if doc.body is not None else ""
    return _build(
        text=text,
        markdown=(doc.text or "").strip() if text else "",
        site_name=_clean(doc.sitename),
        language=head.language or detect_language(text),
        title=_clean(doc.title),
        author=_clean(doc.author),
        published=_clean(doc.date),
        canonical_url=head.canonical_url,
    )


def has_main_text(e: Extracted) -> bool:
    """True when the page carried an article-sized body rather than just menus and captions."""
    return len(e.text) >= MIN_MAIN_TEXT


def content_hash(text: str) -> str:
    """Sha256 hex of the text with whitespace collapsed, so reflowed copies hash alike."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()


def _build(
    *,
    text: str,
    language: str | None,
    title: str | None = None,
    author: str | None = None,
    published: str | None = None,
    canonical_url: str | None = None,
    markdown: str = "",
    site_name: str | None = None,
) -> Extracted:
    return Extracted(
        title=title,
        author=author,
        published=published,
        language=language,
        canonical_url=canonical_url,
        text=text,
        content_hash=content_hash(text),
        simhash=simhash(text),
        markdown=markdown,
        site_name=site_name,
    )


@dataclass(frozen=True)
class _Head:
    language: str | None
    canonical_url: str | None


def _read_head(tree: HtmlElement, url: str) -> _Head:
    """`<html lang>`, rel=canonical and og:url, which trafilatura does not report."""
    root = tree.getroottree().getroot()
    declared = root.get("lang") or root.get("xml:lang") if root.tag == "html" else None
    canonical = [
        link.get("href") or ""
        for link in root.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    og_url = [
        meta.get("content") or ""
        for meta in root.iter("meta")
        if (meta.get("property") or "").lower() == "og:url"
    ]
    return _Head(
        language=_primary_subtag(declared), canonical_url=_absolute(canonical + og_url, url)
    )


def _primary_subtag(declared: str | None) -> str | None:
    if not declared:
        return None
    primary = declared.strip().lower().replace("_", "-").split("-")[0]
    return primary if _LANG_SUBTAG.fullmatch(primary) else None


def _absolute(candidates: list[str], url: str) -> str | None:
    for candidate in candidates:
        if not candidate.strip():
            continue
        try:
            absolute = urljoin(url, candidate.strip())
            parts = urlsplit(absolute)
        except ValueError:  # e.g. a malformed IPv6 host
            continue
        if parts.scheme in ("http", "https") and parts.netloc:
            return absolute
    return None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None
