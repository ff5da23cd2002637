"""Password validators (listed in settings.AUTH_PASSWORD_VALIDATORS).

The policy follows NIST SP 800-63B: length over composition rules, no passwords that are
trivially guessable from who the user is, and none that attackers already have in their
breach lists. Messages never echo the password back: a rejected form re-renders on screens
other people may see.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from pwned_passwords_django.api import PwnedPasswords
from pwned_passwords_django.exceptions import ErrorCode, PwnedPasswordsError

import audit
from accounts import audit_events
from accounts.models import Agency, Membership
from accounts.tenancy import agency_context, current_db_context

# ---------------------------------------------------------------------------------------------
# Length
# ---------------------------------------------------------------------------------------------


class MaximumLengthValidator:
    """Refuses very long passwords: hashing megabytes on every sign-in is a cheap way to load
    the server, and no one types more than a few hundred characters."""

    def __init__(self, max_length: int = 256) -> None:
        self.max_length = max_length

    @sensitive_variables("password")
    def validate(self, password: str, user: object = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                _("Use at most %(max_length)d characters."),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return _("Your password can be up to %(max_length)d characters long.") % {
            "max_length": self.max_length
        }


# ---------------------------------------------------------------------------------------------
# Repeated patterns and sequences
# ---------------------------------------------------------------------------------------------

# Orderings people walk along when they "make up" a password. Each is read as a cycle, so
# "1234567890" + "12" and "qwertyuiop" + "as" stay one run.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "!@#$%^&*()",
)
# A couple of characters bolted on ("...abc1", "!...") don't make a pattern any stronger.
_SLACK = 2
_MIN_CORE = 3


def _cycle_steps(sequence: str) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    forward = frozenset(zip(sequence, sequence[1:] + sequence[0], strict=True))
    backward = frozenset((b, a) for a, b in forward)
    return forward, backward


_STEP_SETS = tuple(steps for seq in _SEQUENCES for steps in _cycle_steps(seq))


def _cores(text: str) -> Iterable[str]:
    """The text with up to _SLACK characters dropped from its ends, longest first."""
    for dropped in range(_SLACK + 1):
        for head in range(dropped + 1):
            core = text[head : len(text) - (dropped - head)]
            if len(core) >= _MIN_CORE:
                yield core


def _is_periodic(text: str) -> bool:
    # A string has period p when it equals itself shifted by p; two full copies at least.
    return any(text[p:] == text[:-p] for p in range(1, len(text) // 2 + 1))


def _is_sequence(text: str) -> bool:
    pairs = list(itertools.pairwise(text))
    return any(all(pair in steps for pair in pairs) for steps in _STEP_SETS)


def is_repetitive(password: str) -> bool:
    """True when the password is one short piece repeated, or a keyboard / alphabet / digit
    run, give or take a couple of characters at either end."""
    text = password.casefold()
    return any(_is_periodic(core) or _is_sequence(core) for core in _cores(text))


class RepetitionValidator:
    """Refuses ``abcabcabc``, ``passwordpassword``, ``123456789012``, ``qwertyuiopas``: their
    length says nothing about how hard they are to guess."""

    @sensitive_variables("password")
    def validate(self, password: str, user: object = None) -> None:
        if is_repetitive(password):
            raise ValidationError(
                _(
                    "This password repeats a short pattern. "
                    "Use a longer phrase that doesn't repeat."
                ),
                code="password_repetitive",
            )

    def get_help_text(self) -> str:
        return _("Your password can't be a repeated pattern or a run such as abcdef or 123456.")


# ---------------------------------------------------------------------------------------------
# Personal information
# ---------------------------------------------------------------------------------------------

_MIN_PIECE = 4
# Words in many agency names: refusing them would refuse half the dictionary for nothing.
_GENERIC_AGENCY_WORDS = frozenset(
    {
        "city",
        "county",
        "town",
        "village",
        "state",
        "department",
        "office",
        "agency",
        "public",
        "records",
        "test",
        "the",
        "of",
    }
)
_GENERIC_HOST_LABELS = frozenset({"mail", "email", "smtp", "mx"})
_WORDS = re.compile(r"[\W_]+")


def _squash(text: str) -> str:
    """Case- and punctuation-blind form, so ``J.Smith-2024`` contains ``jsmith``."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _whole_and_words(text: str, *, skip: frozenset[str] = frozenset()) -> set[str]:
    pieces = {_squash(text)}
    pieces.update(_squash(word) for word in _WORDS.split(text) if word.casefold() not in skip)
    return {piece for piece in pieces if len(piece) >= _MIN_PIECE}


def _name_pieces(full_name: str) -> set[str]:
    # Split on spaces and on punctuation both: "O'Neil" yields "oneil" as well as "neil".
    pieces = _whole_and_words(full_name)
    pieces.update(p for p in map(_squash, full_name.split()) if len(p) >= _MIN_PIECE)
    return pieces


def _email_pieces(email: str) -> set[str]:
    local, at, domain = email.rpartition("@")
    if not at:
        return set()
    pieces = {_squash(local)}
    # "springfield" from "x@springfield.gov"; every label but the TLD of longer domains,
    # except host names such as "mail" that say nothing about the person.
    labels = domain.casefold().split(".")[:-1]
    pieces.update(_squash(label) for label in labels if label not in _GENERIC_HOST_LABELS)
    return {piece for piece in pieces if len(piece) >= _MIN_PIECE}


