"""Personal API tokens (issue 14). A token is shown once, as ``rp_<key>_<secret>``; the
database keeps only the public ``key`` (to find the row) and a keyed hash of the secret
(HMAC-SHA-256, api/tokens/secrets.py), so a copy of the table opens nothing.

A token is bound to the agency whose site it was made on (staff powers there, nowhere else),
or to no agency (a resident's own: their requests on every agency's site, as their requester).
Row-level security: an agency's tokens are visible in its own context; a resident's token
(agency null) in every context, because the person it belongs to may file with any agency."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from accounts.models import Agency


class ApiToken(models.Model):
    is_api_token = True  # what api.permissions.token_of looks for on request.auth

    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=40), default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        indexes = [models.Index(fields=["agency", "user"], name="api_token_owner")]

    def __str__(self) -> str:
        return f"API token {self.name} ({self.key})"

    @property
    def prefix(self) -> str:
        """What the person sees in lists to recognise it: never the secret."""
        return f"rp_{self.key}_…"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now
