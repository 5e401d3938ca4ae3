"""The OS side of a private Postgres: files and folders owned by its OS user, its commands
run as that user, and the tail of its log in errors."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

from emulator.stack.services.pg_files import write_private
from shared.errors import ConfigError

TIMEOUT_S = 60


class OsOwned:
    """What a cluster needs from the OS: `data_dir`'s files owned by `os_user` (Postgres refuses
    root), its commands run as that user, and `log_file`'s tail quoted when one fails."""

    data_dir: Path
    log_file: Path
    os_user: str

    def _write_private(self, path: Path, text: str) -> None:
        write_private(path, text, self._owner())

    def _owner(self) -> tuple[int, int] | None:
        """The (uid, gid) that must own the cluster's files, or None when not running as root."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(self.os_user)
        except KeyError as exc:
            raise ConfigError(
                f"OS user {self.os_user!r} to run Postgres as does not exist"
            ) from exc
        return entry.pw_uid, entry.pw_gid

    def _make_dir(self, path: Path) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        owner = self._owner()
        if owner is None:
            return
        os.chown(path, *owner)
        for folder in path.parents:
            info = folder.stat()
            if info.st_uid != owner[0] and not info.st_mode & stat.S_IXOTH:
                raise ConfigError(
                    f"{folder} cannot be traversed by OS user {self.os_user!r}, who runs Postgres; "
                    f"put {path} under a folder others may enter (chmod o+x {folder})"
                )

    def _make_log(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        owner = self._owner()
        if owner is not None:
            os.chown(self.log_file, *owner)

    def _as_owner(self) -> list[str]:
        # setpriv execs the command, so a supervisor's signals reach the server itself; runuser
        # stays as its parent, ignores SIGINT and turns SIGTERM into a SIGKILL two seconds later.
        if self._owner() is None:
            return []
        if setpriv := shutil.which("setpriv"):
            return [setpriv, f"--reuid={self.os_user}", f"--regid={self.os_user}", "--init-groups"]
        raise ConfigError("running as root, but setpriv (util-linux) is not available")

    def _run(self, argv: list[str], what: str, extra_env: dict[str, str] | None = None) -> None:
        # PG* variables in the caller's environment would redirect the tools; the working folder
        # is / because os_user may not be able to enter the caller's.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | (extra_env or {})
        try:
            done = subprocess.run(
                [*self._as_owner(), *argv],
                capture_output=True,
                text=True,
                cwd="/",
                env=env,
                timeout=TIMEOUT_S + 30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(
                f"{what} for {self.data_dir} did not finish: {exc}{self._log()}"
            ) from exc
        if done.returncode != 0:
            output = _tail(done.stdout + done.stderr)
            detail = f"{what} for {self.data_dir} failed (exit {done.returncode})"
            raise ConfigError(f"{detail}:\n{output}{self._log()}")

    def _log(self) -> str:
        if not self.log_file.exists():
            return ""
        text = self.log_file.read_text(encoding="utf-8", errors="replace")
        return f"\n--- tail of {self.log_file} ---\n{_tail(text)}" if text.strip() else ""


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
