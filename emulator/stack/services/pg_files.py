"""The files of a Postgres cluster that Quarry writes: where the server binaries are, the
postgresql.conf lines, the pg_hba.conf rules, and files only the server's OS user may read."""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from shared.errors import ConfigError

BIN_GLOB = "/usr/lib/postgresql/*/bin"


def bin_dir() -> Path:
    """The folder of the Postgres server binaries: pg_ctl's on PATH, else the newest installed
    under /usr/lib/postgresql, so initdb, pg_ctl and pg_basebackup are always one version."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    installed = sorted(
        glob.glob(f"{BIN_GLOB}/pg_ctl"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not installed:
        raise ConfigError(f"Postgres binaries not found: pg_ctl is not on PATH nor in {BIN_GLOB}")
    return Path(installed[-1]).parent


def conf_lines(
    port: int, socket_dir: Path | None, *, fsync: bool, extra: Sequence[str] = ()
) -> list[str]:
    """Loopback only, Unix sockets in `socket_dir` (or none), a streaming replica's needs."""
    sockets = str(socket_dir) if socket_dir is not None else ""
    lines = [
        "listen_addresses = '127.0.0.1'",
        f"port = {port}",
        f"unix_socket_directories = '{sockets}'",
        # A streaming replica made by pg_basebackup through a slot; the cap keeps a replica
        # that is gone for good from filling the disk with WAL kept for it.
        "wal_level = replica",
        "max_wal_senders = 4",
        "max_replication_slots = 4",
        "max_slot_wal_keep_size = '1GB'",
        "hot_standby = on",
    ]
    if not fsync:
        lines += ["fsync = off", "synchronous_commit = off"]
    return [*lines, *extra]


def hba_lines(method: str, *, local: bool) -> list[str]:
    """Who may connect: 127.0.0.1 (and the socket, when there is one), by `method`."""
    lines = [
        f"host all all 127.0.0.1/32 {method}",
        f"host replication all 127.0.0.1/32 {method}",
    ]
    return [f"local all all {method}", *lines] if local else lines


def write_private(path: Path, text: str, owner: tuple[int, int] | None) -> None:
    """A file of mode 0600, owned by `owner` (uid, gid) when given."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    path.chmod(0o600)
    if owner is not None:
        os.chown(path, *owner)
