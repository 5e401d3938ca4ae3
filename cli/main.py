"""The `quarry` command line: the emulator, migrations, invocations and benchmarks."""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from cli import derived
from cli.bench import bench_app
from cli.common import TABLE, TableOpt, console, fail, settings
from cli.events import events_app
from cli.keys import keys_app
from cli.quality import quality_app
from emulator.stack import commands as stack
from shared.errors import ConfigError, QuarryError
from shared.logs import configure_logging
from shared.redaction import redacted

app = typer.Typer(
    help="Quarry: serverless functions and the web-intelligence pipeline, run locally.",
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(bench_app, name="bench")
app.add_typer(events_app, name="events")
app.add_typer(quality_app, name="quality")
app.add_typer(keys_app, name="keys")
for command in (stack.up, stack.ps, stack.logs, stack.down):
    app.command()(command)


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the gateway on 127.0.0.1.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Run the demo site.")] = True,
    reload: Annotated[
        bool, typer.Option("--reload/--no-reload", help="Restart when a source file changes.")
    ] = True,
    table: TableOpt = TABLE,
) -> None:
    """Run the embedded platform: one process, SQLite, in-process queue and cache."""
    from emulator.dev import dev as run_dev

    try:
        cfg = settings()
        Path(".quarry").mkdir(exist_ok=True)
        log = (Path(".quarry") / "dev.log").open("a")
        configure_logging(cfg.log_level, log)
        asyncio.run(run_dev(cfg, port, demo, table, reload=reload))
    except QuarryError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        console.print("stopped.")


@app.command()
def migrate(
    url: Annotated[str | None, typer.Option(help="Database URL (default: settings).")] = None,
) -> None:
    """Apply pending migrations once, before any instance starts."""
    from shared.db import migrate as migrations

    try:
        target = url or settings().database_url
        migrations.upgrade(target)
    except QuarryError as exc:
        raise fail(exc) from None
    console.print(f"database at revision {migrations.current(target)} (head {migrations.head()})")


@app.command()
def invoke(
    function: Annotated[str, typer.Argument(help="Function name from serverless.yml.")],
    event: Annotated[
        str | None, typer.Option("--event", "-e", help="Event JSON file, or - for stdin.")
    ] = None,
    table: TableOpt = TABLE,
) -> None:
    """Invoke one function once with an event and print its result."""
    from emulator.invoke import invoke as run_invoke

    raw = "{}" if event is None else sys.stdin.read() if event == "-" else Path(event).read_text()
    try:
        payload: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        console.print(f"[bold red]error:[/] the event is not valid JSON: {exc}")
        raise typer.Exit(2) from None
    try:
        cfg = settings()
        configure_logging(cfg.log_level)
        result = run_invoke(cfg, table, function, payload)
    except QuarryError as exc:
        raise fail(exc) from None
    typer.echo(json.dumps(result, indent=2, default=str))


