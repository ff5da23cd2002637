"""LDAP sign-in end to end against a real OpenLDAP server (tests/idp/slapd.py).

An agency admin configures the directory on the admin pages; people sign in on the agency's
own sign-in page with their network username and password; the directory's groups decide
their role at every sign-in; accounts are found by the directory's stable id (entryUUID),
never by email; and every outcome lands in the audit log.
"""

from __future__ import annotations

import json
import time

import ldap
import pytest
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import Agency, ExternalIdentity, IdentityProvider, ProviderKind, Role, User
from accounts.signin import flow
from accounts.sso import config
from accounts.tenancy import agency_context
from tests.accounts import sso_helpers as h
from tests.factories import TEST_PASSWORD, UserFactory
from tests.idp._process import free_port

pytestmark = pytest.mark.django_db

ADMINS = "records-admins"
STAFF = "records-staff"
GENERIC_FAILURE = "That email address and password do not match an account."


def directory_settings(slapd) -> dict:
    """What the admin form stores for the test directory."""
    return {
        "server_uri": slapd.uri,
        "start_tls": False,
        "bind_dn": slapd.bind_dn,
        "user_search_base": slapd.people_dn,
        "user_filter": "(uid=%(user)s)",
        "group_search_base": slapd.groups_dn,
        "group_type": "groupOfNames",
        "subject_attribute": "entryUUID",
        "email_attribute": "mail",
        "name_attribute": "cn",
        "role_mapping": [
            {"group": slapd.group_dn(ADMINS), "role": Role.ADMIN},
            {"group": slapd.group_dn(STAFF), "role": Role.STAFF},
        ],
    }


def admin_form(slapd, **overrides) -> dict:
    """The "LDAP / Active Directory" form as an agency admin fills it in."""
    return {
        "name": "City network account",
        "is_enabled": "on",
        "provision_role": "",
        "role_mapping": f"{slapd.group_dn(ADMINS)} = admin\n{slapd.group_dn(STAFF)} = staff",
        "server_uri": slapd.uri,
        "bind_dn": slapd.bind_dn,
        "bind_password": slapd.bind_password,
        "user_search_base": slapd.people_dn,
        "user_filter": "(uid=%(user)s)",
        "group_search_base": slapd.groups_dn,
        "group_type": "groupOfNames",
        "subject_attribute": "entryUUID",
        "email_attribute": "mail",
        "name_attribute": "cn",
        **overrides,
    }


@pytest.fixture
def directory(tenant, ldap_directory) -> IdentityProvider:
    """The test directory, configured for agency A with the two groups mapped to roles."""
    return h.make_provider(
        tenant.agency,
        ProviderKind.LDAP,
        name="City network account",
        settings=directory_settings(ldap_directory),
        secret=ldap_directory.bind_password,
    )


def sign_in(host: str, username: str, password: str):
    """A new browser posting the agency's sign-in form; returns (client, response)."""
    client = h.anonymous_client(host)
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    return client, response


def entry_uuid(slapd, uid: str) -> str:
    conn = slapd.connect()
    try:
        [(_dn, attrs)] = conn.search_s(
            slapd.user_dn(uid), ldap.SCOPE_BASE, "(objectClass=*)", ["entryUUID"]
        )
    finally:
        conn.unbind_s()
    return attrs["entryUUID"][0].decode()


def configure_through_admin_pages(client, tenant, slapd) -> IdentityProvider:
    response = client.post(
        reverse("staff:provider_new", args=[ProviderKind.LDAP]), admin_form(slapd)
    )
    assert response.status_code == 302, h.explain(response)
    with agency_context(tenant.agency):
        provider = IdentityProvider.objects.get(agency=tenant.agency, kind=ProviderKind.LDAP)
    assert response["Location"] == reverse("staff:provider_edit", args=[provider.pk])
    return provider


# --- Configuration on the admin pages --------------------------------------------------------


