"""Account proof: changes to the account itself (two-factor, recovery codes, email, password,
signing out everywhere else) need the portal password or a two-factor code, never one
agency's single sign-on; the agency's own settings still accept its sign-on. Also: the
re-authentication page, two-factor policy across agencies, and confirming a new email
address."""

from __future__ import annotations

import html
import re
import time

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Agency, ExternalIdentity, Membership, ProviderKind, Role, User
from accounts.signin import flow, mfa
from accounts.tenancy import agency_context
from tests.accounts import sso_helpers as h
from tests.accounts.identity_helpers import (
    account_client,
    add_authenticator,
    code_for,
    events,
    link_path,
    prove_account,
    sign_in,
    signed_in_user_id,
)
from tests.factories import TEST_PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db

ACCOUNT_PAGES = [
    "accounts:mfa_setup",
    "accounts:mfa_disable",
    "accounts:mfa_recovery_codes",
    "accounts:email_change",
    "accounts:password_change",
]


def text(response) -> str:
    return html.unescape(response.content.decode())


def sso_session(client_for, user, host: str, *, mfa_method: str = "sso") -> Client:
    """What a single sign-on leaves: signed in just now, the provider trusted for the second
    factor, but no account proof."""
    client = client_for(user, host, second_factor=False)
    session = client.session
    session[mfa.SESSION_MFA_METHOD] = mfa_method
    session[mfa.SESSION_MFA_AT] = int(time.time())
    session[flow.REAUTH_AT] = int(time.time())
    session.save()
    return client


def is_account_reauth(response) -> bool:
    location = response.get("Location", "")
    return (
        response.status_code == 302
        and location.startswith(reverse("accounts:reauthenticate") + "?")
        and "account=1" in location
    )


def also_works_at(agency, user, role=Role.ADMIN) -> None:
    with agency_context(agency):
        MembershipFactory(agency=agency, user=user, role=role)


def linked_sso_option(tenant, user):
    """An OIDC option of the tenant linked to ``user`` (a button on the confirm page)."""
    row = h.make_provider(
        tenant.agency,
        ProviderKind.OIDC,
        name="City Okta",
        settings={"issuer": "http://127.0.0.1:9", "client_id": "portal-test"},
        secret="client-secret",
    )
    with agency_context(tenant.agency):
        ExternalIdentity.objects.create(
            agency=tenant.agency, provider=row, subject=f"sub-{user.pk}", user=user
        )
    return row


# --- Which pages need it --------------------------------------------------------------------


@pytest.mark.parametrize("name", ACCOUNT_PAGES)
def test_an_account_page_sends_a_single_sign_on_session_to_confirm_with_password_or_code(
    name, tenant, client_for
):
    client = sso_session(client_for, tenant.staff, tenant.host)

    response = client.get(reverse(name))

    assert is_account_reauth(response), response.get("Location")


def test_signing_out_everywhere_else_needs_an_account_proof(tenant, client_for):
    client = sso_session(client_for, tenant.staff, tenant.host)

    response = client.post(reverse("accounts:sessions_end_others"))

    assert is_account_reauth(response)
    assert f"next={reverse('accounts:security').replace('/', '%2F')}" in response["Location"]
    assert events(tenant.agency, "session.ended_all") == []


def test_a_portal_password_sign_in_opens_the_account_pages(tenant):
    client = Client(HTTP_HOST=tenant.host)
    assert sign_in(client, tenant.requester.email).status_code == 302

    for name in ACCOUNT_PAGES:
        if name in ("accounts:mfa_disable", "accounts:mfa_recovery_codes"):
            continue  # redirect elsewhere without two-factor: not a question of proof
        assert client.get(reverse(name)).status_code == 200, name


def test_an_account_proof_lasts_as_long_as_a_recent_sign_in(tenant, client_for, settings):
    client = client_for(tenant.requester, tenant.host)
    prove_account(client, seconds_ago=settings.REAUTHENTICATION_MAX_AGE + 5)

    assert is_account_reauth(client.get(reverse("accounts:email_change")))