@app.command()
def discover(
    source_url: Annotated[str, typer.Argument(help="Site root, sitemap, feed or start URL.")],
    kind: Annotated[str, typer.Option(help="site, sitemap, feed, crawl or auto.")] = "auto",
    limit: Annotated[int | None, typer.Option(min=1, help="Print at most N URLs.")] = None,
    allow_host: Annotated[
        list[str] | None, typer.Option("--allow-host", help="Also fetch from HOST[:PORT].")
    ] = None,
    max_depth: Annotated[int, typer.Option(help="Crawl: links followed from a start.")] = 2,
    max_pages: Annotated[int, typer.Option(help="Crawl: pages fetched at most.")] = 200,
    include: Annotated[list[str] | None, typer.Option(help="Crawl: URL regex to keep.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Crawl: URL regex to drop.")] = None,
) -> None:
    """Print the URLs discovery would queue for a source, and why others were skipped."""
    from shared import discovery
    from shared.fetch import HttpFetcher

    if kind not in ("auto", *discovery.KINDS) or kind == "urls":
        console.print(
            f"[bold red]error:[/] --kind {kind!r}; expected site, sitemap, feed, crawl or auto"
        )
        raise typer.Exit(2)
    try:
        options = discovery.CrawlOptions(
            max_depth, max_pages, tuple(include or ()), tuple(exclude or ())
        )
        cfg = settings()
        hosts = (*cfg.fetch_allow_hosts, *(allow_host or ()))
        fetcher = HttpFetcher(cfg.model_copy(update={"fetch_allow_hosts": hosts}))

        async def run_discovery() -> tuple[str, discovery.Discovery]:
            found = kind if kind != "auto" else await discovery.guess_kind(fetcher, source_url)
            report = await discovery.discover(fetcher, found, source_url, [], options=options)
            return found, report

        found, report = asyncio.run(run_discovery())
    except ValueError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except QuarryError as exc:
        raise fail(exc) from None
    shown = report.urls[:limit] if limit else report.urls
    typer.echo(f"{found}: {len(report.urls)} URLs to queue")
    for number, url in enumerate(shown, 1):
        typer.echo(f"{number:>5}  {url}")
    if len(shown) < len(report.urls):
        typer.echo(f"       … and {len(report.urls) - len(shown)} more")
    typer.echo(f"skipped {len(report.skipped)}:")
    for url, reason in report.skipped[:limit] if limit else report.skipped:
        typer.echo(f"       {url}  ({reason})")


@config_app.command("show")
def config_show() -> None:
    """Print the effective settings, secrets redacted."""
    try:
        cfg = settings()
    except ConfigError as exc:
        raise fail(exc) from None
    out = RichTable("setting", "value", "variable")
    for name, value in redacted(cfg).items():
        out.add_row(name, json.dumps(value), f"QUARRY_{name.upper()}")
    Console().print(out)


@app.command("extract")
def extract_page(
    source: Annotated[str, typer.Argument(help="An .html or .html.gz file, or an http(s) URL.")],
    url: Annotated[
        str | None, typer.Option(help="The file's address (resolves relative links).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or markdown.")] = "json",
    allow_host: Annotated[
        list[str] | None,
        typer.Option(help="A host the fetcher may reach although it is private (repeatable)."),
    ] = None,
) -> None:
    """Extract one page and print its main text and metadata.

    A refused or failed fetch prints its `outcome` and exits 3."""
    from tools import extract as extract_one

    try:
        out = extract_one.to_format(fmt)
        if extract_one.is_url(source):
            cfg = settings()
            hosts = (*cfg.fetch_allow_hosts, *(allow_host or []))
            cfg = cfg.model_copy(update={"fetch_allow_hosts": hosts})
            result = asyncio.run(extract_one.from_url(cfg, source, out))
        else:
            result = extract_one.from_file(Path(source), url, out)
    except QuarryError as exc:
        raise fail(exc) from None
    typer.echo(result.output)
    if result.code:
        raise typer.Exit(result.code)


@app.command("hash-password")
def hash_password(
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input (scripts).")
    ] = False,
) -> None:
    """Print a hash of a dashboard password for QUARRY_DASHBOARD_PASSWORD_HASH."""
    from dashboard.passwords import hash_password as make_hash

    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        typer.echo(make_hash(password))
    except QuarryError as exc:
        raise fail(exc) from None
    console.print("Set it as QUARRY_DASHBOARD_PASSWORD_HASH (quote it: it contains `$`).")


# after the commands above, so that `quarry --help` lists them in this order
for name, command in (
    ("openapi", derived.openapi),
    ("table", derived.function_table),
    ("package", derived.package_functions),
    ("parity", derived.parity),
):
    app.command(name)(command)


def _one_line_paragraphs(commands: typer.Typer) -> None:
    """Docstrings wrap at 100 columns; `--help` wraps to the terminal, so each paragraph is
    joined into one line first (else the command list breaks mid-sentence)."""
    for info in commands.registered_commands:
        doc = info.help or inspect.getdoc(info.callback) or ""
        info.help = "\n\n".join(" ".join(p.split()) for p in doc.split("\n\n"))
    for group in commands.registered_groups:
        if group.typer_instance is not None:
            _one_line_paragraphs(group.typer_instance)


_one_line_paragraphs(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