def test_admin_configures_the_directory_and_the_bind_password_is_stored_sealed(
    client_for, tenant, ldap_directory
):
    admin = client_for(tenant.admin, tenant.host)
    provider = configure_through_admin_pages(admin, tenant, ldap_directory)

    assert provider.settings == directory_settings(ldap_directory)
    secret = ldap_directory.bind_password.encode()
    stored = bytes(provider.sealed_secret)
    assert stored and secret not in stored
    assert ldap_directory.bind_password not in json.dumps(provider.settings)
    assert config.get_secret(provider) == ldap_directory.bind_password

    (created,) = h.events(tenant.agency, "sso.provider_created")
    assert created.actor_id == tenant.admin.pk
    assert created.details["kind"] == "ldap"
    assert created.details["secret_changed"] is True
    assert ldap_directory.bind_password not in json.dumps(created.details)

    edit_page = admin.get(reverse("staff:provider_edit", args=[provider.pk]))
    assert edit_page.status_code == 200, h.explain(edit_page)
    assert ldap_directory.uri in h.text(edit_page)
    assert ldap_directory.bind_password not in h.text(edit_page)


def test_saving_the_settings_again_without_a_password_keeps_the_sealed_one(
    client_for, tenant, ldap_directory
):
    admin = client_for(tenant.admin, tenant.host)
    provider = configure_through_admin_pages(admin, tenant, ldap_directory)

    response = admin.post(
        reverse("staff:provider_edit", args=[provider.pk]),
        admin_form(ldap_directory, name="Network sign-in", bind_password=""),
    )

    assert response.status_code == 302, h.explain(response)
    with agency_context(tenant.agency):
        provider.refresh_from_db()
    assert provider.name == "Network sign-in"
    assert config.get_secret(provider) == ldap_directory.bind_password
    (updated,) = h.events(tenant.agency, "sso.provider_updated")
    assert updated.details["secret_changed"] is False
    _client, signed_in = sign_in(tenant.host, "bob", "bob-password")
    assert signed_in.status_code == 302, h.explain(signed_in)


def test_settings_test_page_reports_each_step_with_and_without_the_right_password(
    client_for, tenant, ldap_directory
):
    admin = client_for(tenant.admin, tenant.host)
    provider = configure_through_admin_pages(admin, tenant, ldap_directory)
    test_url = reverse("staff:provider_test", args=[provider.pk])

    right = admin.post(test_url, {"username": "alice", "password": "alice-password"})
    wrong = admin.post(test_url, {"username": "alice", "password": "not-her-password"})
    nobody = admin.post(test_url, {"username": "nobody", "password": ""})

    assert right.status_code == wrong.status_code == nobody.status_code == 200
    page = h.text(right)
    steps = [
        "The service account signed in to the directory.",
        f"Found {ldap_directory.user_dn('alice')}.",
        "That password is right.",
        f"Groups: {ldap_directory.group_dn(ADMINS)}.",
        "Role here: Admin.",
    ]
    assert all(step in page for step in steps), page
    positions = [page.index(step) for step in steps]
    assert positions == sorted(positions)  # in the order they happen
    assert "That password is wrong." in h.text(wrong)
    assert "That password is right." not in h.text(wrong)
    assert "The person filter found 0 entries for 'nobody'." in h.text(nobody)
    # Trying settings signs nobody in and creates nothing.
    assert h.signed_in_user_id(admin) == tenant.admin.pk
    assert h.identities(tenant.agency) == []
    assert User.objects.filter(email="alice@example.org").exists() is False
    assert "sso.login" not in h.actions(tenant.agency)


# --- Signing in --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uid", "role"),
    [("alice", Role.ADMIN), ("bob", Role.STAFF)],
)
def test_directory_person_gets_an_account_with_the_role_of_their_group(
    tenant, ldap_directory, directory, uid, role
):
    seeded = ldap_directory.users[uid]

    client, response = sign_in(tenant.host, uid, seeded["password"])

    assert response.status_code == 302, h.explain(response)
    user = User.objects.get(email=seeded["mail"])
    assert h.signed_in_user_id(client) == user.pk
    assert user.full_name == seeded["cn"]
    assert not user.has_usable_password()  # the directory keeps the password
    assert h.membership(tenant.agency, user).role == role
    (identity,) = h.identities(tenant.agency, directory)
    assert (identity.user, identity.subject) == (user, entry_uuid(ldap_directory, uid))
    assert h.actions(tenant.agency) == ["sso.linked", "sso.provisioned", "auth.login", "sso.login"]
    (provisioned,) = h.events(tenant.agency, "sso.provisioned")
    assert provisioned.details["role"] == Role(role).label
    (login,) = h.events(tenant.agency, "auth.login")
    assert (login.actor_id, login.details["method"]) == (user.pk, "ldap")
    (sso_login,) = h.events(tenant.agency, "sso.login")
    assert sso_login.details["protocol"] == "ldap"


