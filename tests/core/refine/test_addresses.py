"""The address rule, row by row against the IANA special-purpose registries.

Each case below is written from the registries (not read from the table under test): an
address inside every row, and where it means something one just outside. A last test
checks that no row of the table goes without a case.
"""

from __future__ import annotations

import ipaddress

import pytest

from aegis_core.refine.addresses import IPV4, IPV6, refusal_reason

OK = None
# (address, None when globally reachable, else a fragment of the refusal)
IPV4_CASES = [
    ("0.1.2.3", '"This network"'),
    ("1.0.0.0", OK),
    ("0.0.0.0", '"This host on this network"'),
    ("0.0.0.1", '"This network"'),
    ("10.0.0.5", "10.0.0.0/8 (Private-Use"),
    ("9.255.255.255", OK),
    ("11.0.0.0", OK),
    ("100.64.0.1", "Shared Address Space"),
    ("100.127.255.255", "Shared Address Space"),
    ("100.63.255.255", OK),
    ("100.128.0.0", OK),
    ("127.0.0.1", "Loopback"),
    ("127.255.255.254", "Loopback"),
    ("128.0.0.0", OK),
    ("169.254.169.254", "Link Local"),
    ("169.253.255.255", OK),
    ("169.255.0.0", OK),
    ("172.16.0.0", "172.16.0.0/12 (Private-Use"),
    ("172.31.255.255", "172.16.0.0/12 (Private-Use"),
    ("172.15.255.255", OK),
    ("172.32.0.0", OK),
    ("192.0.0.100", "IETF Protocol Assignments"),
    ("191.255.255.255", OK),
    ("192.0.1.0", OK),
    ("192.0.0.1", "IPv4 Service Continuity Prefix"),
    ("192.0.0.7", "IPv4 Service Continuity Prefix"),
    ("192.0.0.8", "IPv4 dummy address"),  # Python's is_global says True
    ("192.0.0.9", OK),  # Port Control Protocol anycast
    ("192.0.0.10", OK),  # TURN anycast
    ("192.0.0.11", "IETF Protocol Assignments"),
    ("192.0.0.170", "NAT64/DNS64 Discovery"),
    ("192.0.0.171", "NAT64/DNS64 Discovery"),
    ("192.0.0.172", "IETF Protocol Assignments"),
    ("192.0.2.1", "Documentation (TEST-NET-1)"),
    ("192.0.3.0", OK),
    ("192.31.196.1", OK),  # AS112-v4
    ("192.52.193.1", OK),  # AMT
    ("192.88.99.1", "Deprecated (6to4 Relay Anycast)"),
    ("192.88.99.2", "6a44-relay anycast address"),
    ("192.88.100.0", OK),
    ("192.168.1.1", "192.168.0.0/16 (Private-Use"),
    ("192.167.255.255", OK),
    ("192.169.0.0", OK),
    ("192.175.48.1", OK),  # Direct Delegation AS112 Service
    ("198.18.0.1", "Benchmarking"),
    ("198.19.255.255", "Benchmarking"),
    ("198.17.255.255", OK),
    ("198.20.0.0", OK),
    ("198.51.100.7", "Documentation (TEST-NET-2)"),
    ("198.51.101.0", OK),
    ("203.0.113.9", "Documentation (TEST-NET-3)"),
    ("203.0.114.0", OK),
    ("224.0.0.1", "Multicast"),
    ("239.255.255.255", "Multicast"),
    ("223.255.255.255", OK),
    ("240.0.0.1", "Reserved"),
    ("255.255.255.254", "Reserved"),
    ("255.255.255.255", "Limited Broadcast"),
    ("93.184.215.14", OK),
    ("8.8.8.8", OK),
]

