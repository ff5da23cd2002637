"""Where the portal may send an agency's webhooks: the rule that keeps an admin-typed URL
from becoming a way into the platform's own network (SSRF).

- https only; plain http, and loopback addresses, only where
  ``settings.WEBHOOKS_ALLOW_LOOPBACK_TARGETS`` allows them (development, the tests' local
  receivers; never production);
- the name is resolved and every address it resolves to must be public: no private,
  loopback, link-local (the cloud's metadata service), multicast, reserved, unspecified or
  shared address, nor an IPv6 address that embeds one of those (IPv4-mapped, 6to4, NAT64,
  Teredo);
- checked when the address is saved (a form error) and again before every send, and the
  connection goes to the address that was checked (``Target.address``), never to a second
  lookup of the name: a name that answers differently the second time (DNS rebinding)
  cannot move the request. The name still travels as the Host header and TLS's server name,
  and the certificate is checked against it.

Each refusal raises ``UnsafeTarget`` with words an admin can act on.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_LENGTH = 500  # WebhookEndpoint.url
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class UnsafeTarget(ValueError):
    """An address the portal will not send webhooks to; the message is for the admin."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts, and the one address to connect to."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, at least "/"
    address: Address

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the name (what the client opens)."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def _loopback_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK_TARGETS", False))


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
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
    inner = _embedded_ipv4(address)
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


def allowed(address: Address) -> bool:
    if is_public(address):
        return True
    inner = _embedded_ipv4(address) or address
    return _loopback_allowed() and inner.is_loopback


def _parts(url: str) -> tuple[str, str, int, str]:
    message = _("Enter a full https:// address, such as https://records.example.gov/hooks.")
    url = (url or "").strip()
    if not url or len(url) > MAX_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UnsafeTarget(message)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise UnsafeTarget(message) from None
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeTarget(message)
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget(_("Leave the user name and password out of the address."))
    if parts.fragment:
        raise UnsafeTarget(_("Leave the “#” part out of the address."))
    if parts.scheme == "http" and not _loopback_allowed():
        raise UnsafeTarget(_("Use an https:// address: events are only sent encrypted."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, host.rstrip(".").lower(), port or default, path


def resolve(url: str) -> Target:
    """The URL checked and resolved now: every address of its name must be allowed, and the
    first is the one to connect to. Raises UnsafeTarget."""
    scheme, host, port, path = _parts(url)
    try:
        literal: Address | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise UnsafeTarget(_("%(host)s could not be found.") % {"host": host}) from None
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise UnsafeTarget(_("%(host)s could not be found.") % {"host": host})
    for address in addresses:
        if not allowed(address):
            raise UnsafeTarget(
                _(
                    "%(host)s leads to a private or internal network address; events can "
                    "only be sent to a public address."
                )
                % {"host": host}
            )
    return Target(scheme, host, port, path, addresses[0])


def check_url(url: str) -> str:
    """The address as the form keeps it (stripped) once it passes ``resolve``."""
    resolve(url)
    return url.strip()
