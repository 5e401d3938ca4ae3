"""Generated blocks of README.md: text between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.

A command writes a block from the data it owns (a benchmark report, a quality table), and a
test compares the block with what the command would write now, so README never quotes a figure
that its source does not hold.
"""

from __future__ import annotations

import re
from pathlib import Path


class BlockError(ValueError):
    """README has no such block, or has it more than once."""


def _markers(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- {re.escape(name)}:begin[^>]*-->\n)(.*?)(<!-- {re.escape(name)}:end -->)", re.S
    )


def read_block(text: str, name: str) -> str:
    """The generated text of block `name` (without its markers)."""
    found = _markers(name).findall(text)
    if len(found) != 1:
        raise BlockError(
            f"README must hold exactly one block <!-- {name}:begin --> … <!-- {name}:end -->;"
            f" found {len(found)}"
        )
    return str(found[0][1])


def replace_block(text: str, name: str, content: str) -> str:
    """`text` with block `name` holding `content` (a trailing newline is added if missing)."""
    read_block(text, name)
    body = content if content.endswith("\n") else content + "\n"
    return _markers(name).sub(lambda m: m.group(1) + body + m.group(3), text)


def write_block(path: Path, name: str, content: str) -> None:
    """Rewrite block `name` of the file at `path`; OSError or BlockError when it cannot."""
    text = path.read_text(encoding="utf-8")
    path.write_text(replace_block(text, name, content), encoding="utf-8")
