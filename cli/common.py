"""What every `quarry` command shares: settings, the error line, the function-table option."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from shared.config import Settings
from shared.config_load import load_settings
from shared.errors import QuarryError

console = Console(stderr=True)
TABLE = Path("serverless.yml")
TableOpt = Annotated[Path, typer.Option("--table", help="The function table.")]


def settings() -> Settings:
    """Settings from QUARRY_* variables over ./quarry.toml; a bad value stops here."""
    return load_settings(os.environ, Path("quarry.toml"))


def fail(exc: QuarryError) -> typer.Exit:
    console.print(f"[bold red]error:[/] {escape(exc.detail)}")
    return typer.Exit(2)


def write_or_print(text: str, path: Path | None) -> None:
    """A derived document: written to `path` (the committed copy), or printed."""
    if path is None:
        typer.echo(text, nl=False)
        return
    path.write_text(text)
    console.print(f"wrote {path}")