def test_person_in_no_mapped_group_is_refused_with_the_reason_and_gets_no_account(
    tenant, ldap_directory, directory
):
    client, response = sign_in(tenant.host, "carol", "carol-password")

    assert response.status_code == 200, h.explain(response)
    assert (
        "Your organisation account is not in a group that has access to "
        f"{tenant.agency.name}'s staff area." in h.text(response)
    )
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="carol@example.org").exists()
    assert h.identities(tenant.agency) == []
    assert h.failure_reasons(tenant.agency) == ["not in a mapped group"]
    assert "auth.login" not in h.actions(tenant.agency)


def test_wrong_password_and_unknown_username_get_the_same_generic_message(
    tenant, ldap_directory, directory
):
    attempts = [
        sign_in(tenant.host, "bob", "not-bobs-password"),
        sign_in(tenant.host, "nobody", "bob-password"),
        # Carol's group problem is shown only to someone who knows her password.
        sign_in(tenant.host, "carol", "not-carols-password"),
    ]

    for client, response in attempts:
        assert response.status_code == 200, h.explain(response)
        assert GENERIC_FAILURE in h.text(response)
        assert "not in a group" not in h.text(response)
        assert h.signed_in_user_id(client) is None
    failures = h.events(tenant.agency, "auth.login_failed")
    assert [e.details["email"] for e in failures] == ["bob", "nobody", "carol"]
    assert not User.objects.filter(email__in=["bob@example.org", "carol@example.org"]).exists()
    assert h.events(tenant.agency, "sso.failed") == []


def test_username_with_filter_characters_matches_nobody(tenant, ldap_directory, directory):
    # Unescaped, (uid=a*ice) would find alice and her password would then bind.
    client, response = sign_in(tenant.host, "a*ice", "alice-password")

    assert response.status_code == 200, h.explain(response)
    assert GENERIC_FAILURE in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert h.identities(tenant.agency) == []
    assert [e.details["email"] for e in h.events(tenant.agency, "auth.login_failed")] == ["a*ice"]


def test_role_follows_the_directory_groups_at_every_sign_in(tenant, ldap_directory, directory):
    _client, first = sign_in(tenant.host, "bob", "bob-password")
    assert first.status_code == 302, h.explain(first)
    bob = User.objects.get(email="bob@example.org")
    assert h.membership(tenant.agency, bob).role == Role.STAFF

    ldap_directory.add_to_group("bob", ADMINS)
    ldap_directory.remove_from_group("bob", STAFF)
    client, again = sign_in(tenant.host, "bob", "bob-password")

    assert again.status_code == 302, h.explain(again)
    assert h.signed_in_user_id(client) == bob.pk
    assert h.membership(tenant.agency, bob).role == Role.ADMIN
    (synced,) = h.events(tenant.agency, "sso.role_synced")
    assert synced.actor_id == bob.pk
    assert (synced.details["old_role"], synced.details["new_role"]) == ("Staff", "Admin")
    assert len(h.identities(tenant.agency)) == 1
    assert len(h.events(tenant.agency, "sso.provisioned")) == 1


def test_person_renamed_in_the_directory_keeps_their_account(tenant, ldap_directory, directory):
    _client, first = sign_in(tenant.host, "alice", "alice-password")
    assert first.status_code == 302, h.explain(first)
    alice = User.objects.get(email="alice@example.org")

    # A new username moves the entry to a new DN; its entryUUID stays.
    conn = ldap_directory.connect()
    try:
        conn.rename_s(ldap_directory.user_dn("alice"), "uid=alice.smith", delold=1)
    finally:
        conn.unbind_s()
    ldap_directory.add_to_group("alice.smith", ADMINS)
    client, again = sign_in(tenant.host, "alice.smith", "alice-password")

    assert again.status_code == 302, h.explain(again)
    assert h.signed_in_user_id(client) == alice.pk
    assert len(h.identities(tenant.agency)) == 1
    assert h.events(tenant.agency, "sso.failed") == []


def test_directory_account_never_takes_over_a_portal_account_with_the_same_email(
    tenant, ldap_directory, directory
):
    existing = UserFactory(email="alice@example.org")
    password_hash = existing.password

    client, response = sign_in(tenant.host, "alice", "alice-password")

    assert response.status_code == 200, h.explain(response)
    assert "An account with your email address already exists." in h.text(response)
    assert h.signed_in_user_id(client) is None
    existing.refresh_from_db()
    assert existing.password == password_hash
    assert existing.check_password(TEST_PASSWORD)
    assert h.membership(tenant.agency, existing) is None
    assert h.identities(tenant.agency) == []
    assert h.failure_reasons(tenant.agency) == ["email already has an account"]


