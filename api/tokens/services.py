"""Making and revoking personal API tokens, each with its audit event in the same
transaction. The token's text is returned once, by ``token_create``, and never stored."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts import policy
from accounts.models import Agency, User
from accounts.tenancy import current_db_tenant
from api import audit_events
from api.models import ApiToken
from api.scopes import ALL_SCOPES
from api.tokens import secrets
from audit.registry import EventType

MAX_LIFETIME = datetime.timedelta(days=366)
# A token's last use is written at most this often (one row write per minute, not per call).
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


class TokenRefused(ValueError):
    pass


def _record(
    event: EventType,
    token: ApiToken,
    actor: User,
    http_request: HttpRequest | None,
    **more: object,
) -> None:
    audit.record(
        event.code,
        http_request=http_request,
        # A resident's own token (no agency) is recorded on the site it was made or revoked on.
        agency=token.agency_id or current_db_tenant(),
        actor=actor,
        target=token,
        details={
            "name": token.name,
            "key": token.key,
            "owner": token.user.email,
            "scopes": list(token.scopes),
            **more,
        },
    )


def token_create(
    *,
    user: User,
    agency: Agency | None,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime.datetime,
    http_request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``: bound to ``agency`` when they are a member there (staff
    powers on that site only), else their own as a requester (no agency). Returns the row and
    the token's text, which is shown once."""
    chosen = sorted(set(scopes))
    if not chosen or any(s not in ALL_SCOPES for s in chosen):
        raise TokenRefused("Choose at least one scope from the list.")
    now = timezone.now()
    if not now < expires_at <= now + MAX_LIFETIME:
        raise TokenRefused("Choose an expiry date within the next year.")
    if not name.strip():
        raise TokenRefused("Give the token a name.")
    bound = agency if policy.membership_for(user, agency) is not None else None
    text = secrets.new_token_text()
    with transaction.atomic():
        token = ApiToken.objects.create(
            agency=bound,
            user=user,
            name=name.strip()[:100],
            key=text.key,
            digest=secrets.digest_of(text),
            scopes=chosen,
            created_at=now,
            expires_at=expires_at,
        )
        _record(
            audit_events.TOKEN_CREATED,
            token,
            user,
            http_request,
            expires=expires_at.date().isoformat(),
        )
    return token, text.text


def token_revoke(*, token: ApiToken, actor: User, http_request: HttpRequest | None = None) -> bool:
    """Revoke at once (the next call with it is refused). False when it already was."""
    with transaction.atomic():
        # Re-read under a lock, by its own agency (null for a resident's) and owner.
        token = ApiToken.objects.select_for_update().get(
            pk=token.pk, agency=token.agency_id, user=token.user_id
        )
        if token.revoked_at is not None:
            return False
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        _record(audit_events.TOKEN_REVOKED, token, actor, http_request)
    return True


def token_used(token: ApiToken) -> None:
    """Stamp the last use (no audit event here: the call's page-view event names the token)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
