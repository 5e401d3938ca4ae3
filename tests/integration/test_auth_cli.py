"""`quarry keys`: a key made from the command line, without the API, works at once."""

from __future__ import annotations

from pathlib import Path

from shared.auth import keys
from shared.config import Settings
from shared.db import migrate
from shared.db.engine import SqlDatabase
from tests.integration.test_cli import run


async def test_auth_cli_creates_lists_and_revokes_keys(tmp_path: Path) -> None:
    migrate.upgrade(f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    created = run(["keys", "create", "--scope", "admin", "--name", "ops"], tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("qk_")
    assert "shown once" in created.stderr
    db = SqlDatabase(f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    try:
        principal = await keys.authenticate(db, Settings(), key)
        assert principal is not None
        assert principal.scope == "admin"
        listed = run(["keys", "list"], tmp_path)
        assert listed.stdout.split("\t")[:3] == [principal.key_id, "ops", "admin"]
        assert key not in listed.stdout
        assert run(["keys", "revoke", principal.key_id], tmp_path).returncode == 0
        [row] = await keys.list_keys(db)  # revoked in the database, where every instance looks
        assert row.revoked_at is not None
    finally:
        await db.dispose()
