"""Who is at the other end of a request: the one answer for every use of the client's address.

Without trusted proxies (`TRUSTED_PROXIES` empty, the default) the client is
`REMOTE_ADDR`, the peer of the TCP connection, and `X-Forwarded-For` is never read: any
client can send that header with whatever it likes.

When `REMOTE_ADDR` is one of `TRUSTED_PROXIES` (addresses or networks), the header is read
from the right: each proxy appends the address of the peer it heard from, so the right-most
entry was written by `REMOTE_ADDR` itself, the one before by the proxy before it, and so on.
The client is the first address from the right that is not a trusted proxy; everything to
its left was written by the client and is ignored. An entry that is not an address (a
malformed or obfuscated one, `unknown`) ends the walk: the hop that wrote it cannot be
read, so the client is the last trusted hop that was reached. ADR 0185.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# More hops than any real chain of proxies; a longer header is not walked further.
MAX_HOPS = 20


def parse_networks(entries: list[str] | tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """`TRUSTED_PROXIES` entries as networks (a bare address is a /32 or /128); ValueError on a wrong one."""
    networks = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"{entry!r} is neither an IP address nor a network (such as 10.0.0.0/8 or fd00::/8)."
            ) from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_networks(entries)


def _address(raw: str) -> IPAddress | None:
    """An address as a proxy may write it: bare, `[v6]`, `[v6]:port` or `v4:port`; None otherwise."""
    raw = raw.strip().strip('"')
    if raw.startswith("["):
        raw = raw[1:].partition("]")[0]
    elif raw.count(":") == 1:
        raw = raw.partition(":")[0]
    if "%" in raw:  # an IPv6 zone says nothing about the client
        raw = raw.partition("%")[0]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address (IPv4-mapped IPv6 as IPv4), trusting X-Forwarded-For only from trusted proxies.

    `REMOTE_ADDR` that is not an address is returned as given (cut to 64 characters), or
    `unknown` when there is none.
    """
    raw = request.META.get("REMOTE_ADDR", "") or ""
    peer = _address(raw) if raw else None
    if peer is None:
        return raw[:64] or "unknown"
    networks = _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    client = peer
    # Django joins repeated X-Forwarded-For headers with commas, in the order they came.
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for entry in reversed(hops[-MAX_HOPS:]):
        if not entry.strip():
            continue
        address = _address(entry)
        if address is None:
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)