def _agency_names(user: object) -> list[str]:
    """Names of the agencies this password's context is tied to: the one of the current
    database context and those of the user's memberships that the context lets us see."""
    names: list[str] = []
    agency_id, _platform = current_db_context()
    if agency_id is not None:  # the transaction's own tenant, not an id from the client
        names += Agency.objects.filter(pk=agency_id).values_list("name", flat=True)
    user_id = getattr(user, "pk", None)
    if user_id is not None:
        # Row-level security limits this to memberships the current context may see.
        names += Membership.objects.filter(user_id=user_id).values_list("agency__name", flat=True)
    return names


class PersonalInformationValidator:
    """Refuses passwords containing the user's name, email address or their agency's name:
    the first things a targeted attacker tries."""

    @sensitive_variables("password", "squashed")
    def validate(self, password: str, user: object = None) -> None:
        squashed = _squash(password)
        errors = []
        full_name = getattr(user, "full_name", "") or ""
        if any(piece in squashed for piece in _name_pieces(full_name)):
            errors.append(
                ValidationError(
                    _("Don't use your name in your password."), code="password_has_name"
                )
            )
        email = getattr(user, "email", "") or ""
        if any(piece in squashed for piece in _email_pieces(email)):
            errors.append(
                ValidationError(
                    _("Don't use your email address in your password."), code="password_has_email"
                )
            )
        agency_pieces: set[str] = set()
        for name in _agency_names(user):
            agency_pieces |= _whole_and_words(name, skip=_GENERIC_AGENCY_WORDS)
        if any(piece in squashed for piece in agency_pieces):
            errors.append(
                ValidationError(
                    _("Don't use the agency's name in your password."),
                    code="password_has_agency_name",
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _("Your password can't contain your name, your email address or the agency's name.")


# ---------------------------------------------------------------------------------------------
# Breached passwords (k-anonymity range API)
# ---------------------------------------------------------------------------------------------

_RANGE_LINE = re.compile(r"[0-9A-F]{35}:[0-9][0-9,]*")
_REASONS = {
    ErrorCode.API_TIMEOUT: "timeout",
    ErrorCode.HTTP_ERROR: "http_error",
    ErrorCode.REQUEST_ERROR: "request_error",
}


class _RangeClient(PwnedPasswords):
    """The library's client, stricter about what counts as an answer.

    The library reads any text it cannot split as "no hits", so an HTML error page served
    with status 200 (a captive proxy, a maintenance page) would quietly pass every password.
    Here such a reply raises, which the library turns into PwnedPasswordsError.
    """

    def _get_hits(self, response_text: str, suffix: str) -> int:
        lines = [line.strip() for line in response_text.splitlines() if line.strip()]
        # Padding makes the real API answer at least 800 lines; empty is never an answer.
        if not lines or not all(_RANGE_LINE.fullmatch(line) for line in lines):
            raise ValueError("The range API answered with something other than SUFFIX:COUNT.")
        return super()._get_hits("\n".join(lines), suffix)


@functools.lru_cache(maxsize=4)
def _range_client(endpoint: str, timeout: float) -> PwnedPasswords:
    # One client per (endpoint, timeout) keeps its connection pool across sign-ups, while a
    # test (or an operator) that changes the settings gets a client built from the new ones.
    client = _RangeClient(client=httpx.Client(timeout=timeout, follow_redirects=False))
    client.api_endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
    client.request_timeout = httpx.Timeout(timeout)
    client.add_padding = True
    return client


def _record_unavailable(reason: str, outcome: str, user: object) -> None:
    """One audit event, in the chain the current database context may write to."""
    code = audit_events.BREACH_CHECK_UNAVAILABLE.code
    details = {"reason": reason, "outcome": outcome}
    actor = getattr(user, "pk", None)
    agency_id, platform = current_db_context()
    if agency_id is not None:
        audit.record(code, agency=agency_id, actor=actor, details=details)
    elif platform:
        audit.record(code, agency=None, actor=actor, details=details)
    else:
        # Outside any context (createsuperuser, a shell): the platform chain is the only one
        # that is about no agency. Nested in the caller's transaction if there is one.
        with agency_context(None, platform=True):
            audit.record(code, agency=None, actor=actor, details=details)


class BreachedPasswordValidator:
    """Refuses passwords found in the Pwned Passwords corpus.

    Only the first 5 hex digits of the password's SHA-1 leave the server (the library does
    the hashing), and padding hides how many hits the answer held. Settings are read on every
    call so they can change at runtime and in tests.
    """

    @sensitive_variables("password")
    def validate(self, password: str, user: object = None) -> None:
        endpoint = getattr(settings, "PASSWORD_BREACH_API_URL", "")
        if not endpoint:
            return
        timeout = float(settings.PASSWORD_BREACH_API_TIMEOUT)
        try:
            hits = _range_client(endpoint, timeout).check_password(password)
        except PwnedPasswordsError as exc:
            self._unavailable(exc, user)
            return
        if hits > 0:
            raise ValidationError(
                _(
                    "This password has appeared in a data breach, so attackers try it first. "
                    "Choose a different one."
                ),
                code="password_breached",
            )

    def _unavailable(self, exc: PwnedPasswordsError, user: object) -> None:
        refuse = getattr(settings, "PASSWORD_BREACH_ON_ERROR", "open") == "closed"
        reason = _REASONS.get(exc.code, "unknown")
        _record_unavailable(reason, "refused" if refuse else "accepted", user)
        if refuse:
            raise ValidationError(
                _(
                    "We couldn't check this password against known data breaches just now. "
                    "Try again in a minute."
                ),
                code="password_breach_check_unavailable",
            )

    def get_help_text(self) -> str:
        return _("Your password can't be one that has leaked in a known data breach.")
