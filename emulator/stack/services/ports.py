"""Free loopback ports for services the emulator and tests start, never the well-known ones."""

from __future__ import annotations

import random
import socket
from pathlib import Path

from shared.errors import ConfigError

# Ports a developer's own Postgres, Redis or web server may hold; never hand these out.
RESERVED = frozenset({80, 5432, 6379})


# The kernel's ephemeral range: where bind(0) and every outgoing connection take their local
# port. A port chosen there for a service that starts seconds later (Prometheus starts last)
# can be taken meanwhile by any client's connection; one below it cannot.
EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10_000  # below: ports other software is configured to listen on


def _below_ephemeral(ephemeral: Path, lowest: int) -> range:
    """Ports below the kernel's ephemeral range, from `lowest` (empty where it is unknown)."""
    try:
        first = int(ephemeral.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return range(0)
    return range(lowest, first)


def free_port(attempts: int = 20, *, ephemeral: Path = EPHEMERAL, lowest: int = LOWEST) -> int:
    """A TCP port free on 127.0.0.1 right now, never a reserved one: drawn at random below the
    kernel's ephemeral range, so that no outgoing connection takes it before its service
    binds it; chosen by the kernel where that range is unknown or full."""
    candidates = _below_ephemeral(ephemeral, lowest)
    for _ in range(attempts if candidates else 0):
        port = random.choice(candidates)
        if port not in RESERVED and is_free(port):
            return port
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            given: int = sock.getsockname()[1]
        if given not in RESERVED:
            return given
    raise ConfigError(f"no free port on 127.0.0.1 outside {sorted(RESERVED)} in {attempts} tries")


def is_free(port: int) -> bool:
    """No listener on 127.0.0.1:`port` (TIME_WAIT leftovers of closed connections don't count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