def test_the_agencys_own_settings_still_accept_its_single_sign_on(tenant, client_for):
    client = sso_session(client_for, tenant.admin, tenant.host)
    with agency_context(tenant.agency):
        member = Membership.objects.get(agency=tenant.agency, user=tenant.staff)

    for url in (
        reverse("staff:signin_settings"),
        reverse("staff:member_role", args=[member.pk]),
        reverse("staff:member_mfa_reset", args=[member.pk]),
        reverse("staff:provider_new", args=[ProviderKind.OIDC]),
    ):
        assert client.get(url).status_code == 200, url


# --- The confirm page -----------------------------------------------------------------------


def test_the_confirm_page_offers_no_single_sign_on_for_account_changes_and_says_why(
    tenant, client_for
):
    linked_sso_option(tenant, tenant.staff)
    client = sso_session(client_for, tenant.staff, tenant.host)

    redirect = client.get(reverse("accounts:email_change"))
    page = client.get(redirect["Location"])
    agency_page = client.get(reverse("accounts:reauthenticate"))

    assert page.status_code == 200
    assert "Confirm with City Okta" not in text(page)
    assert "single sign-on can't confirm it" in text(page)
    assert 'name="password"' in text(page)
    assert "Confirm with City Okta" in text(agency_page)  # the agency's own pages: offered


def test_the_portal_password_at_the_confirm_page_gives_an_account_proof(tenant, client_for):
    client = sso_session(client_for, tenant.staff, tenant.host)
    target = reverse("accounts:email_change")
    confirm = client.get(target)["Location"]

    response = client.post(confirm, {"password": TEST_PASSWORD, "next": target, "account": "1"})

    assert response.status_code == 302 and response["Location"] == target
    assert client.get(target).status_code == 200
    (event,) = events(tenant.agency, "auth.reauthenticated")
    assert event.details == {"method": "password"}


def test_with_two_factor_on_the_password_alone_is_not_an_account_proof(tenant, client_for):
    device = add_authenticator(tenant.staff, name="phone")
    client = sso_session(client_for, tenant.staff, tenant.host)
    target = reverse("accounts:email_change")
    confirm = client.get(target)["Location"]
    page = client.get(confirm)
    assert 'name="password"' not in text(page)  # only the code is asked for

    refused = client.post(confirm, {"password": TEST_PASSWORD, "next": target, "account": "1"})
    assert refused.status_code == 200
    assert is_account_reauth(client.get(target))

    passed = client.post(confirm, {"code": code_for(device), "next": target, "account": "1"})
    assert passed.status_code == 302 and passed["Location"] == target
    assert client.get(target).status_code == 200


def test_a_recovery_code_at_the_confirm_page_gives_an_account_proof(tenant, client_for):
    add_authenticator(tenant.staff, name="phone")
    codes = mfa.replace_recovery_codes(tenant.staff)
    client = sso_session(client_for, tenant.staff, tenant.host)
    target = reverse("accounts:mfa_recovery_codes")
    confirm = client.get(target)["Location"]

    response = client.post(confirm, {"code": codes[0], "next": target, "account": "1"})

    assert response.status_code == 302 and response["Location"] == target
    assert client.get(target).status_code == 200
    assert mfa.recovery_codes_left(tenant.staff) == 9


def test_staff_of_an_agency_without_password_sign_in_cannot_confirm_with_a_password(
    tenant, client_for
):
    Agency.objects.filter(pk=tenant.agency.pk).update(staff_password_login=False)
    linked_sso_option(tenant, tenant.staff)
    client = client_for(tenant.staff, tenant.host, second_factor=False)

    page = client.get(reverse("accounts:reauthenticate"))
    response = client.post(reverse("accounts:reauthenticate"), {"password": TEST_PASSWORD})

    assert 'name="password"' not in text(page)
    assert "Confirm with City Okta" in text(page)  # single sign-on is offered instead
    assert response.status_code == 200
    assert "organisation account, not a password" in text(response)
    assert flow.REAUTH_AT not in client.session
    (failed,) = events(tenant.agency, "auth.reauth_failed")
    assert failed.details == {"method": "password"}
    assert events(tenant.agency, "auth.reauthenticated") == []


def test_a_resident_of_an_agency_without_password_sign_in_still_confirms_with_a_password(
    tenant, client_for
):
    Agency.objects.filter(pk=tenant.agency.pk).update(staff_password_login=False)
    client = client_for(tenant.requester, tenant.host, second_factor=False)

    response = client.post(reverse("accounts:reauthenticate"), {"password": TEST_PASSWORD})

    assert response.status_code == 302


