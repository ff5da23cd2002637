"""Sign-in, sign-out, password reset and page access are all recorded in the audit log."""

import re

import pytest
from django.core import mail

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def events(agency, action=None):
    with agency_context(agency):
        qs = AuditEvent.objects.filter(agency=agency).order_by("id")
        if action:
            qs = qs.filter(action=action)
        return list(qs)


def test_successful_login_is_audited_with_actor_ip_and_request_id(client_for, tenant):
    client = client_for(None, tenant.host)
    response = client.post(
        "/accounts/login/", {"username": tenant.staff.email.upper(), "password": TEST_PASSWORD}
    )
    assert response.status_code == 302  # email login is case-insensitive
    (event,) = events(tenant.agency, "auth.login")
    assert event.actor_id == tenant.staff.pk
    assert event.ip == "127.0.0.1"
    assert len(event.request_id) == 32
    assert response["X-Request-ID"] == event.request_id


def test_failed_login_is_audited_and_does_not_reveal_whether_the_user_exists(client_for, tenant):
    client = client_for(None, tenant.host)
    wrong_password = client.post(
        "/accounts/login/", {"username": tenant.staff.email, "password": "not-the-password"}
    )
    unknown_user = client.post(
        "/accounts/login/", {"username": "nobody@nowhere.test", "password": "not-the-password"}
    )
    assert wrong_password.status_code == unknown_user.status_code == 200
    message = "That email address and password do not match an account."
    assert message in wrong_password.content.decode()
    assert message in unknown_user.content.decode()
    failures = events(tenant.agency, "auth.login_failed")
    assert [e.details["email"] for e in failures] == [tenant.staff.email, "nobody@nowhere.test"]
    assert all(e.actor_id is None for e in failures)
    assert "_auth_user_id" not in client.session


def test_an_overlong_password_is_refused_before_it_is_hashed(client_for, tenant):
    """PASSWORD_INPUT_MAX bounds the hashing work on sign-in too: the form refuses the
    password itself, so authenticate() never runs (no failed sign-in to record)."""
    client = client_for(None, tenant.host)
    response = client.post(
        "/accounts/login/", {"username": tenant.staff.email, "password": "x" * 1025}
    )
    assert response.status_code == 200
    assert "at most 1024 characters" in " ".join(response.context["form"].errors["password"])
    assert "at most 1024 characters" in response.content.decode()
    assert events(tenant.agency, "auth.login_failed") == []
    assert "_auth_user_id" not in client.session


def test_logout_is_audited(client_for, tenant):
    client = client_for(tenant.staff, tenant.host)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    (event,) = events(tenant.agency, "auth.logout")
    assert event.actor_id == tenant.staff.pk


