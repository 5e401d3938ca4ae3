"""The `quarry` commands that derive artefacts from serverless.yml: the merged OpenAPI document,
the dashboard's function table, the deployable packages and the parity report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.common import TABLE, TableOpt, console, fail, write_or_print
from shared.errors import QuarryError


def openapi(
    write: Annotated[bool, typer.Option(help="Write openapi.json instead of printing.")] = False,
    table: TableOpt = TABLE,
) -> None:
    """Print (or write) the OpenAPI document merged from every HTTP function."""
    from emulator.openapi import COMMITTED, merge, render
    from emulator.table import load_table

    try:
        text = render(merge(load_table(table)))
    except QuarryError as exc:
        raise fail(exc) from None
    write_or_print(text, COMMITTED if write else None)


def function_table(
    write: Annotated[
        bool, typer.Option(help="Write dashboard/functions.json instead of printing.")
    ] = False,
    table: TableOpt = TABLE,
) -> None:
    """Print (or write) the function table the dashboard packages, from serverless.yml."""
    from dashboard.function_table import PATH, render, rows_of
    from emulator.table import load_table

    try:
        text = render(rows_of(load_table(table).functions.values()))
    except QuarryError as exc:
        raise fail(exc) from None
    write_or_print(text, PATH if write else None)


def package_functions(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The package folder (default: .quarry/package)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Build even when nothing changed.")] = False,
) -> None:
    """Build what `serverless deploy` uploads: the dependencies layer from the locked runtime
    dependencies (infra/serverless/build-layer.sh), then every function's zip and the
    CloudFormation template (`serverless package`), with bytecode for Python 3.11; unpacked
    beside them as Lambda unpacks them. Reused while nothing it is built from changed.
    Deploy exactly these files with `serverless deploy --package FOLDER`."""
    from emulator.artefacts.build import package
    from emulator.artefacts.stack import PACKAGE

    try:
        built = package(out or PACKAGE, lambda line: console.print(line), force=force)
    except QuarryError as exc:
        raise fail(exc) from None
    zips = sorted(p.name for p in built.folder.glob("*.zip"))
    verdict = "unchanged since the last build, reused" if built.reused else "built"
    console.print(f"{len(zips)} packages {verdict} in {built.folder}: {', '.join(zips)}")


def parity(
    table: TableOpt = TABLE,
    mode: Annotated[
        str,
        typer.Option(
            help="dev (`quarry dev`), stack (`quarry up`) or aws (`quarry up --aws`, functions "
            "from their packages in execution environments)."
        ),
    ] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """What serverless.yml asks that the emulator cannot honour locally, per function."""
    from emulator import parity as report

    try:
        rows = report.rows_for(table, report.to_mode(mode))
    except QuarryError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(report.to_json(rows), indent=2))
        return
    Console().print(report.to_rich(rows, report.to_mode(mode)))
    console.print(report.summary(rows))
