"""A private loopback Postgres run as an unprivileged OS user, by pg_ctl or in the foreground."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from emulator.stack.services.pg_files import bin_dir, conf_lines, hba_lines
from emulator.stack.services.pg_os import TIMEOUT_S, OsOwned
from shared.errors import ConfigError

# A socket path must fit sun_path (108 bytes) with Postgres's "/.s.PGSQL.<port>" appended.
SOCKET_PATH_MAX = 107 - len("/.s.PGSQL.65535")


class PostgresServer(OsOwned):
    """One cluster in `data_dir`, listening on 127.0.0.1:`port` only. With a `password` (as
    `quarry up` runs it) every connection authenticates with scram-sha-256; without one (a
    test's private server) loopback clients are trusted.

    `init()`, `start()` and `stop()` are separate steps so that a streaming replica can later be
    made from a base backup of a started primary and started with its own `extra_conf` lines.
    Run as root, every Postgres command runs as `os_user`, since Postgres refuses root.
    `socket_dir=None` turns Unix sockets off (clients use TCP), which sidesteps the path limit.
    A supervisor instead calls `prepare()`, runs `argv()` as a foreground child, polls `ready()`
    and stops it with `stop_signal` (SIGINT: a fast shutdown).
    """

    stop_signal: signal.Signals = signal.SIGINT

    def __init__(
        self,
        data_dir: Path,
        port: int,
        *,
        user: str = "quarry",
        database: str = "quarry",
        fsync: bool = True,
        extra_conf: Sequence[str] = (),
        socket_dir: Path | None = None,
        log_file: Path | None = None,
        os_user: str = "postgres",
        password: str | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.user = user
        self.database = database
        self.fsync = fsync
        self.extra_conf = tuple(extra_conf)
        self.socket_dir = socket_dir.resolve() if socket_dir is not None else None
        self.log_file = (log_file or self.data_dir.with_name(f"{self.data_dir.name}.log")).resolve()
        self.os_user = os_user
        self.password = password
        self.bin = bin_dir()
        if self.socket_dir is not None and len(str(self.socket_dir)) > SOCKET_PATH_MAX:
            raise ConfigError(
                f"socket_dir {self.socket_dir} is too long for a Unix socket; "
                f"use a path of at most {SOCKET_PATH_MAX} characters, or None for TCP only"
            )

    @property
    def url(self) -> str:
        """The URL of the default database, driver-free (shared.db.urls gives each client its
        driver's form)."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        auth = f"{self.user}:{self.password}" if self.password else self.user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    @property
    def auth_method(self) -> str:
        return "scram-sha-256" if self.password else "trust"

    def prepare(self) -> None:
        """Make the cluster and its `database` once (initdb, then a brief pg_ctl start to create
        the database); on a cluster made earlier, only what authentication needs: a cluster
        that trusted loopback (before passwords) gets its password and scram-sha-256."""
        if self.is_initialised:
            if self.password and self.auth_method not in self._hba_text():
                self._require_password()
            return
        self.init()
        try:
            self.start()
        finally:
            self.stop()

    def argv(self) -> list[str]:
        """The foreground server command for a supervisor; its log goes to stderr."""
        postgres = [str(self.bin / "postgres"), "-D", str(self.data_dir), "-c", f"port={self.port}"]
        return [*self._as_owner(), *postgres]

    async def ready(self) -> bool:
        """Whether the server answers `SELECT 1` on `database` now; never raises."""
        try:
            async with await psycopg.AsyncConnection.connect(
                host="127.0.0.1",
                port=self.port,
                user=self.user,
                password=self.password,
                dbname=self.database,
                connect_timeout=2,
            ) as conn:
                await conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    @property
    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster (unless `data_dir` already holds one) with `user` as superuser
        (its password set by initdb), 127.0.0.1 only, and the listen, durability and extra
        settings."""
        if self.is_initialised:
            return
        self._make_dir(self.data_dir)
        if self.socket_dir is not None:
            self._make_dir(self.socket_dir)
        self._make_log()
        argv = [str(self.bin / "initdb"), "-D", str(self.data_dir), "-U", self.user]
        argv += [f"--auth={self.auth_method}", "--encoding=UTF8", "--locale=C"]
        pwfile = self.data_dir.with_name(f".{self.data_dir.name}.pwfile")
        if self.password:  # read by initdb as os_user, then gone
            self._write_private(pwfile, self.password + "\n")
            argv.append(f"--pwfile={pwfile}")
        try:
            self._run([*argv, *([] if self.fsync else ["--no-sync"])], "initdb")
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_hba()
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# quarry\n" + "".join(f"{line}\n" for line in self._conf_lines()))

    def start(self) -> None:
        """Start the server, wait until it accepts connections, then create `database` if
        missing (not on a standby, which is read-only and gets it from its primary)."""
        pg_ctl = [str(self.bin / "pg_ctl"), "start", "-D", str(self.data_dir)]
        self._run([*pg_ctl, "-l", str(self.log_file), "-w", "-t", str(TIMEOUT_S)], "pg_ctl start")
        try:
            with self._admin() as conn:
                if conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,):
                    return
                if not self._has_database(conn, self.database):
                    conn.execute(
                        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database))
                    )
        except psycopg.Error as exc:
            raise ConfigError(
                f"Postgres on port {self.port} started but {exc}{self._log()}"
            ) from exc

    def stop(self) -> None:
        """Stop the server with a fast shutdown (rolls back open transactions); a no-op when it
        is not running, so it is safe in a `finally` after a failed start."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        self._run(
            [str(self.bin / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w"],
            "pg_ctl stop",
        )

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (e.g. one per test), empty or a copy of `template` (a database
        nobody is connected to); returns its URL."""
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            stmt = sql.SQL("{} TEMPLATE {}").format(stmt, sql.Identifier(template))
        with self._admin() as conn:
            conn.execute(stmt)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop `name`, disconnecting any sessions still on it."""
        with self._admin() as conn:
            stmt = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(stmt.format(sql.Identifier(name)))

    def _admin(self) -> psycopg.Connection[TupleRow]:
        try:
            return psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=self.user,
                password=self.password,
                dbname="postgres",
                autocommit=True,
                connect_timeout=10,
            )
        except psycopg.Error as exc:
            raise ConfigError(f"cannot connect to Postgres on port {self.port}: {exc}") from exc

    @staticmethod
    def _has_database(conn: psycopg.Connection[TupleRow], name: str) -> bool:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return found is not None

    def _conf_lines(self) -> list[str]:
        return conf_lines(self.port, self.socket_dir, fsync=self.fsync, extra=self.extra_conf)

    def _hba_text(self) -> str:
        path = self.data_dir / "pg_hba.conf"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def _write_hba(self) -> None:
        rules = hba_lines(self.auth_method, local=self.socket_dir is not None)
        (self.data_dir / "pg_hba.conf").write_text("\n".join(rules) + "\n", encoding="utf-8")

    def _require_password(self) -> None:
        """A cluster made when the stack trusted loopback: set the password (the old rules
        still let us in), then switch the rules to scram-sha-256."""
        self.start()
        try:
            with self._admin() as conn:
                if conn.execute("SELECT pg_is_in_recovery()").fetchone() != (True,):
                    conn.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            sql.Identifier(self.user), sql.Literal(self.password)
                        )
                    )
        finally:
            self.stop()
        self._write_hba()