def test_password_reset_by_email_works_once_and_is_audited(
    client_for, tenant, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(None, tenant.host).post(
            "/accounts/password-reset/", {"email": tenant.requester.email}
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    # The link points at the platform's own domain, never at the agency host it came from.
    link = re.search(r"http://([^/]+)(/accounts/password-reset/\S+/)", message.body)
    assert link.group(1) == settings.PORTAL_BASE_DOMAIN
    platform = client_for(None, settings.PORTAL_BASE_DOMAIN)
    form_page = platform.get(link.group(2), follow=True)
    assert b"Choose a new password" in form_page.content
    new_password = "a-long-new-passphrase-2026"
    done = platform.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    tenant.requester.refresh_from_db()
    assert tenant.requester.check_password(new_password)
    assert [e.action for e in events(tenant.agency, "auth.password_reset_requested")] == [
        "auth.password_reset_requested"
    ]
    with agency_context(None, platform=True):
        completed = AuditEvent.objects.get(
            agency__isnull=True, action="auth.password_reset_completed"
        )
    assert completed.actor_id == tenant.requester.pk
    reused = platform.get(link.group(2), follow=True)
    assert b"This link no longer works" in reused.content


def test_password_reset_mail_leaves_only_after_the_transaction_commits(
    client_for, tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(None, tenant.host).post(
            "/accounts/password-reset/", {"email": tenant.requester.email}
        )
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(client_for, tenant):
    response = client_for(None, tenant.host).post(
        "/accounts/password-reset/", {"email": "nobody@nowhere.test"}
    )
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_refuses_a_short_password(
    client_for, tenant, settings, django_capture_on_commit_callbacks
):
    client = client_for(None, settings.PORTAL_BASE_DOMAIN)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": tenant.requester.email})
    link = re.search(r"http://[^/]+(/accounts/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "short", "new_password2": "short"}
    )
    assert response.status_code == 200
    assert b"too short" in response.content


def test_every_authenticated_page_access_is_audited_once_with_its_view(client_for, tenant):
    client = client_for(tenant.admin, tenant.host)
    assert client.get("/staff/users/").status_code == 200
    (event,) = events(tenant.agency, "page.view")
    assert event.actor_id == tenant.admin.pk
    assert event.details == {
        "view": "staff:member_list",
        "method": "GET",
        "path": "/staff/users/",
        "status": 200,
    }


def test_denied_and_missing_pages_are_audited_too(client_for, tenant):
    client = client_for(tenant.staff, tenant.host)
    assert client.get("/staff/users/").status_code == 403
    assert client.get("/staff/users/999999/").status_code == 403
    statuses = [e.details["status"] for e in events(tenant.agency, "page.view")]
    assert statuses == [403, 403]


def test_anonymous_page_views_are_not_recorded_as_access(client_for, tenant):
    client_for(None, tenant.host).get("/")
    assert events(tenant.agency, "page.view") == []


def test_an_access_event_lands_in_the_agency_of_the_host_only(client_for, tenant, other_tenant):
    client_for(tenant.requester, tenant.host).get("/")
    assert len(events(tenant.agency, "page.view")) == 1
    assert events(other_tenant.agency, "page.view") == []


def test_a_login_on_the_platform_domain_goes_to_the_platform_chain(settings, tenant):
    from django.test import Client

    from audit.chain import verify_chain

    client = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)
    client.post("/accounts/login/", {"username": tenant.staff.email, "password": "wrong-one"})
    with agency_context(None, platform=True):
        (event,) = AuditEvent.objects.filter(agency__isnull=True, action="auth.login_failed")
        assert verify_chain(None).ok
    assert events(tenant.agency, "auth.login_failed") == []
    assert event.details == {"email": tenant.staff.email}


def test_a_signed_in_user_sent_back_to_the_login_page_is_redirected_not_failed(client_for, tenant):
    response = client_for(tenant.staff, tenant.host).get("/accounts/login/?next=/accounts/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_unknown_audit_filter_shows_all_events_instead_of_failing(client_for, tenant):
    client = client_for(tenant.admin, tenant.host)
    for value in ("%00", "no.such.event", "<script>"):
        response = client.get(f"/staff/audit/?action={value}")
        assert response.status_code == 200


def test_a_nul_in_the_path_is_audited_not_a_500(client_for, tenant):
    response = client_for(tenant.admin, tenant.host).get("/staff/users%00/")
    assert response.status_code == 404
    (event,) = events(tenant.agency, "page.view")
    assert "\x00" not in event.details["path"]


def test_passwords_are_hashed_with_argon2id_and_old_hashes_upgrade_on_login(client_for, tenant):
    from django.conf import settings

    assert settings.PASSWORD_HASHERS[0] == "accounts.hashers.PortalArgon2PasswordHasher"
    assert tenant.staff.password.startswith("pbkdf2_sha256$")  # as the factory stored it
    client_for(None, tenant.host).post(
        "/accounts/login/", {"username": tenant.staff.email, "password": TEST_PASSWORD}
    )
    tenant.staff.refresh_from_db()
    assert tenant.staff.password.startswith("argon2$argon2id$")
