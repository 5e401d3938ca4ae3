"""`quarry events generate KIND`: print a Lambda event for `quarry invoke --event -`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from emulator.events import KINDS, client_request, generate, parse_header
from emulator.table import load_table
from shared.errors import QuarryError

events_app = typer.Typer(help="Lambda events as AWS sends them.", no_args_is_help=True)
console = Console(stderr=True)


@events_app.command("generate")
def generate_event(
    kind: Annotated[str, typer.Argument(help=f"One of {', '.join(KINDS)}.")],
    method: Annotated[str, typer.Option(help="HTTP events: the request method.")] = "GET",
    path: Annotated[str, typer.Option(help="HTTP events: the request path.")] = "/api/v1/health",
    query: Annotated[str, typer.Option(help="HTTP events: the query string, a=1&b=2.")] = "",
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="HTTP events: `Name: value`.")
    ] = None,
    body: Annotated[
        list[str] | None,
        typer.Option(help="The request body (HTTP), or one message body per record (sqs)."),
    ] = None,
    stage: Annotated[str, typer.Option(help="sqs: the stage whose queue sends it.")] = "discovery",
    rule: Annotated[
        str, typer.Option(help="schedule: the EventBridge rule's name.")
    ] = "quarry-dev-analytics-schedule",
    table: Annotated[Path, typer.Option("--table", help="The function table.")] = Path(
        "serverless.yml"
    ),
) -> None:
    """Print an event; route keys and path parameters come from the function table.

    quarry events generate apigw-v1 --path /api/v1/sources/42 | quarry invoke sources -e -
    """
    try:
        headers = tuple(parse_header(h) for h in header or [])
        bodies = body or []
        if kind != "sqs" and len(bodies) > 1:
            raise typer.BadParameter("--body is given once for an HTTP event")
        raw = bodies[0].encode() if bodies and kind != "sqs" else b""
        req = client_request(method.upper(), path, query.lstrip("?"), headers, raw)
        event = generate(kind, req, table=load_table(table), stage=stage, bodies=bodies, rule=rule)
    except QuarryError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    typer.echo(json.dumps(event, indent=2))
