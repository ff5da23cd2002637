"""Resident sign-up: an account exists only once its address is confirmed. The answer is the
same whether or not the address already has an account (its owner gets a note instead)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import audit_events, language
from accounts.models import PendingSignup, User
from accounts.services._shared import mail, new_token, token_digest


def signup_request(*, email: str, full_name: str, password: str, http_request: HttpRequest) -> None:
    """Store the sign-up until the address is confirmed. The page that follows is the same
    whether or not the address already has an account (that owner gets a note instead)."""
    email = User.objects.normalize_email(email).strip()
    # Hashed whether or not the address is taken, so both answers take as long.
    password_hash = make_password(password)
    agency = getattr(http_request, "agency", None)
    with transaction.atomic():
        audit.record(
            audit_events.SIGNUP_REQUESTED.code, http_request=http_request, details={"email": email}
        )
        if User.objects.filter(email__iexact=email).exists():
            mail(
                agency=agency,
                to=email,
                template="signup_exists",
                context={"login": http_request.build_absolute_uri(reverse("accounts:login"))},
                # Whoever typed the address reads it: the page's language.
                language=language.active(),
            )
            return
        token, digest = new_token()
        PendingSignup.objects.filter(expires_at__lte=timezone.now()).delete()
        PendingSignup.objects.create(
            email=email,
            full_name=full_name,
            password=password_hash,
            token_digest=digest,
            expires_at=timezone.now() + timedelta(seconds=settings.SIGNUP_CONFIRMATION_TIMEOUT),
        )
        link = http_request.build_absolute_uri(reverse("accounts:signup_confirm", args=[token]))
        mail(
            agency=agency,
            to=email,
            template="signup_confirm",
            context={"link": link, "minutes": settings.SIGNUP_CONFIRMATION_TIMEOUT // 60},
            language=language.active(),
        )


def signup_confirm(*, token: str, http_request: HttpRequest) -> User | None:
    with transaction.atomic():
        pending = (
            PendingSignup.objects.select_for_update()
            .filter(token_digest=token_digest(token), expires_at__gt=timezone.now())
            .first()
        )
        if pending is None:
            audit.record(
                audit_events.SIGNUP_REFUSED.code,
                http_request=http_request,
                details={"reason": "unknown or expired link"},
            )
            return None
        pending.delete()
        try:
            with transaction.atomic():
                # The language of the page the link opened: their emails follow it.
                user = User.objects.create(
                    email=pending.email,
                    full_name=pending.full_name,
                    password=pending.password,
                    language=language.active(),
                )
        except IntegrityError:
            # Someone created an account for this address in the meantime.
            return None
        audit.record(audit_events.SIGNUP_COMPLETED.code, http_request=http_request, actor=user)
    return user
