"""Ports for the services `quarry up` and the tests start: below the kernel's ephemeral range,
where no outgoing connection can take one before its service binds it."""

from __future__ import annotations

import socket
from pathlib import Path

from emulator.stack.services.ports import LOWEST, RESERVED, free_port, is_free


def _range_file(tmp_path: Path, first: int, last: int = 60999) -> Path:
    """A stand-in for /proc/sys/net/ipv4/ip_local_port_range."""
    path = tmp_path / "ip_local_port_range"
    path.write_text(f"{first}\t{last}\n")
    return path


def test_free_port_is_below_the_ephemeral_range_and_free(tmp_path: Path) -> None:
    ephemeral = _range_file(tmp_path, 32768)
    drawn = {free_port(ephemeral=ephemeral) for _ in range(50)}
    assert all(LOWEST <= p < 32768 for p in drawn), sorted(drawn)
    assert not drawn & RESERVED
    assert len(drawn) > 1  # drawn at random, not the same port for every service
    assert all(is_free(p) for p in drawn)


def test_free_port_skips_a_listening_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # the range below the ephemeral one holds only the taken port
        chosen = free_port(ephemeral=_range_file(tmp_path, port + 1), lowest=port)
    assert chosen != port  # fell back to the kernel's choice


def test_free_port_falls_back_to_the_kernel_where_the_range_is_unknown(tmp_path: Path) -> None:
    port = free_port(ephemeral=tmp_path / "missing")
    assert port not in RESERVED
    assert is_free(port)
