"""A person's own account: password (changed, or reset by email), name, email address, and
their own sessions. Passwords, email and sessions reach every agency the person works for:
the views ask for an account proof first (accounts.decorators.require_account_proof)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import update_session_auth_hash
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import audit_events, language
from accounts.models import EmailChange, User, UserSession
from accounts.services._shared import mail, new_token, token_digest
from accounts.signin import sessions


def password_change(*, user: User, new_password: str, http_request: HttpRequest) -> int:
    """Set the new password (every validator already passed in the form), keep this session
    signed in and end the person's other sessions on every host. Returns how many ended."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        # Keeps this session (its stored password hash is refreshed, under a new key, which
        # its UserSession row follows); the others end.
        update_session_auth_hash(http_request, user)
        sessions.follow_key_change(http_request=http_request)
        ended = sessions.end_all(
            user,
            reason="password changed",
            except_key=http_request.session.session_key,
            everywhere=True,
        )
        audit.record(
            audit_events.PASSWORD_CHANGED.code,
            http_request=http_request,
            actor=user,
            details={"other_sessions_ended": ended},
        )
    return ended


def password_reset(*, user: User, new_password: str, http_request: HttpRequest) -> int:
    """Set the password chosen through an emailed reset link and end every session of the
    person on every host (a reset signs nobody in). Returns how many ended."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        ended = sessions.end_all(user, reason="password reset", everywhere=True)
        audit.record(
            audit_events.PASSWORD_RESET_COMPLETED.code,
            http_request=http_request,
            actor=user,
            details={"sessions_ended": ended},
        )
    return ended


def name_change(*, user: User, full_name: str, http_request: HttpRequest) -> None:
    with transaction.atomic():
        user.full_name = full_name
        user.save(update_fields=["full_name"])
        audit.record(audit_events.NAME_CHANGED.code, http_request=http_request, actor=user)


def phone_change(*, user: User, phone: str, http_request: HttpRequest) -> None:
    """Correct the person's own phone number ("" removes it); the number itself is not
    copied into the log, only that it changed."""
    with transaction.atomic():
        user.phone = phone
        user.save(update_fields=["phone"])
        audit.record(
            audit_events.PHONE_CHANGED.code,
            http_request=http_request,
            actor=user,
            details={"removed": not phone},
        )


def language_change(*, user: User, code: str, http_request: HttpRequest) -> None:
    """Remember the language the person chose (the switch on every page): their emails
    follow it. ``code`` must be one the portal offers."""
    if code not in language.codes():
        raise ValueError(f"not an offered language: {code!r}")
    if user.language == code:
        return
    with transaction.atomic():
        user.language = code
        user.save(update_fields=["language"])
        audit.record(
            audit_events.LANGUAGE_CHANGED.code,
            http_request=http_request,
            actor=user,
            details={"language": code},
        )


def email_change_request(*, user: User, new_email: str, http_request: HttpRequest) -> None:
    """Mail a confirmation link to the new address; the old one is told after the change.
    An address someone else uses gets a note instead, and the page looks the same."""
    new_email = User.objects.normalize_email(new_email).strip()
    agency = getattr(http_request, "agency", None)
    with transaction.atomic():
        EmailChange.objects.filter(user=user, used_at__isnull=True).delete()
        audit.record(
            audit_events.EMAIL_CHANGE_REQUESTED.code,
            http_request=http_request,
            actor=user,
            details={"new_email": new_email},
        )
        owner = User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).first()
        if owner is not None:
            mail(
                agency=agency,
                to=new_email,
                template="email_change_taken",
                context={},
                language=language.of_user(owner),
            )
            return
        token, digest = new_token()
        EmailChange.objects.create(
            user=user,
            new_email=new_email,
            token_digest=digest,
            expires_at=timezone.now() + timedelta(hours=1),
        )
        link = http_request.build_absolute_uri(
            reverse("accounts:email_change_confirm", args=[token])
        )
        mail(
            agency=agency,
            to=new_email,
            template="email_change",
            context={"link": link, "user": user},
            language=language.of_user(user, fallback=language.active()),
        )


def email_change_confirm(*, user: User, token: str, http_request: HttpRequest) -> bool:
    with transaction.atomic():
        change = (
            EmailChange.objects.select_for_update()
            .filter(user=user, token_digest=token_digest(token), used_at__isnull=True)
            .first()
        )
        if change is None or change.expires_at <= timezone.now():
            return False
        old_email = user.email
        try:
            with transaction.atomic():
                user.email = change.new_email
                user.save(update_fields=["email"])
        except IntegrityError:
            return False
        change.used_at = timezone.now()
        change.save(update_fields=["used_at"])
        audit.record(
            audit_events.EMAIL_CHANGED.code,
            http_request=http_request,
            actor=user,
            details={"old_email": old_email, "new_email": user.email},
        )
        mail(
            agency=getattr(http_request, "agency", None),
            to=old_email,
            template="email_changed_notice",
            context={"new_email": user.email},
            language=language.of_user(user),
        )
    return True


def own_session_end(*, user: User, row: UserSession, http_request: HttpRequest) -> None:
    """Sign out one of the person's own sessions (found through access.get_own_session)."""
    with transaction.atomic():
        sessions.end(row, reason="ended by its owner")
        audit.record(
            audit_events.SESSION_ENDED.code,
            http_request=http_request,
            details={"email": user.email, "session": row.pk},
        )


def own_sessions_end_others(*, user: User, http_request: HttpRequest) -> int:
    """Sign out every other session of the person, on every host. Returns how many."""
    with transaction.atomic():
        ended = sessions.end_all(
            user,
            reason="ended by its owner",
            except_key=http_request.session.session_key,
            everywhere=True,
        )
        audit.record(
            audit_events.SESSIONS_ENDED.code,
            http_request=http_request,
            details={"email": user.email, "count": ended},
        )
    return ended
