"""The password policy: length, Django's common list, repeated patterns, personal information
and the breached-password check (against a local range API, never the internet).

Most tests go through ``validate_password`` with the project's real AUTH_PASSWORD_VALIDATORS,
so removing a validator from settings fails them.
"""

from __future__ import annotations

import itertools
import re
import socket

import pytest
from django.contrib.auth.password_validation import (
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from accounts import audit_events
from accounts import passwords as passwords_module
from accounts.models import User
from accounts.passwords import (
    BreachedPasswordValidator,
    MaximumLengthValidator,
    PersonalInformationValidator,
    RepetitionValidator,
)
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from tests.breach_api import breach_api, sha1_hex  # noqa: F401
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

BREACHED = "This password has appeared in a data breach, so attackers try it first. " + (
    "Choose a different one."
)
TRY_AGAIN = "We couldn't check this password against known data breaches just now. " + (
    "Try again in a minute."
)
REPEATS = "This password repeats a short pattern. Use a longer phrase that doesn't repeat."
TOO_LONG = "Use at most 256 characters."
NAME = "Don't use your name in your password."
EMAIL = "Don't use your email address in your password."
AGENCY = "Don't use the agency's name in your password."

GOOD = "violet kayak murmurs over granite"  # in no corpus, no name, no pattern
UNAVAILABLE = audit_events.BREACH_CHECK_UNAVAILABLE.code
_WORDS = ("amber", "kettle", "orbit", "cedar", "plume", "marrow", "quill", "saffron")
# Unrepeating text of any length: the counter breaks every period.
_PROSE = " ".join(f"{word}{n}" for n, word in zip(range(60), itertools.cycle(_WORDS)))


@pytest.fixture(autouse=True)
def _breach_check_off(settings):
    """No test here may reach api.pwnedpasswords.com; ``breach_api`` turns it back on."""
    settings.PASSWORD_BREACH_API_URL = ""


def problems(password: str, user: User | None = None) -> tuple[list[str], list[str]]:
    """(messages, codes) of everything validate_password refuses; empty when accepted."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return exc.messages, [error.code for error in exc.error_list]
    return [], []


def person(**fields) -> User:
    fields.setdefault("full_name", "Morgan Castellano")
    fields.setdefault("email", "mcastell@springfield.gov")
    return UserFactory(**fields)


def unavailable_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=UNAVAILABLE))


# --- Settings --------------------------------------------------------------------------------


def test_settings_list_every_validator_of_the_policy():
    names = {type(v).__name__ for v in get_default_password_validators()}
    assert {
        "MinimumLengthValidator",
        "MaximumLengthValidator",
        "CommonPasswordValidator",
        "RepetitionValidator",
        "PersonalInformationValidator",
        "UserAttributeSimilarityValidator",
        "BreachedPasswordValidator",
    } <= names


def test_every_validator_has_help_text():
    for validator in get_default_password_validators():
        assert validator.get_help_text().strip(), type(validator).__name__


# --- Length, composition, Django's common list -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "expected_codes"),
    [
        ("violetkayak", ["password_too_short"]),  # 11
        ("violet kayak", []),  # 12
        (_PROSE[:256], []),
        (_PROSE[:257], ["password_too_long"]),
        ("quietriverstones", []),  # all lower case, no digit, no symbol: fine
        ("telechargement", ["password_too_common"]),  # on Django's list
    ],
    ids=["11-refused", "12-accepted", "256-accepted", "257-refused", "no-composition", "common"],
)
def test_length_bounds_and_common_list_without_composition_rules(password, expected_codes):
    messages, codes = problems(password)
    assert codes == expected_codes
    if "password_too_long" in codes:
        assert messages == [TOO_LONG]


def test_maximum_length_is_configurable():
    validator = MaximumLengthValidator(max_length=20)
    validator.validate("x" * 20)
    with pytest.raises(ValidationError, match=r"Use at most 20 characters\."):
        validator.validate("x" * 21)


# --- Repeated patterns and sequences ---------------------------------------------------------

REPETITIVE = [
    "abcabcabc",
    "passwordpassword",
    "aaaaaaaaaaaa",
    "121212121212",
    "ab12ab12ab12ab12",
    "abcabcabcabc1",  # a short tail
    "Password!Password!",  # case-insensitive
    "PASSWORDpassword",
    "!!abcabcabcabc",  # a short head
    "abcabcabcab",  # the last copy cut short
    "abcdefghijkl",
    "123456789012",  # the digit row wraps round
    "qwertyuiopas",  # on to the next keyboard row
    "lkjihgfedcba",  # backwards
    "Abcdefghijkl1!",
]
FINE = [
    "correct horse battery staple",
    "lemon tree under a blue sky",
    "my cat eats 3 fish",
    "abcabcabc is how it starts",
    "qwerty keyboards are old",
    "abcdefghijklmnop!xyz",  # a run, but three characters more
]


@pytest.mark.django_db
@pytest.mark.parametrize("password", REPETITIVE)
def test_a_repeated_pattern_or_run_is_refused(password):
    messages, codes = problems(password)
    assert "password_repetitive" in codes
    assert REPEATS in messages


@pytest.mark.django_db
@pytest.mark.parametrize("password", FINE)
def test_a_passphrase_is_not_a_repeated_pattern(password):
    assert problems(password) == ([], [])


@pytest.mark.parametrize(
    ("password", "refused"), [(p, True) for p in REPETITIVE[:4]] + [(p, False) for p in FINE[:3]]
)
def test_repetition_validator_needs_no_database(password, refused):
    if refused:
        with pytest.raises(ValidationError):
            RepetitionValidator().validate(password)
    else:
        RepetitionValidator().validate(password)


# --- Name, email address, agency name --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("castellano rides bikes", NAME),  # surname
        ("Morgan likes tea a lot", NAME),  # first name, any case
        ("cas-tel lano on tuesday", NAME),  # spaces and punctuation do not hide it
        ("mcastell loves tea", EMAIL),  # local part of the email address
        ("springfield river walk", EMAIL),  # domain name without its TLD
    ],
)
def test_the_users_name_or_email_address_is_refused(password, message):
    messages, _codes = problems(password, person())
    assert message in messages
    assert password not in " ".join(messages)


@pytest.mark.django_db
def test_an_unsaved_user_at_sign_up_is_checked_too():
    user = User(email="dana.whitfield@example.org", full_name="Dana Whitfield")
    messages, _ = problems("whitfield garden party", user)
    assert NAME in messages
    messages, _ = problems("danawhitfield at home", user)
    assert EMAIL in messages


@pytest.mark.django_db
def test_a_mail_host_label_is_not_personal_but_the_domain_is():
    user = User(email="pat@mail.riverdale.gov", full_name="Pat Oh")
    assert problems("check my mail on sunday", user) == ([], [])
    assert EMAIL in problems("riverdale by the sea", user)[0]


@pytest.mark.django_db
def test_the_agency_name_of_the_current_context_is_refused(tenant):
    assert tenant.agency.name == "Alpha Test Agency"
    with agency_context(tenant.agency):
        messages, _ = problems("alpha wolves howl at noon")
        assert messages == [AGENCY]
        messages, _ = problems("Alpha Test-Agency rocks!", person())
        assert AGENCY in messages
    # Outside that context the same phrase is no one's agency name.
    assert problems("alpha wolves howl at noon") == ([], [])


@pytest.mark.django_db
def test_generic_words_of_an_agency_name_are_allowed():
    agency = AgencyFactory(slug="generic", name="Town of Test County Public Records Office")
    with agency_context(agency):
        assert problems("my county office is far from town") == ([], [])


@pytest.mark.django_db
def test_the_agency_of_a_membership_is_refused(tenant, monkeypatch):
    user = person()
    with agency_context(tenant.agency):
        MembershipFactory(agency=tenant.agency, user=user)
        # Under row-level security the visible memberships are the context agency's, so to
        # show the membership lookup does its part on its own, hide the context's agency.
        monkeypatch.setattr(passwords_module, "current_db_context", lambda: (None, False))
        with pytest.raises(ValidationError) as caught:
            PersonalInformationValidator().validate("alpha wolves howl at noon", user)
    assert caught.value.messages == [AGENCY]


@pytest.mark.django_db
def test_a_membership_in_another_agency_is_out_of_sight(tenant, other_tenant):
    user = person()
    with agency_context(other_tenant.agency):
        MembershipFactory(agency=other_tenant.agency, user=user)
    with agency_context(tenant.agency):
        assert problems("bravo wolves howl at noon", user) == ([], [])


# --- Breached passwords ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["lemonandlime", "Tr0ub4dor&3-unique-ish"])
def test_a_password_in_the_breach_corpus_is_refused(breach_api, password):  # noqa: F811
    assert problems(password) == ([BREACHED], ["password_breached"])
    assert breach_api.prefixes == [sha1_hex(password)[:5]]


@pytest.mark.django_db
def test_a_password_missing_from_the_corpus_passes_the_breach_check(breach_api):  # noqa: F811
    assert problems(GOOD) == ([], [])
    assert breach_api.prefixes == [sha1_hex(GOOD)[:5]]
    assert unavailable_events() == []


@pytest.mark.django_db
def test_only_a_five_hex_prefix_leaves_the_process(breach_api):  # noqa: F811
    problems("lemonandlime")
    problems(GOOD)
    assert len(breach_api.requests) == 2
    for (path, headers), password in zip(breach_api.requests, ["lemonandlime", GOOD], strict=True):
        assert re.fullmatch(r"/range/[0-9A-F]{5}", path)
        sent = (path + repr(headers)).upper()
        assert sha1_hex(password)[5:] not in sent
        assert password.upper() not in sent
        assert headers.get("Add-Padding") == "true"


@pytest.mark.django_db
def test_the_check_is_skipped_when_no_api_url_is_set(breach_api, settings):  # noqa: F811
    settings.PASSWORD_BREACH_API_URL = ""
    assert problems("lemonandlime") == ([], [])
    assert breach_api.requests == []


@pytest.mark.django_db
def test_changed_settings_take_effect_on_the_next_call(breach_api, settings):  # noqa: F811
    BreachedPasswordValidator().validate(GOOD)
    settings.PASSWORD_BREACH_API_URL = breach_api.url.rstrip("/")  # a missing slash is added
    with pytest.raises(ValidationError):
        BreachedPasswordValidator().validate("lemonandlime")
    assert len(breach_api.requests) == 2


OUTAGES = [
    ("error", "http_error"),
    ("slow", "timeout"),
    ("garbage", "unknown"),
    ("empty", "unknown"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("mode", "reason"), OUTAGES)
def test_an_outage_fails_open_by_default_and_is_audited_for_the_agency(
    breach_api,  # noqa: F811
    tenant,
    mode,
    reason,
):
    breach_api.mode = mode
    user = person()
    with agency_context(tenant.agency):
        assert problems("lemonandlime", user) == ([], [])
    with agency_context(tenant.agency):
        [event] = unavailable_events()
    assert event.agency_id == tenant.agency.pk
    assert event.actor_id == user.pk
    assert event.details == {"reason": reason, "outcome": "accepted"}
    described = audit_events.BREACH_CHECK_UNAVAILABLE.describe(
        actor="", target="", details=event.details
    )
    assert described == (
        f"The breached-password check could not answer ({reason}); the password was accepted"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("mode", "reason"), OUTAGES)
def test_an_outage_fails_closed_when_configured(breach_api, settings, tenant, mode, reason):  # noqa: F811
    breach_api.mode = mode
    settings.PASSWORD_BREACH_ON_ERROR = "closed"
    with agency_context(tenant.agency):
        assert problems(GOOD) == ([TRY_AGAIN], ["password_breach_check_unavailable"])
        [event] = unavailable_events()
    assert event.details == {"reason": reason, "outcome": "refused"}
    assert event.actor_id is None


@pytest.mark.django_db
def test_an_outage_outside_any_context_is_audited_in_the_platform_chain(breach_api, tenant):  # noqa: F811
    breach_api.mode = "error"
    user = User(email="new.person@example.org", full_name="New Person")  # createsuperuser
    assert problems(GOOD, user) == ([], [])
    with agency_context(None, platform=True):
        [event] = unavailable_events()
    assert event.agency_id is None
    assert event.actor_id is None  # unsaved: no one to attribute it to
    assert event.details == {"reason": "http_error", "outcome": "accepted"}
    with agency_context(tenant.agency):
        assert unavailable_events() == []


@pytest.mark.django_db
def test_an_outage_in_the_platform_context_is_audited_in_the_platform_chain(breach_api):  # noqa: F811
    breach_api.mode = "garbage"
    with agency_context(None, platform=True):
        assert problems(GOOD) == ([], [])
        [event] = unavailable_events()
    assert event.agency_id is None
    assert event.details == {"reason": "unknown", "outcome": "accepted"}


@pytest.mark.django_db
def test_an_unreachable_api_is_a_request_error(settings):
    # A port that was free a moment ago: nothing listens there, so the connection is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.PASSWORD_BREACH_API_URL = f"http://127.0.0.1:{port}/range/"
    settings.PASSWORD_BREACH_API_TIMEOUT = 0.3
    BreachedPasswordValidator().validate(GOOD)
    with agency_context(None, platform=True):
        [event] = unavailable_events()
    assert event.details == {"reason": "request_error", "outcome": "accepted"}


# --- The rules shown with a password field ---------------------------------------------------


def test_the_rules_render_as_text_the_field_can_point_to():
    html = render_to_string("accounts/_password_rules.html", {"field_id": "id_new_password1"})
    assert 'id="id_new_password1-rules"' in html
    assert "At least 12 characters." in html
    assert "passwords that have leaked in data breaches." in html
    assert 'data-password-meter-for="id_new_password1"' in html
    assert re.search(r'<div class="password-meter"[^>]* aria-live="polite" hidden>', html)
    assert re.search(r'<script src="[^"]*js/password-meter\.js" defer></script>', html)
