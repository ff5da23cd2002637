"""The same password rules on every path that sets a password: sign-up, reset, change,
invitation acceptance and the management commands. One weak password per rule, tried on
each path; none of them may store it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import check_password
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, PendingSignup, Role, User
from accounts.services import invitations
from accounts.tenancy import agency_context
from tests.accounts.identity_helpers import account_client, events
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

GOOD = "tin roof under summer rain"
# One password per rule, each refused for that rule alone.
WEAK = {
    "short": "tiny-pass1",
    "repeated": "passwordpassword",
    "common": "password1234",
    "sequence": "abcdefghijklmn",
}


@pytest.fixture
def reset_form_url(tenant, settings, django_capture_on_commit_callbacks):
    def make(client: Client, user) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("accounts:password_reset"), {"email": user.email})
        link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)
        return client.get(link, follow=True).redirect_chain[-1][0]

    return make


def _fields_error(response, field: str) -> str:
    form = response.context["form"]
    return " ".join(form.errors.get(field, []))


@pytest.mark.parametrize("rule", sorted(WEAK))
def test_sign_up_refuses_each_weak_password(rule, tenant):
    client = Client(HTTP_HOST=tenant.host)
    password = WEAK[rule]
    response = client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Jordan Weakpass",
            "email": "jordan@example.org",
            "password1": password,
            "password2": password,
        },
    )
    assert response.status_code == 200
    assert _fields_error(response, "password2")
    assert not PendingSignup.objects.filter(email="jordan@example.org").exists()


def test_sign_up_refuses_a_password_containing_the_persons_name(tenant):
    client = Client(HTTP_HOST=tenant.host)
    password = "weakpassby the river"
    response = client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Jordan Weakpassby",
            "email": "jordan@example.org",
            "password1": password,
            "password2": password,
        },
    )
    assert "name" in _fields_error(response, "password2")


@pytest.mark.parametrize("rule", sorted(WEAK))
def test_password_reset_refuses_each_weak_password(rule, tenant, settings, reset_form_url):
    client = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)
    url = reset_form_url(client, tenant.requester)
    password = WEAK[rule]
    response = client.post(url, {"new_password1": password, "new_password2": password})
    assert response.status_code == 200
    assert _fields_error(response, "new_password2")
    tenant.requester.refresh_from_db()
    assert tenant.requester.check_password(TEST_PASSWORD)


@pytest.mark.parametrize("rule", sorted(WEAK))
def test_password_change_refuses_each_weak_password(rule, tenant, client_for):
    client = account_client(client_for, tenant.requester, tenant.host)
    password = WEAK[rule]
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert _fields_error(response, "new_password2")
    tenant.requester.refresh_from_db()
    assert tenant.requester.check_password(TEST_PASSWORD)


def test_password_change_refuses_the_agency_name_on_the_agencys_host(tenant, client_for):
    client = account_client(client_for, tenant.requester, tenant.host)
    password = "alpha rivers run deep"  # "Alpha Test Agency"
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert "agency" in _fields_error(response, "new_password2")


def test_password_change_accepts_a_good_passphrase_and_stores_argon2(tenant, client_for):
    client = account_client(client_for, tenant.requester, tenant.host)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": GOOD, "new_password2": GOOD},
    )
    assert response.status_code == 302
    tenant.requester.refresh_from_db()
    assert tenant.requester.password.startswith("argon2$argon2id$")
    assert check_password(GOOD, tenant.requester.password)


def _invitation_url(tenant, email: str) -> str:
    with agency_context(tenant.agency):
        sent = invitations.invitation_create(
            agency=tenant.agency, actor=tenant.admin, email=email, role=Role.STAFF
        )
    return sent.link.split("://", 1)[1].split("/", 1)[1]


@pytest.mark.parametrize("rule", sorted(WEAK))
def test_invitation_acceptance_refuses_each_weak_password(rule, tenant):
    path = "/" + _invitation_url(tenant, "newcomer@example.org")
    client = Client(HTTP_HOST=tenant.host)
    password = WEAK[rule]
    response = client.post(
        path, {"full_name": "New Comer", "password1": password, "password2": password}
    )
    assert response.status_code == 200
    assert _fields_error(response, "password2")
    assert not User.objects.filter(email="newcomer@example.org").exists()


def test_invitation_acceptance_with_a_good_password_creates_the_member(tenant):
    path = "/" + _invitation_url(tenant, "newcomer@example.org")
    client = Client(HTTP_HOST=tenant.host)
    response = client.post(path, {"full_name": "New Comer", "password1": GOOD, "password2": GOOD})
    assert response.status_code == 302
    user = User.objects.get(email="newcomer@example.org")
    assert user.password.startswith("argon2$argon2id$")
    with agency_context(tenant.agency):
        assert Membership.objects.get(agency=tenant.agency, user=user).role == Role.STAFF


@pytest.mark.parametrize("rule", sorted(WEAK))
def test_createsuperuser_without_prompts_refuses_each_weak_password(rule, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", WEAK[rule])
    with pytest.raises(CommandError):
        call_command("createsuperuser", "--noinput", email="root@example.org", verbosity=0)
    assert not User.objects.filter(email="root@example.org").exists()


def test_createsuperuser_without_prompts_accepts_a_good_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", GOOD)
    call_command("createsuperuser", "--noinput", email="root@example.org", verbosity=0)
    user = User.objects.get(email="root@example.org")
    assert user.is_superuser and user.check_password(GOOD)


def test_changepassword_refuses_a_weak_password(tenant, monkeypatch):
    answers = iter([WEAK["repeated"], WEAK["repeated"]] * 3)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises((CommandError, StopIteration)):
        call_command("changepassword", tenant.requester.email, verbosity=0)
    tenant.requester.refresh_from_db()
    assert tenant.requester.check_password(TEST_PASSWORD)


def test_every_validator_named_in_settings_exists_and_explains_itself():
    from django.contrib.auth.password_validation import get_default_password_validators

    validators = get_default_password_validators()
    names = {type(v).__name__ for v in validators}
    assert {
        "MinimumLengthValidator",
        "MaximumLengthValidator",
        "CommonPasswordValidator",
        "RepetitionValidator",
        "PersonalInformationValidator",
        "BreachedPasswordValidator",
    } <= names
    assert all(v.get_help_text() for v in validators)


def test_password_change_limits_guesses_of_the_old_password_and_records_each_wrong_one(
    tenant, client_for, settings
):
    # Django's form checks the old password itself, where django-axes does not count.
    settings.RATE_LIMIT_MFA_PER_USER = "3/d"  # a day: no window edge mid-test
    client = account_client(client_for, tenant.requester, tenant.host)
    url = reverse("accounts:password_change")
    guess = {"old_password": "a guess at the old one", "new_password1": GOOD, "new_password2": GOOD}

    answers = [client.post(url, guess).status_code for _ in range(4)]
    right = client.post(
        url, {"old_password": TEST_PASSWORD, "new_password1": GOOD, "new_password2": GOOD}
    )

    assert answers == [200, 200, 200, 429]
    assert right.status_code == 429  # the right one waits out the limit too
    tenant.requester.refresh_from_db()
    assert tenant.requester.check_password(TEST_PASSWORD)
    failed = events(tenant.agency, "auth.reauth_failed")
    assert [(e.actor_id, e.details) for e in failed] == [
        (tenant.requester.pk, {"method": "password change"})
    ] * 3
