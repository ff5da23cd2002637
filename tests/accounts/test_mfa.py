"""Two-factor sign-in: enrolment, the code step of signing in, recovery codes, the agency's
policy on every staff page, step-up, re-authentication, and the audit trail of each."""

from __future__ import annotations

import re
import time
from io import StringIO
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCode, Role, SealedTOTPDevice
from accounts.signin import flow, mfa
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from tests.accounts.identity_helpers import (
    account_client,
    add_authenticator,
    code_for,
    prove_account,
    sign_in,
    text,
)
from tests.accounts.route_matrix import STAFF_ROUTES, url_for, visit_route
from tests.factories import TEST_PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


def enrol(user) -> SealedTOTPDevice:
    return add_authenticator(user)


def events(agency, action: str) -> list[AuditEvent]:
    with agency_context(agency):
        return list(AuditEvent.objects.filter(agency=agency, action=action).order_by("id"))


def signed_in_user_id(client: Client):
    return client.session.get("_auth_user_id")


@pytest.fixture
def staff_client(tenant):
    return Client(HTTP_HOST=tenant.host)


# --- The code step of signing in -------------------------------------------------------------


def test_a_user_with_two_factor_is_not_signed_in_by_the_password_alone(tenant, staff_client):
    enrol(tenant.staff)
    response = sign_in(staff_client, tenant.staff.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:mfa_verify")
    assert signed_in_user_id(staff_client) is None
    # The staff area is still closed.
    assert staff_client.get(reverse("staff:request_queue")).status_code == 302


def test_the_right_code_signs_in_and_is_audited(tenant, staff_client):
    device = enrol(tenant.staff)
    sign_in(staff_client, tenant.staff.email)
    response = staff_client.post(reverse("accounts:mfa_verify"), {"code": code_for(device)})
    assert response.status_code == 302
    assert signed_in_user_id(staff_client) == str(tenant.staff.pk)
    assert staff_client.get(reverse("staff:request_queue")).status_code == 200
    (verified,) = events(tenant.agency, "mfa.verified")
    assert verified.actor_id == tenant.staff.pk
    assert verified.details["method"] == "totp"
    (login,) = events(tenant.agency, "auth.login")
    assert login.details["method"] == "password"


def test_a_wrong_code_is_refused_clearly_audited_and_signs_nobody_in(tenant, staff_client):
    device = enrol(tenant.staff)
    sign_in(staff_client, tenant.staff.email)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = staff_client.post(reverse("accounts:mfa_verify"), {"code": wrong})
    assert response.status_code == 200
    assert "didn't work" in text(response)
    assert signed_in_user_id(staff_client) is None
    (failed,) = events(tenant.agency, "mfa.failed")
    assert failed.actor_id == tenant.staff.pk
    assert wrong not in str(failed.details)


def test_a_code_already_used_cannot_sign_in_again(tenant):
    device = enrol(tenant.staff)
    code = code_for(device)
    first, second = Client(HTTP_HOST=tenant.host), Client(HTTP_HOST=tenant.host)
    sign_in(first, tenant.staff.email)
    first.post(reverse("accounts:mfa_verify"), {"code": code})
    assert signed_in_user_id(first) == str(tenant.staff.pk)

    sign_in(second, tenant.staff.email)
    response = second.post(reverse("accounts:mfa_verify"), {"code": code})
    assert signed_in_user_id(second) is None
    assert response.status_code == 200


def test_repeated_wrong_codes_slow_the_device_down(tenant, staff_client):
    device = enrol(tenant.staff)
    sign_in(staff_client, tenant.staff.email)
    for _ in range(3):
        staff_client.post(reverse("accounts:mfa_verify"), {"code": "000000"})
    # Even the right code waits out django-otp's back-off (1, 2, 4 ... seconds).
    response = staff_client.post(reverse("accounts:mfa_verify"), {"code": code_for(device)})
    assert signed_in_user_id(staff_client) is None
    assert "didn't work" in text(response)


def test_the_code_step_expires(tenant, staff_client):
    device = enrol(tenant.staff)
    sign_in(staff_client, tenant.staff.email)
    session = staff_client.session
    session[flow.PENDING]["at"] -= flow.PENDING_SECONDS + 1
    session.save()
    response = staff_client.post(reverse("accounts:mfa_verify"), {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert signed_in_user_id(staff_client) is None


def test_the_code_page_without_a_password_step_sends_you_to_sign_in(tenant, staff_client):
    response = staff_client.get(reverse("accounts:mfa_verify"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


# --- Recovery codes --------------------------------------------------------------------------


def test_recovery_codes_are_stored_hashed_and_each_works_once(tenant):
    enrol(tenant.staff)
    codes = mfa.replace_recovery_codes(tenant.staff)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=tenant.staff).values_list("digest", flat=True))
    assert not any(
        code in digest or code.replace("-", "") in digest for code in codes for digest in stored
    )

    client = Client(HTTP_HOST=tenant.host)
    sign_in(client, tenant.staff.email)
    client.post(reverse("accounts:mfa_verify"), {"code": codes[0].upper()})
    assert signed_in_user_id(client) == str(tenant.staff.pk)
    (verified,) = events(tenant.agency, "mfa.verified")
    assert verified.details == {"method": "recovery", "recovery_codes_left": 9}

    again = Client(HTTP_HOST=tenant.host)
    sign_in(again, tenant.staff.email)
    again.post(reverse("accounts:mfa_verify"), {"code": codes[0]})
    assert signed_in_user_id(again) is None


def test_a_recovery_code_works_while_wrong_codes_have_slowed_the_authenticator_down(
    tenant, staff_client
):
    # Someone who knows the password types wrong codes to keep the owner, who lost their
    # phone, out: the back-off stops authenticator codes, never the recovery codes.
    device = enrol(tenant.staff)
    codes = mfa.replace_recovery_codes(tenant.staff)
    attacker = Client(HTTP_HOST=tenant.host)
    sign_in(attacker, tenant.staff.email)
    for _ in range(3):
        attacker.post(reverse("accounts:mfa_verify"), {"code": "000000"})
    device.refresh_from_db()
    assert mfa.throttle_wait_seconds(device) > 0

    sign_in(staff_client, tenant.staff.email)
    response = staff_client.post(reverse("accounts:mfa_verify"), {"code": codes[0]})

    assert response.status_code == 302
    assert signed_in_user_id(staff_client) == str(tenant.staff.pk)
    (verified,) = events(tenant.agency, "mfa.verified")
    assert verified.details["method"] == "recovery"


def test_new_recovery_codes_replace_the_old_ones(tenant):
    old = mfa.replace_recovery_codes(tenant.staff)
    new = mfa.replace_recovery_codes(tenant.staff)
    assert not mfa.use_recovery_code(tenant.staff, old[0])
    assert mfa.use_recovery_code(tenant.staff, new[0])


# --- Enrolment -------------------------------------------------------------------------------


def pending_device(client, user) -> SealedTOTPDevice:
    """The authenticator being set up: its secret waits in the session (sealed), not in a
    device row."""
    secret = mfa.pending_secret(client.session, user)
    assert secret is not None
    return SealedTOTPDevice.unsaved(user=user, name="pending", secret=secret, confirmed=False)


def test_the_qr_code_is_only_svg_shapes_whatever_the_url_holds(monkeypatch):
    # The setup page embeds this SVG unescaped; text in the otpauth URL (an email, an agency
    # name) must never come through as markup.
    hostile = 'otpauth://totp/"><script>alert(1)</script><a href="javascript:x">?secret=AAAA'
    monkeypatch.setattr(TOTPDevice, "config_url", property(lambda device: hostile))
    svg = mfa.qr_svg(TOTPDevice(key="00" * 20))

    root = ElementTree.fromstring(svg)  # noqa: S314 (our own output, no DTD)
    elements = list(root.iter())
    assert {element.tag.rsplit("}", 1)[-1] for element in elements} == {"svg", "path"}
    attributes = {name.rsplit("}", 1)[-1] for element in elements for name in element.attrib}
    assert not {name for name in attributes if name.startswith("on") or name == "href"}
    assert "script" not in svg and "javascript" not in svg and "alert" not in svg


def test_enrolment_shows_a_qr_code_and_a_manual_key_and_confirms_with_a_code(tenant, client_for):
    client = client_for(tenant.requester, tenant.host, second_factor=False)
    prove_account(client)
    page = client.get(reverse("accounts:mfa_setup"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    pending = pending_device(client, tenant.requester)
    assert mfa.manual_key(pending) in body
    # Opening the page again shows the same key (the phone may already have scanned it).
    assert mfa.manual_key(pending) in client.get(reverse("accounts:mfa_setup")).content.decode()

    response = client.post(reverse("accounts:mfa_setup"), {"code": code_for(pending)})
    assert response.status_code == 200
    codes = re.findall(
        r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", response.content.decode()
    )
    assert len(set(codes)) == 10
    assert response["Cache-Control"] == "no-store"
    (device,) = SealedTOTPDevice.objects.filter(user=tenant.requester)
    assert device.confirmed and device.bin_key == pending.bin_key
    assert mfa.has_second_factor(tenant.requester)
    assert client.session[mfa.SESSION_MFA_METHOD] == "totp"
    assert mfa.SESSION_PENDING_KEY not in client.session
    assert all(mfa.use_recovery_code(tenant.requester, c) for c in codes[:1])
    # The code that confirmed the app cannot sign in a second time.
    assert not mfa.verify_totp(device, code_for(pending))


def test_opening_the_set_up_page_stores_no_authenticator_until_a_right_code(tenant, client_for):
    client = account_client(client_for, tenant.requester, tenant.host)

    for _ in range(3):
        assert client.get(reverse("accounts:mfa_setup")).status_code == 200

    assert not TOTPDevice.objects.filter(user=tenant.requester).exists()
    wrong = client.post(reverse("accounts:mfa_setup"), {"code": "123456"})
    assert wrong.status_code == 200
    assert not TOTPDevice.objects.filter(user=tenant.requester).exists()


def test_enrolment_with_a_wrong_code_does_not_turn_two_factor_on(tenant, client_for):
    client = account_client(client_for, tenant.requester, tenant.host)
    client.get(reverse("accounts:mfa_setup"))
    response = client.post(reverse("accounts:mfa_setup"), {"code": "123456"})
    assert response.status_code == 200
    assert not mfa.has_second_factor(tenant.requester)


def test_changing_two_factor_needs_a_recent_sign_in(tenant, client_for):
    enrol(tenant.staff)
    client = client_for(tenant.staff, tenant.host)
    session = client.session
    session[flow.REAUTH_AT] = int(time.time()) - 3600
    session.save()
    for name in ("accounts:mfa_disable", "accounts:mfa_recovery_codes"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:reauthenticate"))


def test_re_authentication_with_a_password_opens_the_sensitive_page(tenant, client_for):
    client = client_for(tenant.requester, tenant.host, second_factor=False)
    target = reverse("accounts:mfa_setup")
    response = client.post(
        f"{reverse('accounts:reauthenticate')}?next={target}", {"password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == target
    assert client.get(target).status_code == 200


def test_a_wrong_password_at_re_authentication_is_refused_and_audited(tenant, client_for):
    client = client_for(tenant.staff, tenant.host, second_factor=False)
    response = client.post(reverse("accounts:reauthenticate"), {"password": "not it at all"})
    assert response.status_code == 200
    assert "didn't match" in text(response)
    assert events(tenant.agency, "auth.reauth_failed")
    setup = client.get(reverse("accounts:mfa_setup"))
    assert setup["Location"].startswith(reverse("accounts:reauthenticate"))


def test_turning_two_factor_off_is_refused_where_the_agency_requires_it(tenant, client_for):
    enrol(tenant.admin)
    client = account_client(client_for, tenant.admin, tenant.host)
    response = client.post(reverse("accounts:mfa_disable"))
    assert response.status_code == 200
    assert tenant.agency.name in response.content.decode()
    assert mfa.has_second_factor(tenant.admin)


def test_turning_two_factor_off_where_nothing_requires_it(tenant, client_for):
    enrol(tenant.requester)
    mfa.replace_recovery_codes(tenant.requester)
    client = account_client(client_for, tenant.requester, tenant.host)
    response = client.post(reverse("accounts:mfa_disable"))
    assert response.status_code == 302
    assert not mfa.has_second_factor(tenant.requester)
    assert not RecoveryCode.objects.filter(user=tenant.requester).exists()
    assert events(tenant.agency, "mfa.disabled")


# --- The agency's policy on staff pages -------------------------------------------------------


def test_an_admin_without_two_factor_is_sent_to_set_it_up_after_signing_in(tenant):
    client = Client(HTTP_HOST=tenant.host)
    response = sign_in(client, tenant.admin.email)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_setup"))


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.label)
def test_every_staff_page_sends_an_admin_without_two_factor_to_set_it_up(route, tenant, client_for):
    client = client_for(tenant.admin, tenant.host, second_factor=False)
    response = visit_route(client, route, url_for(route, tenant, tenant.admin))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_setup"))


def test_an_admin_with_a_device_but_an_unverified_session_is_asked_for_a_code(tenant, client_for):
    device = enrol(tenant.admin)
    client = client_for(tenant.admin, tenant.host, second_factor=False)
    response = client.get(reverse("staff:member_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_step_up"))
    response = client.post(response["Location"], {"code": code_for(device)})
    assert response.status_code == 302
    assert client.get(reverse("staff:member_list")).status_code == 200


def test_staff_pass_without_two_factor_until_the_agency_requires_it_for_all_staff(
    tenant, client_for
):
    client = client_for(tenant.staff, tenant.host, second_factor=False)
    assert client.get(reverse("staff:request_queue")).status_code == 200
    tenant.agency.mfa_required_for_staff = True
    tenant.agency.save()
    response = client.get(reverse("staff:request_queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_setup"))


def test_an_agency_may_let_admins_in_without_two_factor(tenant, client_for):
    tenant.agency.mfa_required_for_admins = False
    tenant.agency.save()
    client = client_for(tenant.admin, tenant.host, second_factor=False)
    assert client.get(reverse("staff:member_list")).status_code == 200


def test_an_admin_can_require_two_factor_for_all_staff_in_the_browser(tenant, client_for):
    client = client_for(tenant.admin, tenant.host)
    page = client.get(reverse("staff:signin_settings"))
    assert page.status_code == 200
    response = client.post(
        reverse("staff:signin_settings"),
        {
            "mfa_required_for_admins": "on",
            "mfa_required_for_staff": "on",
            "staff_password_login": "on",
            "sso_counts_as_mfa": "on",
            "staff_idle_minutes": "30",
            "staff_session_hours": "12",
        },
    )
    assert response.status_code == 302
    tenant.agency.refresh_from_db()
    assert tenant.agency.mfa_required_for_staff
    (changed,) = events(tenant.agency, "agency.signin_policy_changed")
    assert changed.details["changes"]["mfa_required_for_staff"] == {"from": False, "to": True}


# --- A password reset never skips two-factor ---------------------------------------------------


def test_a_password_reset_does_not_sign_in_or_skip_the_code(
    tenant, settings, mailoutbox, django_capture_on_commit_callbacks
):
    enrol(tenant.staff)
    platform = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)
    with django_capture_on_commit_callbacks(execute=True):
        platform.post(reverse("accounts:password_reset"), {"email": tenant.staff.email})
    (mail,) = mailoutbox
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.body).group(1)
    form_page = platform.get(link, follow=True)
    new_password = "a quiet river at dawn 42"
    response = platform.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert signed_in_user_id(platform) is None

    agency_client = Client(HTTP_HOST=tenant.host)
    response = sign_in(agency_client, tenant.staff.email, new_password)
    assert response["Location"] == reverse("accounts:mfa_verify")
    assert signed_in_user_id(agency_client) is None


# --- An admin's reset of someone's two-factor ---------------------------------------------------


def test_an_admin_resets_a_members_two_factor_and_it_is_audited(tenant, client_for):
    enrol(tenant.staff)
    mfa.replace_recovery_codes(tenant.staff)
    with agency_context(tenant.agency):
        membership = tenant.staff.memberships.get(agency=tenant.agency)
    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:member_mfa_reset", kwargs={"membership_id": membership.pk})
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not mfa.has_second_factor(tenant.staff)
    (reset,) = events(tenant.agency, "mfa.reset")
    assert reset.details["email"] == tenant.staff.email


def test_an_admin_cannot_reset_two_factor_of_someone_who_also_works_for_another_agency(
    tenant, other_tenant, client_for
):
    # The authenticator protects the whole account: agency A's admin must not strip the
    # two-factor that guards this person's admin role at agency B.
    enrol(tenant.staff)
    mfa.replace_recovery_codes(tenant.staff)
    with agency_context(other_tenant.agency):
        MembershipFactory(agency=other_tenant.agency, user=tenant.staff, role=Role.ADMIN)
    with agency_context(tenant.agency):
        membership = tenant.staff.memberships.get(agency=tenant.agency)
    client = client_for(tenant.admin, tenant.host)
    url = reverse("staff:member_mfa_reset", kwargs={"membership_id": membership.pk})

    response = client.post(url, follow=True)

    assert response.status_code == 200
    page = text(response)
    assert "also works for another agency" in page
    assert "recovery codes" in page and "platform support" in page
    assert mfa.has_second_factor(tenant.staff)
    assert mfa.recovery_codes_left(tenant.staff) == 10
    assert events(tenant.agency, "mfa.reset") == []


def test_an_admin_may_reset_two_factor_once_the_other_agency_deactivated_the_person(
    tenant, other_tenant, client_for
):
    enrol(tenant.staff)
    with agency_context(other_tenant.agency):
        MembershipFactory(
            agency=other_tenant.agency, user=tenant.staff, role=Role.STAFF, is_active=False
        )
    with agency_context(tenant.agency):
        membership = tenant.staff.memberships.get(agency=tenant.agency)
    client = client_for(tenant.admin, tenant.host)

    response = client.post(
        reverse("staff:member_mfa_reset", kwargs={"membership_id": membership.pk})
    )

    assert response.status_code == 302
    assert not mfa.has_second_factor(tenant.staff)
    assert len(events(tenant.agency, "mfa.reset")) == 1


def test_platform_support_resets_two_factor_of_someone_who_works_for_two_agencies(
    tenant, other_tenant
):
    enrol(tenant.staff)
    mfa.replace_recovery_codes(tenant.staff)
    with agency_context(other_tenant.agency):
        MembershipFactory(agency=other_tenant.agency, user=tenant.staff, role=Role.ADMIN)
    output = StringIO()

    call_command(
        "mfa_reset", tenant.staff.email, reason="ticket 42, identity checked", stdout=output
    )

    assert "reset for" in output.getvalue()
    assert not mfa.has_second_factor(tenant.staff)
    assert mfa.recovery_codes_left(tenant.staff) == 0
    with agency_context(None, platform=True):
        (event,) = AuditEvent.objects.filter(agency=None, action="mfa.reset")
    assert event.details["by"] == "platform support"
    assert event.details["reason"] == "ticket 42, identity checked"
