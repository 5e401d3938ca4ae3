"""A bare Debian machine: infra/install-system-deps.sh sees which binaries are missing with any
PATH (its dry run), installs every package README names, and the emulator finds PostgreSQL and
Redis where Debian's packages put them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from emulator.stack.services.pg_files import bin_dir
from emulator.stack.services.redis import redis_binary
from shared.errors import ConfigError
from tests.conftest import ROOT

SCRIPT = ROOT / "infra" / "install-system-deps.sh"
PG_TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


def _dry_run(root: Path, path: Path) -> str:
    """The script's dry run with nothing but `path` on PATH and `root` standing in for /."""
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT), "--dry-run"],
        env={"PATH": str(path), "QUARRY_SYSTEM_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def _readme_packages() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"system-packages:start -->(.*?)<!-- system-packages:end", text, re.S)
    assert block, "README lost its system-packages block"
    return re.findall(r"`([a-z0-9.+-]+)`", block.group(1))


def test_install_script_on_a_bare_machine_would_install_what_readme_names(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    out = _dry_run(tmp_path / "bare", empty)
    assert out.startswith("would install: "), out
    packages = out.removeprefix("would install: ").split()
    assert packages[:2] == ["postgresql", "redis-server"]
    assert packages == _readme_packages()


def test_install_script_finds_debian_versioned_postgres_off_path(tmp_path: Path) -> None:
    root, empty = tmp_path / "root", tmp_path / "empty-path"
    empty.mkdir()
    for tool in PG_TOOLS:
        _executable(root / "usr/lib/postgresql/16/bin" / tool)
    _executable(root / "usr/bin/redis-server")
    packages = _dry_run(root, empty).removeprefix("would install: ").split()
    assert "postgresql" not in packages
    assert "redis-server" not in packages
    assert "nginx-light" in packages  # the rest of the bare machine is still missing


def test_install_script_wants_postgres_when_a_server_tool_is_missing(tmp_path: Path) -> None:
    root, empty = tmp_path / "root", tmp_path / "empty-path"
    empty.mkdir()
    for tool in ("initdb", "pg_ctl", "postgres"):  # no pg_basebackup: no replica
        _executable(root / "usr/lib/postgresql/16/bin" / tool)
    assert "postgresql" in _dry_run(root, empty).split()


def test_install_script_counts_binaries_on_path(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    names = [*PG_TOOLS, "redis-server", "nginx", "prometheus", "promtool"]
    names += ["prometheus-alertmanager", "amtool", "chromium", "node", "npm", "wrk"]
    for name in names:
        _executable(tools / name)
    assert _dry_run(tmp_path / "bare", tools) == "nothing to install"


def test_install_script_refuses_unknown_arguments() -> None:
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT), "--yes"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_postgres_binaries_found_in_the_newest_debian_folder_off_path(tmp_path: Path) -> None:
    for version in ("9", "13", "16"):  # numeric order, not text order ("9" > "16")
        for tool in PG_TOOLS:
            _executable(tmp_path / f"usr/lib/postgresql/{version}/bin" / tool)
    versioned = f"{tmp_path}/usr/lib/postgresql/*/bin"
    found = bin_dir(path=str(tmp_path / "nothing"), versioned=versioned)
    assert found == tmp_path / "usr/lib/postgresql/16/bin"


def test_postgres_binaries_missing_say_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"infra/install-system-deps\.sh"):
        bin_dir(path=str(tmp_path), versioned=f"{tmp_path}/usr/lib/postgresql/*/bin")


def test_redis_server_found_where_debian_puts_it_off_path(tmp_path: Path) -> None:
    debian = _executable(tmp_path / "usr/bin/redis-server")
    assert redis_binary(path=str(tmp_path / "nothing"), fallback=str(debian.parent)) == debian
    with pytest.raises(ConfigError, match="redis-server"):
        redis_binary(path=str(tmp_path / "nothing"), fallback=str(tmp_path / "none"))
