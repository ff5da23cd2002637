"""One-time form tokens: a form that creates something, sent twice (a double click, a
retried post, the browser's "send again"), creates it once.

- Every creating form renders ``{% once_token %}`` next to ``{% csrf_token %}`` (a hidden
  field, ``accounts/templatetags/once.py``; ``_post_form.html`` has it for every form drawn
  through it). The token is random, signed, bound to the host's agency and to the signed-in
  user, and expires after ``MAX_AGE``.
- Its view is wrapped in ``@once_per_form`` (innermost, under the permission decorators).
  On POST the token is checked (missing, forged or expired: a 400 page saying to reload the
  form, never a 500), then claimed in the request's transaction, under a savepoint, before
  the view runs. The view succeeded when it redirects without an error message (or calls
  ``mark_sent``): the claim keeps the address it redirected to. Otherwise (the form's errors,
  a refused action) the savepoint is rolled back with the claim, so the person can correct
  the form and send it again with the same token.
- The same token sent again with the same values finds the claim and redirects to the earlier
  result with "That was already sent". Two posts at the same moment: the second waits on the
  claim's unique index until the first commits, then does the same. The same token with other
  values (back, edit, send) is a new submission: the claim's key is a digest of the agency,
  the token and the values sent.

Like Django's CSRF check, a post without the token from Django's test client (which marks
its requests ``_dont_enforce_csrf_checks`` unless built with ``enforce_csrf_checks=True``)
is let through unguarded, so tests of other features need not fetch the form first. A
token that is present is always checked.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_noop

from accounts import access
from accounts.services import form_submissions

FIELD = "form_token"
MAX_AGE = timedelta(hours=12)  # as long as the longest session (SESSION_COOKIE_AGE)
# Marked here, translated where they are shown (in the language of whoever reads them).
ALREADY_SENT = gettext_noop("That was already sent; here it is.")
# Fields that are not what the person sent: the tokens themselves.
_NOT_VALUES = {FIELD, "csrfmiddlewaretoken"}

MISSING = gettext_noop(
    "This form could not be sent: it is missing a part the page adds. Reload the page and "
    "fill it in again."
)
FORGED = gettext_noop(
    "This form could not be sent: it was not made for you on this site. Reload the page and "
    "fill it in again."
)
EXPIRED = gettext_noop(
    "This form was open too long to be sent safely (more than 12 hours). Reload the page and "
    "fill it in again."
)


def _signer(request: HttpRequest) -> signing.TimestampSigner:
    agency = getattr(request, "agency", None)
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else ""
    return signing.TimestampSigner(
        salt=f"accounts.once:{agency.pk if agency is not None else 'platform'}:{user_id}"
    )


def new_token(request: HttpRequest) -> str:
    """A fresh token for one form of this page, for this agency and this user."""
    return _signer(request).sign(secrets.token_urlsafe(24))


class TokenRefused(Exception):
    pass


def check_token(request: HttpRequest, token: str) -> None:
    """Raise ``TokenRefused`` (its message for the person) unless ``token`` was made by
    ``new_token`` for this agency and user less than ``MAX_AGE`` ago."""
    try:
        _signer(request).unsign(token, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise TokenRefused(gettext(EXPIRED)) from None
    except signing.BadSignature:
        raise TokenRefused(gettext(FORGED)) from None


def submission_key(request: HttpRequest, token: str) -> str:
    """The claim's key: the agency, the token and every value sent (files by name and
    size), so only the very same submission counts as sent again."""
    agency = getattr(request, "agency", None)
    values = sorted((k, v) for k, v in request.POST.lists() if k not in _NOT_VALUES)
    files = sorted(
        (name, [(f.name, f.size) for f in uploaded]) for name, uploaded in request.FILES.lists()
    )
    sent = json.dumps([agency.pk if agency else None, token, values, files], default=str)
    return hashlib.sha256(sent.encode()).hexdigest()


def mark_sent(request: HttpRequest) -> None:
    """For a view whose success is a page rather than a redirect: count this post as done."""
    request.__dict__["_once_sent"] = True


def _errors_shown(request: HttpRequest) -> int:
    # Django's message storage has no public way to look at what is queued.
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", [])
    return sum(1 for message in queued if message.level >= messages.ERROR)


def _succeeded(request: HttpRequest, response: HttpResponse, errors_before: int) -> bool:
    if request.__dict__.get("_once_sent"):
        return True
    return 300 <= response.status_code < 400 and _errors_shown(request) == errors_before


def refused(request: HttpRequest, reason: str) -> HttpResponse:
    """The 400 page for a form whose token is missing, forged or expired."""
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    return render(request, "form_refused.html", {"reason": reason, "back_url": back}, status=400)


class _Failed(Exception):
    """The view did not succeed: roll its savepoint (and the claim) back, keep its answer."""

    def __init__(self, response: HttpResponse):
        super().__init__()
        self.response = response


ReplayTo = Callable[..., str]


def once_per_form(
    view: Callable[..., HttpResponse] | None = None,
    *,
    replay_to: ReplayTo | None = None,
    replay_message: str = ALREADY_SENT,
) -> Any:
    """Guard a view whose POST creates something (see the module's docstring). ``replay_to``
    (``(request, *args, **kwargs) -> url``) computes where a repeated post goes instead of
    the stored address: for answers whose address carries a secret (a guest's tracking link)
    or that are pages rather than redirects."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            token = request.POST.get(FIELD, "")
            if not token:
                if getattr(request, "_dont_enforce_csrf_checks", False):
                    return view(request, *args, **kwargs)
                return refused(request, gettext(MISSING))
            try:
                check_token(request, token)
            except TokenRefused as refusal:
                return refused(request, str(refusal))
            agency = getattr(request, "agency", None)
            key = submission_key(request, token)

            def replay(earlier) -> HttpResponse:
                messages.info(request, gettext(replay_message))
                if replay_to is not None:
                    return HttpResponseRedirect(replay_to(request, *args, **kwargs))
                return HttpResponseRedirect(earlier.result_url or "/")

            earlier = access.form_submission_for(agency, key)
            if earlier is not None:
                return replay(earlier)
            try:
                with transaction.atomic():
                    try:
                        claim = form_submissions.form_submission_claim(agency=agency, key=key)
                    except IntegrityError:
                        # The same form, sent at the same moment, committed first.
                        earlier = access.form_submission_for(agency, key)
                        if earlier is None:
                            raise
                        return replay(earlier)
                    errors_before = _errors_shown(request)
                    response = view(request, *args, **kwargs)
                    if not _succeeded(request, response, errors_before):
                        raise _Failed(response)
                    result = "" if replay_to is not None else response.get("Location", "")
                    form_submissions.form_submission_done(submission=claim, result_url=result)
                    return response
            except _Failed as failed:
                return failed.response

        guarded.__dict__["once_per_form"] = True
        return guarded

    if view is not None:
        return decorate(view)
    return decorate
