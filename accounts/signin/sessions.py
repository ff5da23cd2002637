"""Signed-in sessions: timeouts, the list a user sees, and ending sessions.

Django keeps the session itself (database backend); ``UserSession`` keeps what a person needs
to recognise it (when, from where, which browser, how they signed in). Ending a session
deletes Django's row, so the browser holding it is signed out on its next request, and
marks ours ended for the record.

Cookies are ``__Host-`` cookies, bound to one host: a session belongs to one agency's host
(or to the platform domain). Row-level security shows an agency's sessions to its own
context only, so an admin ending a member's sessions ends those that can reach the agency;
a person's own sessions page and a password change see all of theirs
(``own_sessions_context``). Django also stores a hash of the password in each session and
refuses the session once the password changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

import audit
from accounts import policy
from accounts.models import UserSession

SESSION_AUTH_AT = "_auth_at"
SESSION_LAST_SEEN = "_last_seen"
SESSION_TRACKED = "_tracked_key"
SESSION_METHOD = "_auth_method"
# Write the last-seen time at most this often: a page view should not cost a session write.
TOUCH_INTERVAL_SECONDS = 60


def _store(session_key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def limits_for(user, *, http_request: HttpRequest) -> tuple[int, int]:
    """(idle seconds, absolute seconds) for this user on this host: staff of the host's
    agency get the agency's limits, everyone else the resident defaults."""
    agency = getattr(http_request, "agency", None)
    if agency is not None and policy.membership_for(user, agency) is not None:
        return agency.staff_idle_minutes * 60, agency.staff_session_hours * 3600
    return settings.RESIDENT_SESSION_IDLE_SECONDS, settings.RESIDENT_SESSION_MAX_SECONDS


def start(user, *, method: str, http_request: HttpRequest) -> UserSession:
    """Call right after django.contrib.auth.login(): stamp the new session and list it."""
    session = http_request.session
    now = int(time.time())
    session[SESSION_AUTH_AT] = now
    session[SESSION_LAST_SEEN] = now
    session[SESSION_METHOD] = method
    if not session.session_key:
        session.save()
    session[SESSION_TRACKED] = session.session_key
    return _track(user, method=method, http_request=http_request)


def _track(user, *, method: str, http_request: HttpRequest) -> UserSession:
    row, _ = UserSession.objects.update_or_create(
        session_key=http_request.session.session_key,
        defaults={
            "user": user,
            "agency": getattr(http_request, "agency", None),
            "ip": audit.client_ip(http_request),
            "user_agent": http_request.META.get("HTTP_USER_AGENT", "")[:300],
            "method": method,
            "last_seen_at": timezone.now(),
        },
    )
    return row


def expired_reason(user, *, http_request: HttpRequest) -> str | None:
    """ "idle" or "max" when the session has outlived its limits, else None (and the
    last-seen time is refreshed)."""
    session = http_request.session
    now = int(time.time())
    if session.get(SESSION_AUTH_AT) is None:
        # A session from before these limits existed (or made by a test's force_login):
        # it starts counting now.
        session[SESSION_AUTH_AT] = now
        session[SESSION_LAST_SEEN] = now
    idle, absolute = limits_for(user, http_request=http_request)
    if now - int(session.get(SESSION_LAST_SEEN, now)) > idle:
        return "idle"
    if now - int(session[SESSION_AUTH_AT]) > absolute:
        return "max"
    if session.get(SESSION_TRACKED) != session.session_key or session.session_key is None:
        if not session.session_key:
            session.save()
        session[SESSION_TRACKED] = session.session_key
        _track(user, method=session.get(SESSION_METHOD, ""), http_request=http_request)
    elif now - int(session.get(SESSION_LAST_SEEN, now)) >= TOUCH_INTERVAL_SECONDS:
        session[SESSION_LAST_SEEN] = now
        UserSession.objects.filter(session_key=session.session_key).update(
            last_seen_at=timezone.now()
        )
    return None


def follow_key_change(*, http_request: HttpRequest) -> None:
    """Django gave this session a new key (``update_session_auth_hash`` after a password
    change): keep listing it as the same session, under its new key."""
    session = http_request.session
    old, new = session.get(SESSION_TRACKED), session.session_key
    if old and new and old != new:
        UserSession.objects.filter(session_key=old).update(session_key=new)
        session[SESSION_TRACKED] = new


def own_sessions_context(user) -> None:
    """Let the rest of this transaction see the user's sessions on every host (the row-level
    security policy of accounts_usersession admits ``user_id = app.user_id``). Used for the
    person's own sessions page and when their password changes; never for an admin."""
    # Raw SQL because set_config has no ORM form; the id is a bound parameter. Tested by
    # tests/accounts/test_sessions.py (another agency's sessions stay invisible) and
    # test_a_persons_other_memberships_are_readable_only_when_named_and_never_writable.
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- a transaction-local setting; bound parameter
        cursor.execute("SELECT set_config('app.user_id', %s, true)", [str(int(user.pk))])


@contextmanager
def person_context(user) -> Iterator[None]:
    """For a short block, let row-level security show ``user``'s own rows (their sessions,
    and their memberships of every agency: read only) even in someone else's request, such
    as an admin's; the setting is put back as it was when the block ends (and by the
    savepoint's rollback if it fails)."""
    # Raw SQL as in own_sessions_context above, with bound parameters only.
    with transaction.atomic(), connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- reads a transaction-local setting (no ORM call)
        cursor.execute("SELECT current_setting('app.user_id', true)")
        (previous,) = cursor.fetchone()
        # nosemgrep: portal-raw-sql -- a transaction-local setting; bound parameter
        cursor.execute("SELECT set_config('app.user_id', %s, true)", [str(int(user.pk))])
        yield
        # nosemgrep: portal-raw-sql -- restores the setting; bound parameter
        cursor.execute("SELECT set_config('app.user_id', %s, true)", [previous or ""])


def mark_ended(session_key: str | None, *, reason: str) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )


def active_for(user):
    """The user's live sessions on this host's side of the row-level-security line."""
    return UserSession.objects.filter(user=user, ended_at__isnull=True).order_by("-last_seen_at")


def end(row: UserSession, *, reason: str) -> None:
    _store(row.session_key).delete()
    mark_ended(row.session_key, reason=reason)


def end_all(user, *, reason: str, except_key: str | None = None, everywhere: bool = False) -> int:
    """End the user's live sessions visible here (an admin: on this agency's host), or on
    every host when ``everywhere`` (the person themselves), except the caller's own."""
    if everywhere:
        own_sessions_context(user)
    rows = list(active_for(user).exclude(session_key=except_key or ""))
    for row in rows:
        end(row, reason=reason)
    return len(rows)
