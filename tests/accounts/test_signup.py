"""Resident sign-up: nothing reveals whether an address has an account, no account exists
until the emailed link is confirmed, and weak passwords are refused before anything is kept."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import PendingSignup, User
from tests.accounts.identity_helpers import events, link_path, page_body, sign_in

pytestmark = pytest.mark.django_db

SIGNUP = reverse("accounts:signup")
GOOD_PASSWORD = "quartz-lantern-pivot-8812"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def signup_data(email: str, password: str = GOOD_PASSWORD, full_name: str = "Margot Fairweather"):
    return {"full_name": full_name, "email": email, "password1": password, "password2": password}


def sign_up(host: str, email: str, **kwargs):
    return Client(HTTP_HOST=host).post(SIGNUP, signup_data(email, **kwargs))


def test_the_page_after_signing_up_is_the_same_whether_or_not_the_address_has_an_account(
    tenant, django_capture_on_commit_callbacks
):
    new, taken = "margot.new@example.org", tenant.requester.email

    with django_capture_on_commit_callbacks(execute=True):
        for_new = sign_up(tenant.host, new)
        for_taken = sign_up(tenant.host, taken)

    assert for_new.status_code == for_taken.status_code == 200
    assert page_body(for_new).replace(new, "ADDRESS") == page_body(for_taken).replace(
        taken, "ADDRESS"
    )
    assert "Check your email" in for_new.content.decode()
    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {new, taken}
    assert sent[new].subject == "Confirm your email address to create your account"
    assert "/accounts/signup/confirm/" in sent[new].body
    assert sent[taken].subject == "You already have an account"
    assert "/accounts/signup/confirm/" not in sent[taken].body
    assert not User.objects.filter(email=new).exists()
    assert list(PendingSignup.objects.values_list("email", flat=True)) == [new]


def test_signing_up_with_a_taken_address_costs_the_same_password_hashing(tenant):
    def hashes(email: str) -> int:
        with mock.patch.object(
            Argon2PasswordHasher, "encode", autospec=True, side_effect=Argon2PasswordHasher.encode
        ) as encode:
            assert sign_up(tenant.host, email).status_code == 200
        return encode.call_count

    assert hashes(tenant.requester.email) == hashes("margot.new@example.org") == 1


def test_confirming_the_emailed_link_creates_the_account_with_an_argon2id_hash(
    tenant, django_capture_on_commit_callbacks
):
    email = "margot.new@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(tenant.host, email)
    path = link_path(mail.outbox[0])
    (pending,) = PendingSignup.objects.all()
    assert abs(pending.expires_at - pending.created_at - timedelta(hours=1)) < timedelta(seconds=5)
    assert GOOD_PASSWORD not in pending.password
    browser = Client(HTTP_HOST=tenant.host)

    shown = browser.get(path)  # what a mail scanner following the link does
    assert shown.status_code == 200
    assert not User.objects.filter(email=email).exists()
    confirmed = browser.post(path)

    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("accounts:login")
    user = User.objects.get(email=email)
    assert user.full_name == "Margot Fairweather"
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(GOOD_PASSWORD)
    assert not PendingSignup.objects.exists()
    (completed,) = events(tenant.agency, "auth.signup_completed")
    assert completed.actor_id == user.pk
    assert sign_in(browser, email, GOOD_PASSWORD).status_code == 302


def test_a_confirmation_link_works_only_once(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(tenant.host, "margot.new@example.org")
    path = link_path(mail.outbox[0])
    Client(HTTP_HOST=tenant.host).post(path)

    again = Client(HTTP_HOST=tenant.host).post(path)

    assert again.status_code == 400
    assert "This link no longer works" in again.content.decode()
    assert User.objects.filter(email="margot.new@example.org").count() == 1
    (refused,) = events(tenant.agency, "auth.signup_refused")
    assert refused.details == {"reason": "unknown or expired link"}


def test_a_confirmation_link_expires_after_an_hour(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(tenant.host, "margot.late@example.org")
    path = link_path(mail.outbox[0])
    PendingSignup.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    late = Client(HTTP_HOST=tenant.host).post(path)

    assert late.status_code == 400
    assert not User.objects.filter(email="margot.late@example.org").exists()
    assert len(events(tenant.agency, "auth.signup_refused")) == 1


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Tiny-pass1", "password_too_short"),
        ("password1234", "password_too_common"),
        ("fairweather-garden-7", "password_has_name"),
        ("margot.new-garden-7", "password_has_email"),
        ("abcabcabcabcabc", "password_repetitive"),
    ],
)
def test_weak_passwords_are_refused_with_a_field_error_and_nothing_is_kept(
    tenant, django_capture_on_commit_callbacks, password, code
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(tenant.host, "margot.new@example.org", password=password)

    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert code in [error.code for error in errors["password2"]]
    assert password not in response.content.decode()
    assert not PendingSignup.objects.exists()
    assert mail.outbox == []
    assert events(tenant.agency, "auth.signup_requested") == []


def test_signing_up_is_rate_limited_per_address(tenant, settings):
    settings.RATE_LIMIT_SIGNUP_PER_IP = "2/d"
    client = Client(HTTP_HOST=tenant.host, REMOTE_ADDR="192.0.2.30")

    statuses = [
        client.post(SIGNUP, signup_data(f"margot{n}@example.org")).status_code for n in range(3)
    ]
    elsewhere = Client(HTTP_HOST=tenant.host, REMOTE_ADDR="192.0.2.31").post(
        SIGNUP, signup_data("margot.other@example.org")
    )

    assert statuses == [200, 200, 429]
    assert elsewhere.status_code == 200
    assert sorted(PendingSignup.objects.values_list("email", flat=True)) == [
        "margot.other@example.org",
        "margot0@example.org",
        "margot1@example.org",
    ]
