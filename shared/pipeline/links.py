"""Links of an HTML page and the crawl scope they are judged against (pure, no network)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from shared.pipeline.urlpatterns import Matcher, compile_patterns
from shared.pipeline.urls import normalize_url

_SKIPPED_SCHEMES = ("javascript:", "mailto:", "data:", "tel:")


@dataclass(frozen=True, slots=True)
class Links:
    """What a crawler may take from a page.

    `urls` are the followable anchors, normalised, each once, in document order; `nofollow`
    the anchors marked rel=nofollow (left out of `urls` unless asked for); `canonical` the
    page's own `<link rel=canonical>`, normalised; `page_nofollow` is true when a robots meta
    tag says nofollow, in which case `urls` is empty.
    """

    urls: tuple[str, ...] = ()
    nofollow: tuple[str, ...] = ()
    canonical: str | None = None
    page_nofollow: bool = False


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[tuple[str, bool]] = []
        self.canonical: str | None = None
        self.nofollow_page = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: (value or "") for name, value in attrs}
        rel = attr.get("rel", "").lower().split()
        if tag == "base" and self.base is None and attr.get("href"):
            self.base = attr["href"].strip()
        elif tag in ("a", "area") and attr.get("href"):
            self.anchors.append((attr["href"].strip(), "nofollow" in rel))
        elif tag == "link" and "canonical" in rel and self.canonical is None:
            self.canonical = attr.get("href", "").strip() or None
        elif tag == "meta" and attr.get("name", "").strip().lower() == "robots":
            directives = {d.strip().lower() for d in attr.get("content", "").split(",")}
            self.nofollow_page |= bool(directives & {"nofollow", "none"})


def extract_links(html: str, base_url: str, *, follow_nofollow: bool = False) -> Links:
    """Anchors of `html` resolved against its `<base href>` (itself resolved against
    `base_url`), fragments and tracking parameters dropped by normalisation.

    javascript:, mailto:, data: and tel: links and anything that is not http(s) are left
    out; so is every link when the page's robots meta tag says nofollow, and rel=nofollow
    anchors unless `follow_nofollow`.
    """
    collector = _Collector()
    collector.feed(html)
    collector.close()
    base = base_url
    if collector.base:
        try:
            base = urljoin(base_url, collector.base)
        except ValueError:
            base = base_url
    canonical = _resolve(collector.canonical, base) if collector.canonical else None
    if collector.nofollow_page:
        return Links(canonical=canonical, page_nofollow=True)
    followed: dict[str, None] = {}
    held: dict[str, None] = {}
    for href, nofollow in collector.anchors:
        url = _resolve(href, base)
        if url is None:
            continue
        (held if nofollow and not follow_nofollow else followed).setdefault(url, None)
    return Links(
        urls=tuple(followed),
        nofollow=tuple(u for u in held if u not in followed),
        canonical=canonical,
    )


def _resolve(href: str, base: str) -> str | None:
    if href.lower().startswith(_SKIPPED_SCHEMES) or href.startswith("#"):
        return None
    try:
        return normalize_url(href, base)
    except ValueError:
        return None


def directory_of(url: str) -> str:
    """The path prefix a crawl starting at `url` stays under: `/blog/` for `/blog/post`."""
    path = urlsplit(url).path or "/"
    return path[: path.rfind("/") + 1]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which URLs a crawl may follow: these hosts (`host` or `host:port`, as normalised
    URLs spell them), under `path_prefix`, matching one `include` pattern if any are given
    and no `exclude` pattern. Patterns are RE2 regular expressions searched in the full URL
    (see shared.pipeline.urlpatterns)."""

    hosts: frozenset[str]
    path_prefix: str = "/"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    _matchers: tuple[tuple[Matcher, ...], tuple[Matcher, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        matchers = (compile_patterns(self.include), compile_patterns(self.exclude))
        object.__setattr__(self, "_matchers", matchers)

    @classmethod
    def around(
        cls,
        start_url: str,
        path_prefix: str | None = None,
        include: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
    ) -> Scope:
        """A crawl's scope from its start URL: that host, and that URL's directory unless
        `path_prefix` says otherwise."""
        url = normalize_url(start_url)
        prefix = path_prefix if path_prefix is not None else directory_of(url)
        return cls(frozenset({urlsplit(url).netloc}), prefix, include, exclude)

    def in_scope(self, url: str) -> str | None:
        """None when the crawl may follow `url`, else why not, in a few words."""
        parts = urlsplit(url)
        if parts.netloc.lower() not in self.hosts:
            return "other host"
        if not (parts.path or "/").startswith(self.path_prefix):
            return "outside path prefix"
        include, exclude = self._matchers
        for pattern, matcher in zip(self.exclude, exclude, strict=True):
            if matcher.search(url) is not None:
                return f"excluded by pattern {pattern!r}"
        if include and not any(m.search(url) is not None for m in include):
            return "not matched by include patterns"
        return None
