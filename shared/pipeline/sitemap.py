"""Sitemap parsing: sitemaps.org XML (plain or gzip) to page URLs and child sitemaps."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

MAX_SITEMAP_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"

# Declarations are searched for in every encoding an XML parser will sniff from the bytes,
# so a UTF-16 document cannot smuggle an entity bomb past the check.
_DECLARATIONS = tuple(
    marker.encode(encoding)
    for marker in ("<!doctype", "<!entity")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")


class SitemapError(ValueError):
    """The bytes are not a sitemap this parser will accept; the message says why."""


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    """One ``<url>`` entry: the page address and when it last changed, in UTC if known."""

    loc: str
    lastmod: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A parsed sitemap: page URLs from a ``<urlset>``, child sitemaps from a ``<sitemapindex>``."""

    urls: tuple[SitemapUrl, ...] = ()
    sitemaps: tuple[str, ...] = ()


def parse_sitemap(data: bytes) -> Sitemap:
    """Parse a sitemap or sitemap index, gzip-compressed or not.

    Documents with a DOCTYPE or ENTITY declaration are refused before any XML parsing, since
    sitemaps never need them and they are how entity-expansion bombs are built; so is anything
    over 50 MiB once decompressed (the sitemaps.org limit). Entries without a ``<loc>`` are
    skipped, and an unreadable ``<lastmod>`` becomes ``None`` rather than losing the URL.
    Raises ``SitemapError`` for everything it refuses.
    """
    text = _decompress(data) if data[:2] == GZIP_MAGIC else data
    if len(text) > MAX_SITEMAP_BYTES:
        raise SitemapError(
            f"sitemap is {len(text)} bytes; at most {MAX_SITEMAP_BYTES} bytes (50 MiB) accepted"
        )
    lowered = text.lower()
    if any(marker in lowered for marker in _DECLARATIONS):
        raise SitemapError(
            "sitemap contains a DOCTYPE or ENTITY declaration; refused to prevent entity expansion"
        )
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise SitemapError(f"sitemap is not well-formed XML: {exc}") from exc

    namespace, kind = _split_tag(root.tag)
    if kind == "urlset":
        return Sitemap(urls=tuple(_urls(root, namespace)))
    if kind == "sitemapindex":
        entries = root.iterfind(_qualified(namespace, "sitemap"))
        return Sitemap(sitemaps=tuple(loc for entry in entries if (loc := _loc(entry, namespace))))
    raise SitemapError(f"root element is <{kind}>; expected <urlset> or <sitemapindex>")


def _decompress(data: bytes) -> bytes:
    """Gunzip every member, stopping as soon as the output passes the size limit."""
    chunks: list[bytes] = []
    size = 0
    remaining = data
    while remaining:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(remaining, MAX_SITEMAP_BYTES + 1 - size)
        except zlib.error as exc:
            raise SitemapError(
                f"sitemap looks gzip-compressed but cannot be inflated: {exc}"
            ) from exc
        size += len(chunk)
        if size > MAX_SITEMAP_BYTES:
            raise SitemapError(
                f"decompressed sitemap exceeds {MAX_SITEMAP_BYTES} bytes (50 MiB); refused"
            )
        if not inflater.eof:
            raise SitemapError("gzip-compressed sitemap is truncated")
        chunks.append(chunk)
        # Some servers pad gzip output with NUL bytes after the last member.
        remaining = inflater.unused_data.rstrip(b"\x00")
    return b"".join(chunks)


def _urls(root: ET.Element, namespace: str) -> list[SitemapUrl]:
    urls: list[SitemapUrl] = []
    for entry in root.iterfind(_qualified(namespace, "url")):
        loc = _loc(entry, namespace)
        if loc:
            lastmod = entry.findtext(_qualified(namespace, "lastmod"))
            urls.append(SitemapUrl(loc=loc, lastmod=parse_lastmod(lastmod)))
    return urls


def _loc(entry: ET.Element, namespace: str) -> str:
    return (entry.findtext(_qualified(namespace, "loc")) or "").strip()


def parse_lastmod(value: str | None) -> datetime | None:
    """Read a W3C datetime (``2026-10-01``, ``2026-10-01T09:30:00+02:00``, ``2026-10``) as UTC.

    A value without a timezone is taken to be UTC; an unreadable one gives ``None``.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        if year_month := _YEAR_MONTH.fullmatch(text):
            year, month = year_month.groups()
            return datetime(int(year), int(month or 1), 1, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _split_tag(tag: str) -> tuple[str, str]:
    """Split ``{namespace}local`` into its parts; the namespace is empty when there is none."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _qualified(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}" if namespace else local