# --- Two-factor policy sees every agency --------------------------------------------------------


def test_the_two_factor_policy_of_every_agency_the_person_works_for_counts(
    tenant, other_tenant, client_for
):
    victim = other_tenant.admin  # admin of agency B: B requires two-factor of admins
    add_authenticator(victim, name="phone")
    also_works_at(tenant.agency, victim, Role.STAFF)

    with agency_context(tenant.agency):
        required = mfa.required_by(victim)
    client = account_client(client_for, victim, tenant.host)
    response = client.post(reverse("accounts:mfa_disable"))

    assert required == [other_tenant.agency.name]
    assert response.status_code == 200
    assert other_tenant.agency.name in text(response)
    assert mfa.has_second_factor(victim)
    assert events(tenant.agency, "mfa.disabled") == []


def test_a_persons_other_memberships_are_readable_only_when_named_and_never_writable(
    tenant, other_tenant
):
    person = tenant.staff
    also_works_at(other_tenant.agency, person, Role.STAFF)
    with agency_context(tenant.agency):
        assert Membership.objects.filter(user=person).count() == 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.user_id', %s, true)", [str(person.pk)])
        assert Membership.objects.filter(user=person).count() == 2
        assert Membership.objects.filter(user=tenant.admin).count() == 1  # nobody else's
        elsewhere = Membership.objects.filter(user=person, agency=other_tenant.agency)
        assert elsewhere.update(role=Role.ADMIN) == 0
        assert elsewhere.delete()[0] == 0
        with pytest.raises(DatabaseError), transaction.atomic():
            Membership.objects.create(agency=other_tenant.agency, user=tenant.admin, role="staff")
    with agency_context(other_tenant.agency):
        kept = Membership.objects.get(agency=other_tenant.agency, user=person)
    assert kept.role == Role.STAFF


# --- First two-factor set-up of single sign-on staff ---------------------------------------


def _sso_only(user) -> None:
    user.set_unusable_password()
    user.save(update_fields=["password"])


def test_staff_who_can_only_use_their_agencys_sign_on_may_set_up_two_factor(tenant, client_for):
    _sso_only(tenant.admin)
    client = sso_session(client_for, tenant.admin, tenant.host, mfa_method="")

    assert client.get(reverse("accounts:mfa_setup")).status_code == 200


def test_staff_who_also_work_for_another_agency_prove_the_account_before_setting_up(
    tenant, other_tenant, client_for
):
    _sso_only(tenant.admin)
    also_works_at(other_tenant.agency, tenant.admin, Role.STAFF)
    client = sso_session(client_for, tenant.admin, tenant.host, mfa_method="")

    assert is_account_reauth(client.get(reverse("accounts:mfa_setup")))


def test_staff_with_a_portal_password_prove_the_account_before_setting_up(tenant, client_for):
    client = sso_session(client_for, tenant.admin, tenant.host, mfa_method="")

    assert is_account_reauth(client.get(reverse("accounts:mfa_setup")))


# --- Confirming a new email address ------------------------------------------------------------


def test_opening_the_email_change_link_changes_nothing_until_the_button_is_pressed(
    tenant, client_for, django_capture_on_commit_callbacks
):
    client = account_client(client_for, tenant.requester, tenant.host)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("accounts:email_change"), {"email": "new.home@example.org"})
    assert sent.status_code == 302
    link = link_path(mail.outbox[-1])

    shown = client.get(link)
    tenant.requester.refresh_from_db()
    assert shown.status_code == 200
    assert re.search(r'<form method="post"', shown.content.decode())
    assert tenant.requester.email == "requester@alpha.test"
    assert events(tenant.agency, "account.email_changed") == []

    confirmed = client.post(link)

    assert confirmed.status_code == 302
    tenant.requester.refresh_from_db()
    assert tenant.requester.email == "new.home@example.org"
    assert len(events(tenant.agency, "account.email_changed")) == 1
    assert client.post(link).status_code == 302  # used once
    assert User.objects.filter(email="new.home@example.org").count() == 1
    assert signed_in_user_id(client) == tenant.requester.pk
