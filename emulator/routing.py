"""API Gateway HTTP API route selection: exact paths beat path variables beat greedy
`{proxy+}`, a method beats ANY, and `$default` catches the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator.table import Function, Route


@dataclass(frozen=True)
class Match:
    function: Function
    route: Route
    params: dict[str, str]


@dataclass(frozen=True)
class _Compiled:
    function: Function
    route: Route
    pattern: re.Pattern[str]
    rank: tuple[int, int, int, int]


def _compile(fn: Function, route: Route) -> _Compiled:
    if route.path == "$default":
        return _Compiled(fn, route, re.compile(r".*"), (3, 0, 0, 1))
    parts, params, greedy = [], 0, 0
    for seg in route.path.strip("/").split("/") if route.path != "/" else []:
        if seg.startswith("{") and seg.endswith("+}"):
            parts.append(f"(?P<{seg[1:-2]}>.+)")
            greedy = 1
        elif seg.startswith("{") and seg.endswith("}"):
            parts.append(f"(?P<{seg[1:-1]}>[^/]+)")
            params += 1
        else:
            parts.append(re.escape(seg))
    regex = "/" + "/".join(parts)
    literal = len(parts) - params - greedy
    rank = (greedy, params, -literal, 1 if route.method == "ANY" else 0)
    return _Compiled(fn, route, re.compile(f"^{regex}$"), rank)


class Router:
    """Picks the route for (method, path) the way API Gateway does."""

    def __init__(self, functions: list[Function]) -> None:
        self._routes = sorted(
            (_compile(fn, r) for fn in functions for r in fn.routes), key=lambda c: c.rank
        )

    def match(self, method: str, path: str) -> Match | None:
        method = method.upper()
        for c in self._routes:
            if c.route.method not in (method, "ANY"):
                continue
            m = c.pattern.match(path)
            if m:
                return Match(c.function, c.route, {k: v for k, v in m.groupdict().items()})
        return None

    def allowed(self, path: str) -> list[str]:
        """Methods routed for `path` (for a 405's Allow header)."""
        return sorted({c.route.method for c in self._routes if c.pattern.match(path)})
