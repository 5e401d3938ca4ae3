"""Connect only to checked addresses: resolve once, classify every address, dial the address.

httpx 0.28 has no public hook for DNS, but httpcore's network backends are public API: the
pool calls `connect_tcp(host, port)` for every new connection. `GuardedBackend` resolves the
host there, refuses the connection if any address is blocked, and connects to the checked
address itself, so no second lookup can be steered elsewhere (DNS rebinding). httpcore still
knows the request's host, so the Host header, TLS SNI and certificate check use the name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import httpcore
import httpx

from shared.fetch.errors import RefusedError
from shared.fetch.resolve import Resolver
from shared.net import IPAddress, IPNetwork, classify, is_blocked, parse_host

ALLOW_HINT = "list the host in QUARRY_FETCH_ALLOW_HOSTS to fetch it"


class Guard:
    """The address policy: public addresses only, except hosts and networks listed in the
    configuration (`name`, `name:port`, `[v6]:port` or a CIDR network like `10.0.0.0/8`)."""

    def __init__(self, allow_hosts: Iterable[str], resolver: Resolver) -> None:
        self.resolver = resolver
        self.names: set[str] = set()
        self.networks: list[IPNetwork] = []
        for entry in (e.strip().lower() for e in allow_hosts):
            if "/" in entry:
                try:
                    self.networks.append(ipaddress.ip_network(entry, strict=False))
                    continue
                except ValueError:
                    pass
            self.names.add(entry)

    def is_listed(self, host: str, port: int) -> bool:
        """Whether the configuration names this host, alone or with this port."""
        host = host.lower()
        shown = f"[{host}]" if ":" in host else host
        return bool({host, shown, f"{shown}:{port}"} & self.names)

    async def admit(self, host: str, port: int) -> list[IPAddress]:
        """The addresses a connection to host:port may use; RefusedError if any is blocked."""
        try:
            literal = parse_host(host)
        except ValueError as exc:
            raise RefusedError(f"refused host {host!r}: {exc}") from exc
        addresses = [literal] if literal is not None else await self.resolver.resolve(host, port)
        if self.is_listed(host, port):
            return addresses
        shown = f"[{host}]" if ":" in host else host
        for addr in addresses:
            if is_blocked(addr, self.networks):
                kind = f"a non-public address ({classify(addr)})"
                if literal is None:
                    what = f"resolves to {addr}, {kind}"
                else:
                    plain = str(addr) == host or addr.version == 6
                    what = f"is {kind}" if plain else f"is {addr}, {kind}"
                raise RefusedError(
                    f"refused {shown}:{port}: {host} {what}; only public addresses are "
                    f"fetched ({ALLOW_HINT})"
                )
        return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that admits each connection through the Guard."""

    def __init__(self, guard: Guard, inner: httpcore.AsyncNetworkBackend) -> None:
        self.guard = guard
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's backend interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.guard.admit(host, port)
        failure: httpcore.ConnectError | None = None
        for addr in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(addr), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:  # try the next address, as getaddrinfo users do
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's backend interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedError(f"refused unix socket {path!r}: only TCP to checked addresses")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request/response mapping, exception mapping) over a pool whose
    every connection goes through `backend`. httpx 0.28 takes no `network_backend` argument,
    so the pool it builds is replaced; the type check fails loudly if httpx ever moves it."""

    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx no longer keeps its connection pool in _pool")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,  # httpx's own defaults; httpcore's are smaller
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=backend,
        )
