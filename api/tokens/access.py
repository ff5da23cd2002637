"""Reads of personal API tokens: a person's own (on this site), and an agency admin's view
of their agency's members' tokens. Another person's or agency's token answers 404."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts import policy
from accounts.models import Agency, User
from api.models import ApiToken
from api.tokens import secrets


def own_tokens(user: User, agency: Agency | None) -> QuerySet[ApiToken]:
    """The person's tokens usable on this site: bound to this agency, or to none."""
    found = ApiToken.objects.filter(user=user)
    bound = Q(agency__isnull=True) if agency is None else Q(agency=agency) | Q(agency__isnull=True)
    return found.filter(bound).order_by("-created_at", "-id")


def get_own_token(user: User, agency: Agency | None, token_id: int) -> ApiToken:
    found = own_tokens(user, agency).filter(pk=token_id).first()
    if found is None:
        raise Http404
    return found


def agency_tokens_for(user: User, agency: Agency) -> QuerySet[ApiToken]:
    """Every token bound to the agency, for its admins (users.manage)."""
    if not policy.can(user, agency, policy.USERS_MANAGE):
        return ApiToken.objects.none()
    return (
        ApiToken.objects.filter(agency=agency).select_related("user").order_by("-created_at", "-id")
    )


def get_agency_token_for(user: User, agency: Agency, token_id: int) -> ApiToken:
    found = agency_tokens_for(user, agency).filter(pk=token_id).first()
    if found is None:
        raise Http404
    return found


def token_by_text(text: str) -> tuple[ApiToken | None, secrets.TokenText | None]:
    """The row a presented token names (in the current RLS context: this agency's tokens and
    residents' own), and the parsed text; (None, None) for text of the wrong shape."""
    parsed = secrets.parse(text)
    if parsed is None:
        return None, None
    return ApiToken.objects.select_related("user").filter(key=parsed.key).first(), parsed
