"""A streaming read replica of a PostgresServer, and the probes that route reads to it."""

from __future__ import annotations

from pathlib import Path
from typing import LiteralString

import psycopg

from emulator.stack.services.postgres import PostgresServer
from shared.db.urls import libpq_url
from shared.errors import ConfigError

SLOT = "quarry_replica"

# Caught up (everything received is replayed) means no lag, however long the primary was idle;
# otherwise the age of the last replayed transaction, NULL when none was replayed yet.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
    ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
END
"""
REPLAY_LSN_SQL = "SELECT pg_last_wal_replay_lsn() - '0/0' WHERE pg_is_in_recovery()"
CURRENT_LSN_SQL = "SELECT pg_current_wal_lsn() - '0/0' WHERE NOT pg_is_in_recovery()"


class PostgresReplica(PostgresServer):
    """A hot standby of `primary` in `data_dir` on 127.0.0.1:`port`, fed by streaming
    replication through the physical slot `quarry_replica`, so the primary keeps the WAL it needs
    while the replica is down. Read-only; it shares the primary's user, database and OS user.

    `prepare()` needs the primary running (it takes a base backup of it); `argv()` names the
    primary's current port, so the primary may move between runs.
    """

    def __init__(self, data_dir: Path, port: int, primary: PostgresServer) -> None:
        super().__init__(
            data_dir,
            port,
            user=primary.user,
            database=primary.database,
            fsync=primary.fsync,
            os_user=primary.os_user,
            password=primary.password,
        )
        self.primary = primary
        # The replica logs in to its primary with the password from this file (0600, owned
        # by os_user), so the password is never on a command line.
        self.passfile = self.data_dir.with_name(f".{self.data_dir.name}.pgpass")

    def prepare(self) -> None:
        """Clone the primary with pg_basebackup once (when `data_dir` is missing or empty),
        creating the replication slot on the primary if it lacks it. A replica cloned when
        the stack trusted loopback gets the primary's scram-sha-256 rules."""
        if self.password:
            self._write_private(self.passfile, f"127.0.0.1:*:*:{self.user}:{self.password}\n")
        if self.is_initialised:
            if self.password and self.auth_method not in self._hba_text():
                self._write_hba()  # the role's password itself comes from the primary
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ConfigError(
                f"{self.data_dir} holds files but no Postgres cluster (an interrupted base "
                f"backup?); remove it so the replica can be cloned from its primary again"
            )
        self._create_slot()
        self._make_dir(self.data_dir)
        self._make_log()
        argv = [str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port)]
        argv += ["-U", self.user, "-D", str(self.data_dir), "-R", "-X", "stream", "-S", SLOT]
        argv += ["--checkpoint=fast", *([] if self.fsync else ["--no-sync"])]
        extra = {"PGPASSFILE": str(self.passfile)} if self.password else None
        self._run(argv, "pg_basebackup", extra)
        # After -R's own lines in postgresql.auto.conf, which is read last, so these win.
        lines = [f"{name} = '{value}'" for name, value in self._settings().items()]
        with (self.data_dir / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
            conf.write("# quarry replica\n" + "".join(f"{line}\n" for line in lines))

    def argv(self) -> list[str]:
        # super().argv() already sets the port.
        settings = [f"{k}={v}" for k, v in self._settings().items() if k != "port"]
        return [*super().argv(), *(arg for setting in settings for arg in ("-c", setting))]

    def init(self) -> None:
        """A replica is made from its primary, never by initdb."""
        self.prepare()

    def _settings(self) -> dict[str, str]:
        primary = f"host=127.0.0.1 port={self.primary.port} user={self.user}"
        if self.password:
            primary += f" passfile={self.passfile}"
        return {
            "port": str(self.port),
            "primary_conninfo": f"{primary} application_name={SLOT}",
            "primary_slot_name": SLOT,
            "hot_standby": "on",
            # Tell the primary which rows replica queries still read, so its vacuum does not
            # cancel them; the price is some bloat on the primary during long reads.
            "hot_standby_feedback": "on",
        }

    def _create_slot(self) -> None:
        try:
            with self.primary._admin() as conn:
                conn.execute(
                    "SELECT pg_create_physical_replication_slot(%s) WHERE NOT EXISTS "
                    "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
                    (SLOT, SLOT),
                )
        except (psycopg.Error, ConfigError) as exc:
            raise ConfigError(
                f"cannot create the replication slot {SLOT!r} on the primary at port "
                f"{self.primary.port} (the replica is cloned from a running primary): {exc}"
            ) from exc


async def replica_lag_seconds(url: str) -> float | None:
    """How far the standby at `url` is behind its primary, in seconds: 0.0 when it has replayed
    all it received, None when it is not a standby (or has replayed nothing yet), so a read
    router can compare it with the staleness a read tolerates."""
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
        row = await (await conn.execute(LAG_SQL)).fetchone()
    return None if row is None or row[0] is None else float(row[0])


async def replay_lsn(url: str) -> int | None:
    """The WAL position the standby at `url` has replayed, as a byte offset comparable with
    `current_lsn()` of its primary (read-your-writes); None when it is not a standby."""
    return await _lsn(url, REPLAY_LSN_SQL)


async def current_lsn(url: str) -> int | None:
    """The primary's current WAL write position, as a byte offset; None on a standby."""
    return await _lsn(url, CURRENT_LSN_SQL)


async def _lsn(url: str, query: LiteralString) -> int | None:
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
        row = await (await conn.execute(query)).fetchone()
    return None if row is None or row[0] is None else int(row[0])
