"""`quarry quality ...`: quality figures of the pure cores on the labelled sets in tests/sites/."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

quality_app = typer.Typer(
    help="Quality figures on labelled sets (no benchmark machinery).", no_args_is_help=True
)


@quality_app.command("intelligence")
def intelligence(
    directory: Annotated[
        Path, typer.Argument(help="Folder with documents.jsonl and labels.json.")
    ] = Path("tests/sites/intelligence"),
    misses: Annotated[
        bool, typer.Option("--misses/--no-misses", help="List each wrong answer.")
    ] = True,
) -> None:
    """Offline intelligence: language and sentiment accuracy, label macro-F1."""
    from tools.quality import intelligence as quality

    try:
        labels, docs = quality.load(directory)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        typer.echo(f"error: cannot read the labelled set in {directory}: {exc!r}", err=True)
        raise typer.Exit(2) from None
    if not docs or not labels:
        typer.echo(f"error: {directory} has no documents or no labels", err=True)
        raise typer.Exit(2)
    predictions = quality.predict(docs, labels)
    typer.echo(quality.report(quality.figures(docs, predictions, list(labels))))
    if misses:
        for line in quality.misses(docs, predictions):
            typer.echo(line)