IPV6_CASES = [
    ("::1", "Loopback Address"),
    ("::", "Unspecified Address"),
    ("::ffff:127.0.0.1", "Loopback"),
    ("::ffff:169.254.169.254", "Link Local"),
    ("::ffff:8.8.8.8", "IPv4-mapped Address"),  # refused as such: the registry says so
    ("64:ff9b::808:808", OK),  # NAT64 of 8.8.8.8
    ("64:ff9b::7f00:1", "Loopback"),
    ("64:ff9b::a9fe:a9fe", "Link Local"),
    ("64:ff9b::a00:5", "Private-Use"),
    ("64:ff9b::c000:8", "IPv4 dummy address"),
    ("64:ff9b::1:0:808:808", "Reserved by IETF"),  # just past the /96
    ("64:ff9b:1::808:808", "local-use NAT64"),
    ("100::1", "Discard-Only Address Block"),
    ("100:0:0:1::1", "Dummy IPv6 Prefix"),
    ("100:0:0:2::1", "Reserved by IETF"),
    ("2001:100::1", "IETF Protocol Assignments"),
    ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", "IETF Protocol Assignments"),
    ("2001:200::1", OK),
    ("2000::1", OK),
    # Teredo: server 65.54.227.120 (4136:e378), client stored inverted in the last 32 bits.
    ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", OK),  # client 8.8.8.8
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Loopback"),  # client 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Documentation (TEST-NET-1)"),  # RFC 4380
    ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "Private-Use"),  # server 10.0.0.1
    ("2001:1::1", OK),  # Port Control Protocol anycast
    ("2001:1::2", OK),  # TURN anycast
    ("2001:1::3", OK),  # DNS-SD SRP anycast
    ("2001:1::4", "IETF Protocol Assignments"),
    ("2001:2::1", "Benchmarking"),
    ("2001:2:1::", "IETF Protocol Assignments"),
    ("2001:3::1", OK),  # AMT
    ("2001:3:ffff::1", OK),
    ("2001:4::1", "IETF Protocol Assignments"),
    ("2001:4:112::1", OK),  # AS112-v6
    ("2001:4:113::1", "IETF Protocol Assignments"),
    ("2001:10::1", "Deprecated (previously ORCHID)"),
    ("2001:20::1", OK),  # ORCHIDv2
    ("2001:2f:ffff::1", OK),
    ("2001:30::1", OK),  # DRIP DETs
    ("2001:3f:ffff::1", OK),
    ("2001:40::1", "IETF Protocol Assignments"),
    ("2001:db8::1", "2001:db8::/32 (Documentation"),
    ("2001:db9::1", OK),
    ("2002:7f00:1::", "Loopback"),  # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::1", "Link Local"),
    ("2002:c000:8::1", "IPv4 dummy address"),
    ("2002:808:808::1", OK),
    ("2003::1", OK),
    ("2620:4f:8000::1", OK),  # Direct Delegation AS112 Service
    ("3fff::1", "3fff::/20 (Documentation"),
    ("3fff:fff:ffff::1", "3fff::/20 (Documentation"),
    ("3fff:1000::1", OK),
    ("3ffe:ffff::1", OK),
    ("5f00::1", "Segment Routing (SRv6) SIDs"),
    ("5f00:ffff::1", "Segment Routing (SRv6) SIDs"),
    ("5f01::1", "Reserved by IETF"),
    ("fc00::1", "Unique-Local"),
    ("fd12:3456::1", "Unique-Local"),
    ("fe80::1", "Link-Local Unicast"),
    ("fe80::1%eth0", "Link-Local Unicast"),
    ("febf::1", "Link-Local Unicast"),
    ("fec0::1", "Site-Local"),
    ("ff02::1", "Multicast"),
    ("4000::1", "Reserved by IETF"),
    ("1fff:ffff::1", "Reserved by IETF"),
    ("::127.0.0.1", "Loopback"),  # IPv4-compatible (deprecated)
    ("::8.8.8.8", "IPv4-compatible Address"),
    ("::ffff:0:7f00:1", "Loopback"),  # IPv4-translated
    ("::ffff:0:808:808", "IPv4-translated Address"),
    ("2606:4700:4700::1111", OK),
]


@pytest.mark.parametrize(("address", "fragment"), IPV4_CASES + IPV6_CASES)
def test_every_registry_row(address: str, fragment: str | None) -> None:
    reason = refusal_reason(address)
    if fragment is OK:
        assert reason is None
    else:
        assert reason is not None and fragment in reason


def test_every_row_of_the_table_has_a_case() -> None:
    addresses = [ipaddress.ip_address(a.split("%")[0]) for a, _ in IPV4_CASES + IPV6_CASES]
    for row in IPV4 + IPV6:
        assert any(ip in row.network for ip in addresses if ip.version == row.network.version), row


def test_a_refusal_names_the_address_the_packets_would_reach() -> None:
    reason = refusal_reason("2002:7f00:1::")
    assert reason is not None and "6to4" in reason and "127.0.0.1" in reason


def test_an_address_can_be_judged_without_being_named() -> None:
    reason = refusal_reason("64:ff9b::a9fe:a9fe", reveal=False)
    assert reason is not None and "Link Local" in reason
    assert "169.254.169.254" not in reason and "a9fe" not in reason


def test_not_an_address_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        refusal_reason("example.com")
