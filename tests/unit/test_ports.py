"""Ports for the services `quarry up` and the tests start: below the kernel's ephemeral range,
where no outgoing connection can take one before its service binds it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from emulator.stack.services import ports
from emulator.stack.services.ports import RESERVED, free_port, is_free


def test_free_port_is_below_the_ephemeral_range_and_free(tmp_path: Path) -> None:
    fake = tmp_path / "ip_local_port_range"
    fake.write_text("32768\t60999\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ports, "EPHEMERAL", fake)
        drawn = {free_port() for _ in range(50)}
    assert all(ports.LOWEST <= p < 32768 for p in drawn), sorted(drawn)
    assert not drawn & RESERVED
    assert len(drawn) > 1  # drawn at random, not the same port for every service
    assert all(is_free(p) for p in drawn)


def test_free_port_skips_a_listening_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        fake = tmp_path / "ip_local_port_range"
        fake.write_text(f"{port + 1} 60999\n")  # the range below it holds only the taken port
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ports, "EPHEMERAL", fake)
            mp.setattr(ports, "LOWEST", port)
            chosen = free_port()
    assert chosen != port  # fell back to the kernel's choice


def test_free_port_falls_back_to_the_kernel_where_the_range_is_unknown(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ports, "EPHEMERAL", tmp_path / "missing")
        port = free_port()
    assert port not in RESERVED
    assert is_free(port)