def test_directory_sign_in_is_not_a_second_factor_for_admins(tenant, ldap_directory, directory):
    # The agency requires two-factor for admins (the default) and trusts its single sign-on
    # for it (also the default): an LDAP bind is only a password, so it does not count.
    agency = Agency.objects.get(pk=tenant.agency.pk)
    assert agency.mfa_required_for_admins and agency.sso_counts_as_mfa

    client, response = sign_in(tenant.host, "alice", "alice-password")

    assert response.status_code == 302, h.explain(response)
    assert response["Location"].startswith(reverse("accounts:mfa_setup"))
    alice = User.objects.get(email="alice@example.org")
    assert h.signed_in_user_id(client) == alice.pk
    staff_page = client.get(reverse("staff:staff_dashboard"))
    assert staff_page.status_code == 302
    assert staff_page["Location"].startswith(reverse("accounts:mfa_setup"))
    setup_page = client.get(response["Location"])
    assert setup_page.status_code == 200, h.explain(setup_page)


def test_staff_password_sign_in_turned_off_refuses_passwords_but_not_the_directory(
    tenant, ldap_directory, directory
):
    Agency.objects.filter(pk=tenant.agency.pk).update(staff_password_login=False)

    staff_client, refused = sign_in(tenant.host, tenant.staff.email, TEST_PASSWORD)
    bob_client, bob = sign_in(tenant.host, "bob", "bob-password")
    resident_client, resident = sign_in(tenant.host, tenant.requester.email, TEST_PASSWORD)

    assert refused.status_code == 200, h.explain(refused)
    assert "network username and password, not a portal password" in h.form_errors(refused)
    assert h.signed_in_user_id(staff_client) is None
    (event,) = h.events(tenant.agency, "auth.login_refused")
    assert event.details == {"email": tenant.staff.email, "reason": "password sign-in turned off"}
    assert bob.status_code == 302, h.explain(bob)
    assert h.signed_in_user_id(bob_client) == User.objects.get(email="bob@example.org").pk
    # Residents (no staff role here) always sign in with their password.
    assert resident.status_code == 302, h.explain(resident)
    assert h.signed_in_user_id(resident_client) == tenant.requester.pk


def test_a_refused_right_password_reads_exactly_like_a_wrong_one(tenant, ldap_directory, directory):
    # Where staff may not use passwords, the answer must not confirm that a password is right.
    Agency.objects.filter(pk=tenant.agency.pk).update(staff_password_login=False)

    _, right = sign_in(tenant.host, tenant.staff.email, TEST_PASSWORD)
    _, wrong = sign_in(tenant.host, tenant.staff.email, "not the password at all")

    assert h.form_errors(right) == h.form_errors(wrong)
    assert "not a portal password" in h.form_errors(wrong)
    assert len(h.events(tenant.agency, "auth.login_refused")) == 1
    assert len(h.events(tenant.agency, "auth.login_failed")) == 1


def test_refused_staff_password_does_not_point_to_a_button_a_directory_only_agency_lacks(
    tenant, ldap_directory, directory
):
    # Agency A signs staff in only through its directory: the sign-in page has no
    # "Sign in with ..." button, staff type their network username into the same form.
    Agency.objects.filter(pk=tenant.agency.pk).update(staff_password_login=False)

    client, refused = sign_in(tenant.host, tenant.staff.email, TEST_PASSWORD)

    assert refused.status_code == 200, h.explain(refused)
    assert h.signed_in_user_id(client) is None
    assert len(h.events(tenant.agency, "auth.login_refused")) == 1
    assert "Sign in with " not in h.text(refused)  # no button on this page
    assert "network username and password, not a portal password" in h.form_errors(refused)
    assert "button" not in h.form_errors(refused), h.form_errors(refused)


