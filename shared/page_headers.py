"""The headers every page Quarry serves to a browser carries (the dashboard, the API docs):
a strict Content-Security-Policy — scripts and styles from this origin only, nothing inline —
no content sniffing, no framing, and the referrer kept to this origin. Standard library only,
so the docs function, which ships without the dependencies layer, sends the same."""

from __future__ import annotations

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
)
