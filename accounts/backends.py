"""Email + password sign-in (the portal's own passwords, hashed with Argon2id).

A separate class from Django's ModelBackend only so the sign-in flow can tell a portal
password from an LDAP bind (``accounts.signin.flow.method_for_backend``): an agency that signs its
staff in through SSO only refuses the first and accepts the second.
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import User


class PortalPasswordBackend(ModelBackend):
    """Case-insensitive email lookup (``UserManager.get_by_natural_key``); for an unknown
    email Django still runs the password hasher once, so both take about as long."""


class SingleSignOnBackend(ModelBackend):
    """The backend recorded in sessions signed in through OIDC or SAML. It never
    authenticates anything itself (allauth and accounts.sso do that); Django only needs a
    backend to load the session's user on later requests."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **credentials: Any,
    ) -> User | None:
        return None
