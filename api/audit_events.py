"""Audit event types of the API: personal tokens made, revoked and refused. Every call made
with a token is recorded as the page view every authenticated request records
(accounts.audit_events.PAGE_VIEWED), with the token's public key in its details. Details
never hold a token's secret."""

from __future__ import annotations

from audit.registry import category, register

API = category("api", "API tokens", 25)

TOKEN_CREATED = register(
    "api.token_created",
    "{actor} made the API token “{name}” ({key}), valid until {expires}",
    label="Made an API token",
    category=API,
)
TOKEN_REVOKED = register(
    "api.token_revoked",
    "{actor} revoked the API token “{name}” ({key}) of {owner}",
    label="Revoked an API token",
    category=API,
)
