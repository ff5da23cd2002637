"""Which network addresses the portal's own servers may connect to for an agency: the rule
that keeps an admin-typed address (a webhook receiver, a mail server) from becoming a way
into the platform's own network (SSRF). Used by webhooks.targets and mailin.imap.

Public means none of: private, loopback, link-local (the cloud's metadata service),
multicast, reserved, unspecified or shared (carrier-grade NAT) addresses, nor an IPv6
address that embeds one of those (IPv4-mapped, 6to4, NAT64, Teredo)."""

from __future__ import annotations

import ipaddress
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class NotFound(ValueError):
    """The name does not resolve."""


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64, Teredo), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """Whether the portal may connect to ``address`` in production."""
    inner = embedded_ipv4(address)
    if inner is not None and not is_public(inner):
        return False
    return not (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED)
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def allowed(address: Address, *, loopback_allowed: bool) -> bool:
    """Public, or loopback where the deployment allows it (development and the tests)."""
    if is_public(address):
        return True
    return loopback_allowed and (embedded_ipv4(address) or address).is_loopback


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` names (itself, when it is an address), in the resolver's order.
    Raises NotFound."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise NotFound(host) from None
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise NotFound(host)
    return found
