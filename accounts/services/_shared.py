"""Helpers the accounts services share (tokens, email, role labels); not for other modules."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Mapping

from django.template.loader import render_to_string
from django.utils import translation

from accounts import jobs, policy
from accounts.local_time import showing_times_of
from accounts.models import Agency, Role, User


def new_token() -> tuple[str, str]:
    """A URL-safe random token (256 bits) and the SHA-256 digest that is all we store."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mail(
    *,
    agency: Agency | None,
    to: str,
    template: str,
    context: Mapping[str, object],
    language: str,
) -> None:
    """Render ``accounts/email/<template>`` in ``language`` (the reader's: accounts.language)
    and queue it (sent after commit)."""
    zone = showing_times_of(agency) if agency else contextlib.nullcontext()
    with translation.override(language), zone:
        subject = "".join(
            render_to_string(f"accounts/email/{template}_subject.txt", context).splitlines()
        )
        body = render_to_string(f"accounts/email/{template}.txt", context)
    jobs.send_email(agency_id=agency.pk if agency else None, subject=subject, body=body, to=[to])


def role_label(role: str) -> str:
    return Role(role).label


def actor_role(actor: User, agency: Agency) -> str | None:
    membership = policy.membership_for(actor, agency)
    return membership.role if membership else None
