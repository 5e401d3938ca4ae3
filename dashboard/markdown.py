"""Hostile Markdown to safe HTML: markdown-it without raw HTML, then nh3's allow-list.

Crawled text and LLM output reach the page only through `render_markdown`: raw HTML in the
source is shown as text, only the tags below survive, links keep only http(s) targets and get
`rel="noopener nofollow"`, and images are dropped (they would fetch from crawled hosts).
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

TAGS = {
    "a", "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
SCHEMES = {"http", "https"}
MAX_CHARS = 200_000

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_md.enable("strikethrough")


def sanitise_html(html: str) -> str:
    """Only allow-listed tags and attributes; links only to http(s), never opener-linked."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener nofollow",
        strip_comments=True,
    )


def _demote(html: str) -> str:
    # the page has one h1; a document's own headings start at h2
    return html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")


def render_markdown(text: str | None) -> Markup:
    """Markdown from a crawled page or a model as HTML that is safe to put in a page."""
    if not text:
        return Markup("")
    return Markup(sanitise_html(_demote(_md.render(text[:MAX_CHARS]))))
