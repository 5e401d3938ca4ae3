"""The README's settings table, rendered from `Settings` so the docs cannot drift from the code.

Run `python -m shared.settings_doc` to rewrite the table in README.md after changing a setting.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from shared.config import Settings
from shared.config_load import PREFIX

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"
_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    SecretStr: "secret string",
}


def _type(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        return f"{_type(inner)}, optional"
    if origin is tuple:
        return "comma-separated list"
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _bounds(field: FieldInfo) -> list[str]:
    out = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Gt):
            out.append(f"> {item.gt}")
        elif isinstance(item, annotated_types.Ge):
            out.append(f"≥ {item.ge}")
        elif isinstance(item, annotated_types.Lt):
            out.append(f"< {item.lt}")
        elif isinstance(item, annotated_types.Le):
            out.append(f"≤ {item.le}")
    return out


def _default(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "(secret)"
    if value is None:
        return "unset"
    if isinstance(value, tuple):
        return "`" + ",".join(value) + "`" if value else "empty"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table() -> str:
    """A Markdown table of every setting: variable, type, default and description."""
    rows = ["| variable | type | default | description |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        kind = ", ".join([_type(field.annotation), *_bounds(field)])
        cells = [
            f"`{PREFIX}{name.upper()}`",
            kind,
            _default(field.default),
            field.description or "",
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


def sync_readme(readme_text: str) -> str:
    """The README with the text between the settings-table markers replaced by the table."""
    head, start, rest = readme_text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"README has no {START} ... {END} region for the settings table")
    return f"{head}{START}\n{settings_table()}{END}{tail}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    synced = sync_readme(text)
    if synced == text:
        print(f"{README.name}: settings table already up to date")
        return 0
    README.write_text(synced, encoding="utf-8")
    print(f"{README.name}: settings table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
