"""`quarry keys`: create, list and revoke API keys straight in the database (no API needed),
so the first admin key can exist before anything else does."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from shared.db.engine import SqlDatabase

keys_app = typer.Typer(
    help="API keys: create (shown once), list, revoke; only their hashes are stored.",
    no_args_is_help=True,
)
console = Console(stderr=True)
ScopeOpt = Annotated[str, typer.Option(help="read, write (includes read) or admin.")]


def _database() -> SqlDatabase:
    from cli.common import settings
    from shared.db.engine import SqlDatabase

    cfg = settings()
    return SqlDatabase(cfg.database_url, driver=cfg.pg_driver)


@keys_app.command("create")
def create(
    scope: ScopeOpt = "read",
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "cli",
) -> None:
    """Create a key and print it once on stdout (run `quarry migrate` first)."""
    from shared.auth import keys
    from shared.errors import QuarryError

    if scope not in keys.SCOPES:
        console.print(f"[bold red]error:[/] scope {scope!r} is not one of read, write, admin")
        raise typer.Exit(2)

    async def make() -> tuple[str, str]:
        db = _database()
        try:
            row, key = await keys.create(db, name[:200], scope)
            return row.id, key
        finally:
            await db.dispose()

    try:
        key_id, key = asyncio.run(make())
    except QuarryError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(f"created {scope} key {key_id}; it is shown once:")
    typer.echo(key)


@keys_app.command("list")
def list_() -> None:
    """List keys (id, name, scope, prefix, revoked); never the keys themselves."""
    from shared.auth import keys

    async def rows() -> list[tuple[str, str, str, str, str]]:
        db = _database()
        try:
            found = await keys.list_keys(db)
        finally:
            await db.dispose()
        return [
            (r.id, r.name, r.scope, r.prefix, r.revoked_at.isoformat() if r.revoked_at else "")
            for r in found
        ]

    for row in asyncio.run(rows()):
        typer.echo("\t".join(row))


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key at once."""
    from shared.auth import keys
    from shared.errors import QuarryError

    async def run() -> None:
        db = _database()
        try:
            await keys.revoke(db, key_id)
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except QuarryError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(f"revoked {key_id}")
