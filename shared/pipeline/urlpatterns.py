"""Crawl include/exclude patterns, compiled by RE2: matching takes time linear in the URL's
length whatever the pattern, so a hostile pattern cannot stall a discovery worker. Patterns
RE2 cannot run in linear time (backreferences, lookaround) are refused with RE2's reason."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, cast

import re2

MAX_LENGTH = 500
MAX_PROGRAM_BYTES = 1 << 20  # a pattern whose compiled program needs more is refused


class Matcher(Protocol):
    def search(self, text: str) -> object | None: ...


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refusal on stderr
    options.max_mem = MAX_PROGRAM_BYTES
    return options


def compile_pattern(pattern: str) -> Matcher:
    """One pattern as an RE2 matcher; ValueError naming it and saying why otherwise."""
    if len(pattern) > MAX_LENGTH:
        raise ValueError(f"pattern {pattern[:40]!r}... is longer than {MAX_LENGTH} characters")
    try:
        return cast(Matcher, re2.compile(pattern, _options()))
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args else "not accepted"
        raise ValueError(
            f"pattern {pattern!r} is not a valid regular expression for linear-time matching "
            f"(RE2): {reason}; backreferences and lookaround are not supported, patterns "
            "are searched in the full URL"
        ) from exc


def compile_patterns(patterns: Iterable[str]) -> tuple[Matcher, ...]:
    """Every pattern compiled, or ValueError for the first that cannot be."""
    return tuple(compile_pattern(p) for p in patterns)
