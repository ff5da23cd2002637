"""Helpers shared by the identity tests (lockout, sessions, user administration, sign-up,
two-factor): real sign-ins through the login page, audit reads, links from sent mail, session
rows, authenticator apps and their current codes."""

from __future__ import annotations

import html
import re
import secrets
import time

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SealedTOTPDevice, UserSession
from accounts.signin import flow
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD

_CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_LINK = re.compile(r"https?://[^/\s]+(/\S+)")


def events(agency, action: str | None = None) -> list[AuditEvent]:
    """The audit events of an agency's chain (``None``: the platform chain), oldest first."""
    with agency_context(agency, platform=agency is None):
        rows = AuditEvent.objects.filter(agency=agency).order_by("id")
        if action:
            rows = rows.filter(action=action)
        return list(rows)


def sign_in(client, email: str, password: str = TEST_PASSWORD, **extra):
    """POST the sign-in form as a browser does; ``extra`` reaches request.META (REMOTE_ADDR,
    HTTP_USER_AGENT)."""
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, **extra
    )


def signed_in_user_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def text(response) -> str:
    """The response body as a person reads it (HTML entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())


def page_body(response) -> str:
    """The rendered page with the per-render CSRF masking taken out."""
    return _CSRF_VALUE.sub(r"\1\2", response.content.decode())


def link_path(message) -> str:
    """The path of the (first) link in a sent email."""
    match = _LINK.search(message.body)
    assert match is not None, message.body
    return match.group(1)


def sessions_of(user, agency=None, *, live: bool = True) -> list[UserSession]:
    """The user's session rows on one agency's host (``None``: the platform domain)."""
    with agency_context(agency, platform=agency is None):
        rows = UserSession.objects.filter(user=user, agency=agency).order_by("id")
        if live:
            rows = rows.filter(ended_at__isnull=True)
        return list(rows)


def quick_password(user, password: str = TEST_PASSWORD) -> None:
    """Store the password with a cheap PBKDF2 hash: tests that fail many sign-ins on purpose
    should not spend a second of hashing on each. (A successful sign-in still upgrades the
    hash to Argon2id, as in production.)"""
    user.password = PBKDF2PasswordHasher().encode(password, "quicksalt", iterations=1000)
    user.save(update_fields=["password"])


def prove_account(client, *, seconds_ago: int = 0) -> None:
    """What a sign-in with the portal password (or a two-factor code) leaves in the session
    besides what ``client_for`` marks: a recent account proof (accounts.signin.flow)."""
    session = client.session
    session[flow.ACCOUNT_PROOF_AT] = int(time.time()) - seconds_ago
    session.save()


def account_client(client_for, user, host: str, **kwargs):
    """``client_for(user, host)`` whose session also holds a recent account proof."""
    client = client_for(user, host, **kwargs)
    prove_account(client)
    return client


def add_authenticator(user, *, name: str = "phone", secret: bytes | None = None):
    """A confirmed authenticator app for ``user``, its secret sealed as enrolment seals it
    (accounts.models.SealedTOTPDevice)."""
    device = SealedTOTPDevice.unsaved(
        user=user, name=name, secret=secret or secrets.token_bytes(20), confirmed=True
    )
    device.save()
    return device


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The code the authenticator app shows now (or ``offset_steps`` time steps from now)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"
