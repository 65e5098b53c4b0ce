"""Which IP addresses a customer's source may be fetched from.

The rule is the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890), one row
per registry entry with its "Globally Reachable" column, plus the few blocks those
registries leave to the address-space registries (multicast; IPv6 outside 2000::/3), as the
registries stood in 2025 (5f00::/16, 2001:30::/28, 3fff::/20 and 100:0:0:1::/64 included).
Python's `ipaddress` flags are not used: they lag the registries (3.11 calls 192.0.0.8 and
2002:7f00:1:: global). The most specific row containing an address decides. A row whose
addresses carry an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo, ...) also refuses every
address whose carried IPv4 address is refused, since that is where the packets end up.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Carried = Callable[[ipaddress.IPv6Address], tuple[ipaddress.IPv4Address, ...]]


def _last32(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)


def _sixtofour(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    return (ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF),)


def _teredo(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The Teredo server, and the client whose address is stored inverted (RFC 4380 §4)."""
    server = (int(ip) >> 64) & 0xFFFFFFFF
    client = ~int(ip) & 0xFFFFFFFF
    return (ipaddress.IPv4Address(server), ipaddress.IPv4Address(client))


@dataclass(frozen=True)
class Block:
    """One registry row. `reachable` is its "Globally Reachable" column, None for N/A."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    name: str
    reference: str
    reachable: bool | None
    carries: Carried | None = None


def _table(*rows: tuple) -> tuple[Block, ...]:
    return tuple(Block(ipaddress.ip_network(block), *rest) for block, *rest in rows)


IPV4 = _table(
    # IANA IPv4 Special-Purpose Address Registry
    ("0.0.0.0/8", '"This network"', "RFC 791", False),
    ("0.0.0.0/32", '"This host on this network"', "RFC 1122", False),
    ("10.0.0.0/8", "Private-Use", "RFC 1918", False),
    ("100.64.0.0/10", "Shared Address Space", "RFC 6598", False),
    ("127.0.0.0/8", "Loopback", "RFC 1122", False),
    ("169.254.0.0/16", "Link Local", "RFC 3927", False),
    ("172.16.0.0/12", "Private-Use", "RFC 1918", False),
    ("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", False),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", False),
    ("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", False),
    ("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", True),
    ("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", True),
    ("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880", False),
    ("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880", False),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", False),
    ("192.31.196.0/24", "AS112-v4", "RFC 7535", True),
    ("192.52.193.0/24", "AMT", "RFC 7450", True),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", None),
    ("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", False),
    ("192.168.0.0/16", "Private-Use", "RFC 1918", False),
    ("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", True),
    ("198.18.0.0/15", "Benchmarking", "RFC 2544", False),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", False),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", False),
    ("240.0.0.0/4", "Reserved", "RFC 1112", False),
    ("255.255.255.255/32", "Limited Broadcast", "RFC 8190", False),
    # IANA IPv4 Address Space Registry
    ("224.0.0.0/4", "Multicast", "RFC 5771", False),
)

IPV6 = _table(
    # IANA IPv6 Special-Purpose Address Registry
    ("::1/128", "Loopback Address", "RFC 4291", False),
    ("::/128", "Unspecified Address", "RFC 4291", False),
    ("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", False, _last32),
    ("64:ff9b::/96", "IPv4-IPv6 Translation (NAT64)", "RFC 6052", True, _last32),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translation (local-use NAT64)", "RFC 8215", False),
    ("100::/64", "Discard-Only Address Block", "RFC 6666", False),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", False),
    ("2001::/23", "IETF Protocol Assignments", "RFC 2928", False),
    ("2001::/32", "TEREDO", "RFC 4380", None, _teredo),
    ("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", True),
    ("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", True),
    ("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", True),
    ("2001:2::/48", "Benchmarking", "RFC 5180", False),
    ("2001:3::/32", "AMT", "RFC 7450", True),
    ("2001:4:112::/48", "AS112-v6", "RFC 7535", True),
    ("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", None),
    ("2001:20::/28", "ORCHIDv2", "RFC 7343", True),
    ("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", True),
    ("2001:db8::/32", "Documentation", "RFC 3849", False),
    ("2002::/16", "6to4", "RFC 3056", None, _sixtofour),
    ("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", True),
    ("3fff::/20", "Documentation", "RFC 9637", False),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", False),
    ("fc00::/7", "Unique-Local", "RFC 4193", False),
    ("fe80::/10", "Link-Local Unicast", "RFC 4291", False),
    # IANA IPv6 Address Space Registry: only 2000::/3 is global unicast.
    ("::/0", "Reserved by IETF (outside global unicast 2000::/3)", "RFC 4291", False),
    ("2000::/3", "Global Unicast", "RFC 4291", True),
    ("::/96", "IPv4-compatible Address (deprecated)", "RFC 4291", False, _last32),
    ("::ffff:0:0:0/96", "IPv4-translated Address", "RFC 2765", False, _last32),
    ("fec0::/10", "Site-Local (deprecated)", "RFC 3879", False),
    ("ff00::/8", "Multicast", "RFC 4291", False),
)


def block_of(ip: IPAddress) -> Block | None:
    """The most specific row containing `ip` (None: an IPv4 address no registry lists)."""
    rows = IPV4 if ip.version == 4 else IPV6
    found = [row for row in rows if ip in row.network]
    return max(found, key=lambda row: row.network.prefixlen, default=None)


def refusal_reason(address: str | IPAddress, *, reveal: bool = True) -> str | None:
    """Why a source may not be fetched from `address`, or None when it is globally reachable.

    `reveal=False` names the registry block but not the address itself (an address a
    customer's host name resolved to inside our network is not theirs to learn).
    Raises ValueError for a string that is not an IP address.
    """
    ip = ipaddress.ip_address(address.split("%")[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(int(ip))
    row = block_of(ip)
    if row is None:
        return None
    what = f"{ip if reveal else 'an address'} in {row.network} ({row.name}, {row.reference})"
    for carried in row.carries(ip) if row.carries else ():
        if inner := refusal_reason(carried, reveal=reveal):
            return f"{what} carries an IPv4 address: {inner}"
    if row.reachable is False:
        return f"{what} is not globally reachable"
    if row.reachable is None and row.carries is None:
        return f"{what} is not listed as globally reachable"
    return None
