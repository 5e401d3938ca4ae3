"""Address classification for the fetcher: what a host names, and whether it may be reached.

Pure: no sockets, no DNS. `parse_host` reads a URL host the way browsers and libc do, so the
numeric spellings of an address (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`) are seen
for what they are; `classify` names the range an address falls in; `is_blocked` is the policy.
"""

from __future__ import annotations

import functools
import ipaddress
import unicodedata
from collections.abc import Collection
from typing import Literal
from urllib.parse import unquote

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
AddressClass = Literal[
    "public",
    "loopback",
    "private",
    "link_local",
    "cgnat",
    "multicast",
    "unspecified",
    "metadata",
    "reserved",
]

# Cloud instance-metadata endpoints: AWS/GCP/Azure/OpenStack (and AWS's IPv6 twin), the ECS
# task endpoint, Alibaba Cloud, and Azure's wire server (a public address, so named here).
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "168.63.129.16",
    )
)
_V4: tuple[tuple[str, AddressClass], ...] = (
    ("0.0.0.0/8", "unspecified"),  # Linux connects 0.x.x.x to the local host
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("169.254.0.0/16", "link_local"),
    ("224.0.0.0/4", "multicast"),
)
_V6: tuple[tuple[str, AddressClass], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "reserved"),  # IPv4-compatible (deprecated): some stacks deliver to the IPv4
    ("64:ff9b:1::/48", "reserved"),  # local-use NAT64 (RFC 8215): a site's own translator
    ("fe80::/10", "link_local"),
    ("fec0::/10", "private"),  # deprecated site-local
    ("fc00::/7", "private"),  # unique local
    ("ff00::/8", "multicast"),
)
_RANGES = {
    4: tuple((ipaddress.ip_network(net), cls) for net, cls in _V4),
    6: tuple((ipaddress.ip_network(net), cls) for net, cls in _V6),
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HEX_DIGITS = frozenset("0123456789abcdef")


def _ipv4_number(part: str) -> int | None:
    """One dotted part in decimal, 0x-hex or 0-octal (WHATWG's IPv4 number parser)."""
    if part[:2] in ("0x", "0X"):
        digits = part[2:]
        if digits and not set(digits.lower()) <= _HEX_DIGITS:
            return None
        return int(digits, 16) if digits else 0
    if len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits.isascii() or not digits.isdigit():
        return None
    try:
        return int(digits, base)
    except ValueError:  # an 8 or 9 in an octal part
        return None


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host names, or None when the host is a name.

    Raises ValueError for a host that ends in a number but is no valid address (`1.2.3.999`),
    which browsers refuse outright and libc may still read somehow.
    """
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    numbers = [_ipv4_number(p) if p else None for p in parts]
    if numbers[-1] is None:
        return None  # the last label is not a number: a domain name
    if len(parts) > 4 or any(n is None for n in numbers):
        raise ValueError(f"{host!r} ends in a number but is not an IPv4 address")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise ValueError(f"{host!r} has a part out of range for an IPv4 address")
    address = values[-1]
    for i, n in enumerate(values[:-1]):
        address += n << (8 * (3 - i))
    return ipaddress.IPv4Address(address)


def parse_host(host: str) -> IPAddress | None:
    """The address a URL host spells, or None when it is a name that needs resolving.

    Accepts bracketed and bare IPv6 (with a zone), and every IPv4 spelling browsers and
    `inet_aton` accept: decimal, hex and octal parts, and the short forms `127.1`, `2130706433`.
    Percent-escapes and full-width digits are folded first, as a URL parser would.
    """
    text = unicodedata.normalize("NFKC", unquote(host)).strip().lower()
    if text.startswith("[") and text.endswith("]"):
        return ipaddress.IPv6Address(text[1:-1])
    if ":" in text:
        return ipaddress.IPv6Address(text)
    if not text:
        raise ValueError("empty host")
    return _parse_ipv4(text)


def embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and delivers to: mapped, NAT64 or 6to4."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return addr.sixtofour


def classify(addr: IPAddress) -> AddressClass:
    """The range `addr` belongs to; anything not globally routable is at least `reserved`."""
    bare = ipaddress.ip_address(addr.packed)  # drops an IPv6 zone id for the range checks
    if bare in METADATA:
        return "metadata"
    if isinstance(bare, ipaddress.IPv6Address):
        inner = embedded_ipv4(bare)
        if inner is not None:
            return classify(inner)
    for network, cls in _RANGES[bare.version]:
        if bare in network:
            return cls
    return "public" if bare.is_global else "reserved"


def is_blocked(addr: IPAddress, allow: Collection[IPNetwork] = ()) -> bool:
    """True unless `addr` is public or inside a network the configuration allows explicitly."""
    if any(addr in net for net in allow):
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        inner = embedded_ipv4(addr)
        if inner is not None and any(inner in net for net in allow):
            return False
    return classify(addr) != "public"


@functools.lru_cache(maxsize=16)
def networks(specs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Addresses or CIDR networks (settings spell them as strings) as networks."""
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


def forwarded_client(peer: str, forwarded_for: str | None, trusted: Collection[IPNetwork]) -> str:
    """Who is calling: the peer, unless it is a trusted proxy; then, walking X-Forwarded-For
    from its end (each proxy appends the address it saw), the first address that is not a
    trusted proxy. Entries a client wrote itself sit before that one and are never read."""
    client = peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    while hops and _is_trusted(client, trusted):
        client = hops.pop()[:64]
    return client


def _is_trusted(address: str, trusted: Collection[IPNetwork]) -> bool:
    try:
        addr = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return any(addr in net for net in trusted)
