"""Small HTML checks over html.parser: balanced tags, one h1, heading order, labelled inputs,
alt on images, a lang attribute, and no inline script or event handler attributes."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.headings: list[int] = []
        self.label_for: set[str] = set()
        self.inputs: list[tuple[str, str | None, bool]] = []
        self.lang: str | None = None
        self.in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an event handler attribute {name}")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                ("javascript:", "data:text/html", "vbscript:")
            ):
                self.problems.append(f"<{tag} {name}={value!r}> points at script")
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "script" and "src" not in a:
            self.problems.append("inline <script> (the CSP forbids it)")
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        if tag == "img" and "alt" not in a:
            self.problems.append(f"<img src={a.get('src')!r}> has no alt")
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            labelled = bool(a.get("aria-label") or self.in_label)
            self.inputs.append((str(a.get("name")), a.get("id"), labelled))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close the open <{(self.stack or ['-'])[-1]}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def problems(html: str) -> list[str]:
    """What is wrong with a page; an empty list for a page that passes."""
    c = _Checker()
    c.feed(html)
    c.close()
    found = list(c.problems)
    if not html.lstrip().lower().startswith("<!doctype html>"):
        found.append("no <!doctype html>")
    if not c.lang:
        found.append("<html> has no lang attribute")
    if c.stack:
        found.append(f"unclosed elements: {c.stack}")
    if c.headings.count(1) != 1:
        found.append(f"{c.headings.count(1)} h1 elements, expected exactly one")
    if c.headings and c.headings[0] != 1:
        found.append("the first heading is not the h1")
    for before, after in zip(c.headings, c.headings[1:], strict=False):
        if after > before + 1:
            found.append(f"heading order skips from h{before} to h{after}")
    for name, ident, labelled in c.inputs:
        if not labelled and (ident is None or ident not in c.label_for):
            found.append(f"form field {name!r} has no label")
    return found
