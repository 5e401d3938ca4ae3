"""Free loopback ports for services the emulator and tests start, never the well-known ones."""

from __future__ import annotations

import socket

from shared.errors import ConfigError

# Ports a developer's own Postgres, Redis or web server may hold; never hand these out.
RESERVED = frozenset({80, 5432, 6379})


def free_port(attempts: int = 20) -> int:
    """A TCP port free on 127.0.0.1 right now, chosen by the kernel, never a reserved one."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in RESERVED:
            return port
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
