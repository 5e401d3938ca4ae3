"""Name resolution for the fetcher: the system resolver, and a fixed table as its twin."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from typing import Protocol

from shared.fetch.errors import UnreachableError
from shared.net import IPAddress


class Resolver(Protocol):
    """Turns a host name into the addresses a connection to it may use."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]: ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo), TCP addresses only, in its order."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except OSError as exc:
            raise UnreachableError(f"cannot resolve {host!r}: {exc}") from exc
        found: dict[IPAddress, None] = {}
        for *_, sockaddr in infos:
            found.setdefault(ipaddress.ip_address(sockaddr[0]), None)
        if not found:
            raise UnreachableError(f"cannot resolve {host!r}: no addresses")
        return list(found)


class StaticResolver:
    """A fixed table of names to addresses, for tests and pinned deployments; any other
    name does not resolve, so nothing leaks to real DNS."""

    def __init__(self, table: Mapping[str, Iterable[str]]) -> None:
        self.table = {
            name.lower(): [ipaddress.ip_address(a) for a in addresses]
            for name, addresses in table.items()
        }

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        found = self.table.get(host.lower().rstrip("."))
        if not found:
            raise UnreachableError(f"cannot resolve {host!r}: not in the resolver's table")
        return list(found)
