"""The address classifier: every spelling of a host, and the range each address falls in."""

from __future__ import annotations

import ipaddress

import pytest

from shared.net import classify, forwarded_client, is_blocked, networks, parse_host

CLASSES = [
    ("8.8.8.8", "public"),
    ("93.184.216.34", "public"),
    ("2606:4700:4700::1111", "public"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("100.64.0.1", "cgnat"),
    ("100.127.255.254", "cgnat"),
    ("169.254.1.1", "link_local"),
    ("fe80::1", "link_local"),
    ("febf::1", "link_local"),
    ("169.254.169.254", "metadata"),
    ("169.254.170.2", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::", "unspecified"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("2001:db8::1", "reserved"),
    # IPv6 forms that deliver to an IPv4 address are judged by that address
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:8.8.8.8", "public"),
    ("64:ff9b::7f00:1", "loopback"),
    ("2002:a9fe:a9fe::", "metadata"),
    # IPv4-compatible (deprecated, ::/96) and local-use NAT64 (RFC 8215) are never public
    ("::7f00:1", "reserved"),
    ("::808:808", "reserved"),
    ("64:ff9b:1::7f00:1", "reserved"),
    ("64:ff9b:1:ffff::808:808", "reserved"),
]


@pytest.mark.parametrize(("address", "expected"), CLASSES)
def test_classify_names_the_range(address: str, expected: str) -> None:
    addr = ipaddress.ip_address(address)
    assert classify(addr) == expected
    assert is_blocked(addr) is (expected != "public")


SPELLINGS = [
    ("127.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0X7F000001", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0177.0000.0000.0001", "127.0.0.1"),
    ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"),
    ("127.0.0.1.", "127.0.0.1"),
    ("%31%32%37.0.0.1", "127.0.0.1"),
    ("１２７.０.０.１", "127.0.0.1"),
    ("0", "0.0.0.0"),
    ("167772161", "10.0.0.1"),
    ("012.0.0.1", "10.0.0.1"),
    ("2852039166", "169.254.169.254"),
    ("0xa9fea9fe", "169.254.169.254"),
    ("0251.0376.0251.0376", "169.254.169.254"),
    ("[::1]", "::1"),
    ("::1", "::1"),
    ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
    ("[::ffff:7f00:1]", "::ffff:7f00:1"),
    ("[0:0:0:0:0:0:0:1]", "::1"),
    ("[fd00:ec2::254]", "fd00:ec2::254"),
    ("fe80::1%25eth0", "fe80::1%eth0"),
]


@pytest.mark.parametrize(("host", "address"), SPELLINGS)
def test_parse_host_reads_every_numeric_spelling(host: str, address: str) -> None:
    assert parse_host(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "sites.test", "localhost", "1.2.3.example", "x"])
def test_parse_host_leaves_names_to_the_resolver(host: str) -> None:
    assert parse_host(host) is None


@pytest.mark.parametrize("host", ["1.2.3.999", "a.1", "1.2.3.4.5", "0x7g.1", "09.1", "256.1", ""])
def test_parse_host_refuses_hosts_that_end_in_a_number_but_are_no_address(host: str) -> None:
    with pytest.raises(ValueError, match=r"IPv4|empty"):
        parse_host(host)


def test_every_loopback_spelling_is_blocked() -> None:
    for host, address in SPELLINGS[:13]:
        parsed = parse_host(host)
        assert parsed is not None
        assert (str(parsed), classify(parsed), is_blocked(parsed)) == (address, "loopback", True)


def test_is_blocked_honours_explicitly_allowed_networks() -> None:
    allow = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]
    assert is_blocked(ipaddress.ip_address("10.1.2.3"), allow) is False
    assert is_blocked(ipaddress.ip_address("::ffff:10.1.2.3"), allow) is False
    assert is_blocked(ipaddress.ip_address("127.0.0.1"), allow) is False
    assert is_blocked(ipaddress.ip_address("127.0.0.2"), allow) is True
    assert is_blocked(ipaddress.ip_address("192.168.0.1"), allow) is True
    assert is_blocked(ipaddress.ip_address("169.254.169.254"), allow) is True


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),  # behind the stack's nginx
        ("127.0.0.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a client's own entry ignored
        ("127.0.0.1", "203.0.113.5, 10.1.2.3", "203.0.113.5"),  # two trusted proxies
        ("127.0.0.1", None, "127.0.0.1"),  # a local client, no proxy
        ("198.51.100.7", "203.0.113.5", "198.51.100.7"),  # not a proxy: the header is a lie
        ("127.0.0.1", "not-an-address", "not-an-address"),
    ],
)
def test_forwarded_client_believes_only_trusted_proxies(
    peer: str, forwarded: str | None, expected: str
) -> None:
    trusted = networks(("127.0.0.1/32", "10.0.0.0/8"))
    assert forwarded_client(peer, forwarded, trusted) == expected
