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

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from accounts import addresses
from accounts.addresses import Address

MAX_LENGTH = 500  # WebhookEndpoint.url


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


def allowed(address: Address) -> bool:
    return addresses.allowed(address, loopback_allowed=_loopback_allowed())


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
        found = addresses.resolve(host, port)
    except addresses.NotFound:
        raise UnsafeTarget(_("%(host)s could not be found.") % {"host": host}) from None
    for address in found:
        if not allowed(address):
            raise UnsafeTarget(
                _(
                    "%(host)s leads to a private or internal network address; events can "
                    "only be sent to a public address."
                )
                % {"host": host}
            )
    return Target(scheme, host, port, path, found[0])


def check_url(url: str) -> str:
    """The address as the form keeps it (stripped) once it passes ``resolve``."""
    resolve(url)
    return url.strip()
