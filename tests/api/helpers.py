"""Builders of the API tests: tokens made through the service, clients that send them."""

from __future__ import annotations

import datetime

from django.test import Client
from django.utils import timezone

from accounts.tenancy import agency_context
from api.scopes import ALL_SCOPES
from api.tokens.services import token_create
from requests_portal.services import submission


def make_token(user, agency, *, scopes=ALL_SCOPES, days: int = 30, name: str = "test"):
    """(row, text) of a new token of ``user`` made on ``agency``'s site."""
    with agency_context(agency):
        return token_create(
            user=user,
            agency=agency,
            name=name,
            scopes=scopes,
            expires_at=timezone.now() + datetime.timedelta(days=days),
        )


def api_client(text: str, host: str) -> Client:
    return Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {text}")


def file_as(tenant, user, title: str = "Council minutes 2025"):
    with agency_context(tenant.agency):
        return submission.request_submit(
            agency=tenant.agency,
            actor=user,
            title=title,
            description="The minutes of every council meeting in 2025.",
            contact=submission.Contact(name="Pat", email=user.email),
        )
