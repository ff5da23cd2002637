"""Where the portal's server may connect for an agency's sign-in options.

Admins type these addresses (an OIDC issuer, a SAML sign-on URL, an LDAP server), and an
issuer's discovery document names more (token, keys, authorization). Every one of them is
checked with the same rules, when the form is saved and again right before the portal
connects:

- https only (plain http just for loopback addresses, and only where
  ``settings.SSO_ALLOW_LOOPBACK_PROVIDERS`` allows them: development and tests);
- never the portal itself, the cloud's metadata service or any other loopback, link-local
  or unspecified address, unless loopback providers are allowed;
- an LDAP server is exactly one ``ldap://`` or ``ldaps://`` URL with a host (python-ldap
  would otherwise accept a space-separated list and try each server in turn).

Each check raises ``UnsafeEndpoint`` with words an admin can act on.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import ldapurl
from django.conf import settings

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


class UnsafeEndpoint(ValueError):
    """An address the portal will not connect to; the message is for the admin."""


def refuse_internal_host(host: str) -> None:
    """The portal will connect to this host: in production, never to itself, the cloud's
    metadata service or other link-local addresses (an admin-supplied URL must not become a
    way into the platform's own network)."""
    if settings.SSO_ALLOW_LOOPBACK_PROVIDERS:
        return
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        raise UnsafeEndpoint(f"{host} could not be found.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback or address.is_link_local or address.is_unspecified:
            raise UnsafeEndpoint("That address is not allowed.")


def https_url(value: str) -> str:
    """An https:// URL whose host the portal may reach; returns it stripped."""
    value = (value or "").strip()
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        raise UnsafeEndpoint("Use an https:// address.") from None
    loopback = hostname in LOOPBACK_NAMES
    allowed = parts.scheme == "https" or (
        parts.scheme == "http" and loopback and settings.SSO_ALLOW_LOOPBACK_PROVIDERS
    )
    if not allowed or not hostname:
        raise UnsafeEndpoint("Use an https:// address.")
    refuse_internal_host(hostname)
    return value


def ldap_server(value: str) -> tuple[str, str]:
    """(scheme, host) of an LDAP server address: exactly one ldap:// or ldaps:// URL with a
    host and nothing after it but an optional "/". Refuses lists, whitespace and commas."""
    message = "Enter one server address, such as ldaps://dc1.city.local:636."
    value = value or ""
    if not value or any(ch.isspace() or ch == "," for ch in value):
        raise UnsafeEndpoint(message)
    try:
        url = ldapurl.LDAPUrl(value)
        host = urlsplit(value).hostname
    except ValueError:
        raise UnsafeEndpoint(message) from None
    if url.urlscheme not in ("ldap", "ldaps"):
        raise UnsafeEndpoint("Use an ldaps:// or ldap:// address.")
    extra = url.dn or url.attrs or url.scope is not None or url.filterstr or url.extensions
    if not url.hostport or not host or extra:
        raise UnsafeEndpoint(message)
    return url.urlscheme, host


def check_ldap_server(value: str) -> tuple[str, str]:
    """``ldap_server`` plus the host rule: what the form and every connection check."""
    scheme, host = ldap_server(value)
    refuse_internal_host(host)
    return scheme, host


def is_loopback(host: str | None) -> bool:
    return host in LOOPBACK_NAMES


def plain_ldap_refused(scheme: str, host: str, start_tls: bool) -> bool:
    """Passwords never cross the network in the clear: ldap:// needs STARTTLS, except to a
    loopback server where loopback providers are allowed (development, tests)."""
    return (
        scheme == "ldap"
        and not start_tls
        and not (is_loopback(host) and settings.SSO_ALLOW_LOOPBACK_PROVIDERS)
    )


def check_ldap_connection(settings_data: dict) -> None:
    """Everything about a saved LDAP option's address, right before connecting to it."""
    scheme, host = check_ldap_server(settings_data.get("server_uri", ""))
    if plain_ldap_refused(scheme, host, bool(settings_data.get("start_tls"))):
        raise UnsafeEndpoint("Use ldaps:// or turn on STARTTLS: passwords must be encrypted.")
