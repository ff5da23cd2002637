"""Password reset links expire: a link older than PASSWORD_RESET_TIMEOUT (the documented hour)
opens no form and sets no password, also when its form was opened in time and sent late, and
every refused link is recorded (``auth.password_reset_refused`` with its reason) in the
platform's chain, where reset links are opened.

The clock moved is the token generator's own (``PasswordResetTokenGenerator._now``, which
Django reads both when it makes a token and when it checks one): the link is the real one
from the real email, only "now" is later when it comes back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.accounts.identity_helpers import events, link_path, text
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase-2026"
REFUSED = "auth.password_reset_refused"
REFUSAL_DETAILS = {"reason": "expired, used or unknown link"}
ONE_HOUR = 60 * 60  # what the reset email and docs/security.md promise


class Clock:
    """How far the reset-token generator's clock runs ahead of the real one."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def advance(self, seconds: int) -> None:
        self.ahead += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    real_now = PasswordResetTokenGenerator._now
    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda generator: real_now(generator) + clock.ahead
    )
    return clock


@pytest.fixture
def reset_link(tenant, django_capture_on_commit_callbacks):
    """Ask for a reset of ``tenant.requester``'s password on the agency's host; returns the
    path of the link in the email (it points at the platform's domain)."""
    with django_capture_on_commit_callbacks(execute=True):
        asked = Client(HTTP_HOST=tenant.host).post(
            reverse("accounts:password_reset"), {"email": tenant.requester.email}
        )
    assert asked.status_code == 302
    (message,) = mail.outbox
    return link_path(message)


@pytest.fixture
def platform(settings) -> Client:
    """A browser on the platform's own domain, where reset links are opened."""
    return Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)


def shows_the_form(response) -> bool:
    return response.context["validlink"] and 'name="new_password1"' in text(response)


def assert_refused_page(response) -> None:
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "This link no longer works" in text(response)
    assert 'name="new_password1"' not in text(response)


def assert_password_unchanged(user) -> None:
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)
    assert not user.check_password(NEW_PASSWORD)
    assert events(None, "auth.password_reset_completed") == []


def test_a_reset_link_older_than_the_timeout_is_refused_and_the_refusal_is_audited(
    tenant, settings, clock, reset_link, platform
):
    assert settings.PASSWORD_RESET_TIMEOUT <= ONE_HOUR
    clock.advance(settings.PASSWORD_RESET_TIMEOUT + 1)

    opened = platform.get(reset_link, follow=True)
    posted = platform.post(
        reset_link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert opened.redirect_chain == []  # a good link first redirects to hide its token
    assert_refused_page(opened)
    assert_refused_page(posted)
    assert_password_unchanged(tenant.requester)
    refused = events(None, REFUSED)
    assert [(e.details, e.actor_id) for e in refused] == [(REFUSAL_DETAILS, None)] * 2


def test_a_reset_form_opened_in_time_cannot_set_the_password_once_the_link_expired(
    tenant, settings, clock, reset_link, platform
):
    assert settings.PASSWORD_RESET_TIMEOUT <= ONE_HOUR
    form_page = platform.get(reset_link, follow=True)
    assert shows_the_form(form_page), text(form_page)
    set_password_url = form_page.redirect_chain[-1][0]
    clock.advance(settings.PASSWORD_RESET_TIMEOUT + 1)

    sent_late = platform.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert_refused_page(sent_late)
    assert_password_unchanged(tenant.requester)
    assert [e.details for e in events(None, REFUSED)] == [REFUSAL_DETAILS]


def test_a_reset_link_still_works_just_inside_the_timeout(
    tenant, settings, clock, reset_link, platform
):
    # The other side of the edge: the refusals above come from the link's age, not from
    # the moved clock breaking the token.
    clock.advance(settings.PASSWORD_RESET_TIMEOUT - 60)

    form_page = platform.get(reset_link, follow=True)
    assert shows_the_form(form_page), text(form_page)
    saved = platform.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert saved.status_code == 302
    tenant.requester.refresh_from_db()
    assert tenant.requester.check_password(NEW_PASSWORD)
    assert events(None, REFUSED) == []


def test_a_used_reset_link_is_refused_and_the_refusal_is_audited(tenant, reset_link, platform):
    form_page = platform.get(reset_link, follow=True)
    saved = platform.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert saved.status_code == 302

    again = platform.get(reset_link, follow=True)

    assert_refused_page(again)
    assert [e.details for e in events(None, REFUSED)] == [REFUSAL_DETAILS]