def test_directory_that_does_not_answer_fails_quickly_with_the_generic_message(
    tenant, ldap_directory
):
    closed = f"ldap://127.0.0.1:{free_port()}/"  # nothing listens there
    h.make_provider(
        tenant.agency,
        ProviderKind.LDAP,
        settings={**directory_settings(ldap_directory), "server_uri": closed},
        secret=ldap_directory.bind_password,
    )

    started = time.monotonic()
    client, response = sign_in(tenant.host, "bob", "bob-password")
    elapsed = time.monotonic() - started

    assert response.status_code == 200, h.explain(response)
    assert GENERIC_FAILURE in h.text(response)
    assert elapsed < 5, f"the sign-in page took {elapsed:.1f} s"
    assert h.signed_in_user_id(client) is None
    assert [e.details["email"] for e in h.events(tenant.agency, "auth.login_failed")] == ["bob"]


def test_directory_of_one_agency_is_not_used_on_another_agencys_host(
    tenant, other_tenant, ldap_directory, directory
):
    client, response = sign_in(other_tenant.host, "bob", "bob-password")

    assert response.status_code == 200, h.explain(response)
    assert GENERIC_FAILURE in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="bob@example.org").exists()
    assert [e.details["email"] for e in h.events(other_tenant.agency, "auth.login_failed")] == [
        "bob"
    ]
    assert h.actions(tenant.agency) == []


# --- Where the bind password goes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("server_uri", "ldap://127.0.0.1:1/"),
        ("bind_dn", "cn=someone-else,dc=example,dc=org"),
        ("start_tls", "on"),
    ],
)
def test_pointing_the_directory_elsewhere_needs_the_bind_password_again(
    client_for, tenant, ldap_directory, field, value
):
    admin = client_for(tenant.admin, tenant.host)
    provider = configure_through_admin_pages(admin, tenant, ldap_directory)
    edit = reverse("staff:provider_edit", args=[provider.pk])

    refused = admin.post(edit, admin_form(ldap_directory, bind_password="", **{field: value}))

    assert refused.status_code == 400, h.explain(refused)
    errors = refused.context["form"].errors
    assert "Enter the service account password again" in " ".join(errors["bind_password"])
    with agency_context(tenant.agency):
        provider.refresh_from_db()
    assert provider.settings == directory_settings(ldap_directory)
    assert config.get_secret(provider) == ldap_directory.bind_password
    assert h.events(tenant.agency, "sso.provider_updated") == []


@pytest.mark.parametrize(
    "server_uri",
    [
        "ldap://127.0.0.1:1 ldap://evil.example.test:389",
        "ldap://127.0.0.1:1,ldap://evil.example.test:389",
        "ldap://127.0.0.1:1\tldap://evil.example.test:389",
        "ldap://127.0.0.1:1/dc=example,dc=org",
        "ldap://",
        "ldapi://%2Fvar%2Frun%2Fslapd",
        "https://127.0.0.1/",
    ],
)
def test_the_server_address_must_be_exactly_one_ldap_server(
    client_for, tenant, ldap_directory, server_uri
):
    admin = client_for(tenant.admin, tenant.host)

    response = admin.post(
        reverse("staff:provider_new", args=[ProviderKind.LDAP]),
        admin_form(ldap_directory, server_uri=server_uri),
    )

    assert response.status_code == 400, h.explain(response)
    assert response.context["form"].errors["server_uri"]
    with agency_context(tenant.agency):
        assert not IdentityProvider.objects.filter(agency=tenant.agency).exists()


@pytest.mark.parametrize(
    "server_uri",
    ["{uri} ldap://evil.example.test:389", "ldap://evil.example.test:389 {uri}"],
)
def test_a_saved_list_of_servers_is_never_connected_to(
    client_for, tenant, ldap_directory, directory, server_uri
):
    # A row saved before the strict rule (or written around the form).
    h.update_provider(
        directory, settings={"server_uri": server_uri.format(uri=ldap_directory.uri.rstrip("/"))}
    )
    admin = client_for(tenant.admin, tenant.host)

    tested = admin.post(reverse("staff:provider_test", args=[directory.pk]), {"username": "alice"})
    client, signed_in = sign_in(tenant.host, "alice", "alice-password")

    assert tested.status_code == 200, h.explain(tested)
    assert "The server address is refused" in h.text(tested)
    assert "The service account signed in" not in h.text(tested)
    assert signed_in.status_code == 200, h.explain(signed_in)
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email="alice@example.org").exists()
    assert [r.split(":")[0] for r in h.failure_reasons(tenant.agency)] == ["server address refused"]


