"""`quarry quality ...`: quality figures of the pure cores on the labelled sets in tests/sites/."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

quality_app = typer.Typer(
    help="Quality figures on labelled sets (no benchmark machinery).", no_args_is_help=True
)


class MissesOf(StrEnum):
    tuning = "tuning"
    evaluation = "evaluation"
    none = "none"


@quality_app.command("intelligence")
def intelligence(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder with labels.json, tuning.jsonl, evaluation.jsonl and evaluation.sha256."
        ),
    ] = Path("tests/sites/intelligence"),
    misses: Annotated[
        MissesOf,
        typer.Option(
            help="List each wrong answer of this set. Rules are written against the tuning set;"
            " reading the evaluation set's misses while changing rules spends it."
        ),
    ] = MissesOf.tuning,
    readme: Annotated[
        Path | None,
        typer.Option(help="Also write the table into this README's quality-intelligence block."),
    ] = None,
) -> None:
    """Offline intelligence on the tuning and the frozen evaluation set, side by side.

    Exits 1 when evaluation.jsonl no longer matches its frozen checksum.
    """
    from tools.quality.intelligence import load
    from tools.quality.intelligence_report import README_BLOCK, measure, report

    try:
        sets = load(directory)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        typer.echo(f"error: cannot read the labelled sets in {directory}: {exc!r}", err=True)
        raise typer.Exit(2) from None
    if not sets.tuning or not sets.evaluation or not sets.labels:
        typer.echo(f"error: {directory} has an empty set or no labels", err=True)
        raise typer.Exit(2)
    measured = measure(sets)
    table = report(measured)
    typer.echo(table)
    if readme is not None:
        write_block(readme, README_BLOCK, f"```text\n{table}\n```")
    if misses is not MissesOf.none:
        typer.echo(f"misses on the {misses.value} set (gold→predicted):")
        lines = measured.tuning_misses if misses is MissesOf.tuning else measured.evaluation_misses
        for line in lines:
            typer.echo(line)
    if not sets.is_frozen:
        raise typer.Exit(1)


def write_block(readme: Path, name: str, content: str) -> None:
    """Replace README's generated block `name`; a clear error if the file or block is missing."""
    from tools import readme_blocks

    try:
        readme_blocks.write_block(readme, name, content)
    except (OSError, readme_blocks.BlockError) as exc:
        typer.echo(f"error: cannot write block {name} of {readme}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote block {name} of {readme}")
