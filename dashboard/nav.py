"""The navigation bar: one list of (path, label); a new page adds its entry here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str


NAV: tuple[NavEntry, ...] = (
    NavEntry("/", "Overview"),
    NavEntry("/functions", "Functions"),
    NavEntry("/runs", "Runs"),
    NavEntry("/documents", "Documents"),
    NavEntry("/sources", "Sources"),
    NavEntry("/analytics", "Analytics"),
    NavEntry("/dead-letters", "Dead letters"),
    NavEntry("/alerts", "Alerts"),
    NavEntry("/webhooks", "Webhooks"),
)


def current(path: str) -> str:
    """The nav path a request path belongs to ("/runs/abc" → "/runs")."""
    best = "/"
    for entry in NAV:
        if entry.path != "/" and (path == entry.path or path.startswith(entry.path + "/")):
            best = entry.path
    return best