def test_a_saved_internal_address_is_not_connected_to_in_production(
    client_for, tenant, ldap_directory, directory, settings
):
    # The form refuses loopback and link-local servers in production; a row that holds one
    # anyway is checked again right before connecting.
    settings.SSO_ALLOW_LOOPBACK_PROVIDERS = False
    admin = client_for(tenant.admin, tenant.host)

    tested = admin.post(reverse("staff:provider_test", args=[directory.pk]), {"username": "alice"})
    client, signed_in = sign_in(tenant.host, "alice", "alice-password")

    assert "The server address is refused: That address is not allowed." in h.text(tested)
    assert h.signed_in_user_id(client) is None
    assert GENERIC_FAILURE in h.text(signed_in)


# --- The settings test and removal ---------------------------------------------------------------


def test_settings_test_needs_a_recent_sign_in_and_comes_back_to_the_option(
    client_for, tenant, ldap_directory, directory
):
    admin = client_for(tenant.admin, tenant.host)
    session = admin.session
    session[flow.REAUTH_AT] = int(time.time()) - 3600
    session.save()
    edit = reverse("staff:provider_edit", args=[directory.pk])

    response = admin.post(
        reverse("staff:provider_test", args=[directory.pk]),
        {"username": "alice", "password": "alice-password"},
    )

    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('accounts:reauthenticate')}?{urlencode({'next': edit})}"
    )
    assert h.events(tenant.agency, "sso.provider_tested") == []


def test_settings_test_is_recorded_without_the_password_and_limited_per_admin(
    client_for, tenant, ldap_directory, directory, settings
):
    settings.RATE_LIMIT_MFA_PER_USER = "2/d"  # a day: no window edge mid-test
    admin = client_for(tenant.admin, tenant.host)
    url = reverse("staff:provider_test", args=[directory.pk])

    first = admin.post(url, {"username": "alice", "password": "alice-password"})
    second = admin.post(url, {"username": "alice", "password": "wrong-guess"})
    third = admin.post(url, {"username": "alice", "password": "another-guess"})

    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    tested = h.events(tenant.agency, "sso.provider_tested")
    assert [e.actor_id for e in tested] == [tenant.admin.pk] * 2
    assert tested[0].details == {
        "name": "City network account",
        "username": "alice",
        "password_checked": True,
        "steps": [True, True, True, True, True],
        "passed": True,
    }
    assert tested[1].details["steps"] == [True, True, False, True, True]
    assert tested[1].details["passed"] is False
    for event in tested:
        assert "alice-password" not in json.dumps(event.details)
        assert "wrong-guess" not in json.dumps(event.details)


def test_removing_a_sign_in_option_needs_a_recent_sign_in(client_for, tenant, directory):
    admin = client_for(tenant.admin, tenant.host)
    session = admin.session
    session[flow.REAUTH_AT] = int(time.time()) - 3600
    session.save()

    response = admin.post(reverse("staff:provider_delete", args=[directory.pk]))

    assert response.status_code == 302
    settings_page = reverse("staff:signin_settings")
    assert response["Location"] == (
        f"{reverse('accounts:reauthenticate')}?{urlencode({'next': settings_page})}"
    )
    with agency_context(tenant.agency):
        assert IdentityProvider.objects.filter(pk=directory.pk).exists()
    assert h.events(tenant.agency, "sso.provider_deleted") == []


# --- A linked person the groups now give a role ------------------------------------------------


def test_linked_person_given_a_role_by_the_groups_is_recorded_as_provisioned(
    tenant, ldap_directory, directory
):
    # A resident linked bob's directory account; the directory's groups make them staff at
    # their next sign-in: a new staff member, so it is recorded.
    resident = tenant.requester
    with agency_context(tenant.agency):
        ExternalIdentity.objects.create(
            agency=tenant.agency,
            provider=directory,
            subject=entry_uuid(ldap_directory, "bob"),
            user=resident,
        )

    client, response = sign_in(tenant.host, "bob", "bob-password")

    assert response.status_code == 302, h.explain(response)
    assert h.signed_in_user_id(client) == resident.pk
    membership = h.membership(tenant.agency, resident)
    assert membership.role == Role.STAFF
    (provisioned,) = h.events(tenant.agency, "sso.provisioned")
    assert provisioned.actor_id == resident.pk
    assert provisioned.target_id == str(membership.pk)
    assert provisioned.details["provider"] == "City network account"
    assert provisioned.details["role"] == "Staff"
