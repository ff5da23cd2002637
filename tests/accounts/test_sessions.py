"""Signed-in sessions: idle and absolute limits, the list a person sees of their own, ending
one or all of them, and what an admin, a deactivation, a password change or a reset ends."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, UserSession
from accounts.signin import sessions
from accounts.tenancy import agency_context
from tests.accounts.identity_helpers import (
    events,
    link_path,
    quick_password,
    sessions_of,
    sign_in,
    signed_in_user_id,
)
from tests.factories import TEST_PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db

STAFF_HOME = reverse("staff:staff_dashboard")
SECURITY = reverse("accounts:security")
LOGIN = reverse("accounts:login")
NEW_PASSWORD = "quartz-lantern-pivot-8812"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def browser(host: str, name: str) -> Client:
    """A browser of its own: its own cookies, user agent and address."""
    return Client(HTTP_HOST=host, HTTP_USER_AGENT=f"{name} test browser", REMOTE_ADDR="192.0.2.10")


def signed_in(user, host: str, name: str = "Firefox") -> Client:
    """A browser that signed in for real through the sign-in page."""
    client = browser(host, name)
    response = sign_in(client, user.email)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return client


def age_session(client, *, idle_seconds: int = 0, signed_in_seconds_ago: int | None = None):
    """Pretend the browser has been away ``idle_seconds`` (and signed in that long ago)."""
    now = int(time.time())
    session = client.session
    session[sessions.SESSION_LAST_SEEN] = now - idle_seconds
    if signed_in_seconds_ago is not None:
        session[sessions.SESSION_AUTH_AT] = now - signed_in_seconds_ago
    session.save()


def is_sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def row_for(client, agency) -> UserSession:
    with agency_context(agency, platform=agency is None):
        return UserSession.objects.get(session_key=client.session.session_key)


def membership_of(user, agency) -> Membership:
    with agency_context(agency):
        return Membership.objects.get(agency=agency, user=user)


# --- Timeouts ----------------------------------------------------------------------------------


def test_staff_idle_longer_than_their_agencys_limit_are_signed_out_on_the_next_request(
    client_for, tenant
):
    client = client_for(tenant.staff, tenant.host)
    assert client.get(STAFF_HOME).status_code == 200
    row = row_for(client, tenant.agency)
    age_session(client, idle_seconds=tenant.agency.staff_idle_minutes * 60 + 5)

    response = client.get(STAFF_HOME)

    assert is_sent_to_sign_in(response)
    assert response["Location"] == f"{LOGIN}?next={STAFF_HOME}"
    login_page = client.get(response["Location"])
    assert "signed out because you were away for a while" in login_page.content.decode()
    assert signed_in_user_id(client) is None
    (expired,) = events(tenant.agency, "session.expired")
    assert expired.actor_id == tenant.staff.pk
    assert expired.details == {"reason": "idle timeout"}
    (ended,) = sessions_of(tenant.staff, tenant.agency, live=False)
    assert ended.pk == row.pk
    assert ended.ended_at is not None and ended.end_reason == "expired (idle)"
    assert events(tenant.agency, "auth.logout") == []


def test_staff_active_just_inside_the_idle_limit_stay_signed_in(client_for, tenant):
    client = client_for(tenant.staff, tenant.host)
    client.get(STAFF_HOME)
    age_session(client, idle_seconds=tenant.agency.staff_idle_minutes * 60 - 30)

    assert client.get(STAFF_HOME).status_code == 200
    assert events(tenant.agency, "session.expired") == []


def test_residents_get_the_longer_resident_idle_limit(client_for, tenant):
    staff_idle = tenant.agency.staff_idle_minutes * 60
    assert staff_idle + 60 < settings.RESIDENT_SESSION_IDLE_SECONDS
    client = client_for(tenant.requester, tenant.host)
    client.get(SECURITY)

    age_session(client, idle_seconds=staff_idle + 60)
    assert client.get(SECURITY).status_code == 200
    age_session(client, idle_seconds=settings.RESIDENT_SESSION_IDLE_SECONDS + 5)
    response = client.get(SECURITY)

    assert is_sent_to_sign_in(response)
    (expired,) = events(tenant.agency, "session.expired")
    assert expired.actor_id == tenant.requester.pk


def test_the_agencys_idle_minutes_decide_the_staff_limit(client_for, tenant):
    agency = tenant.agency
    agency.staff_idle_minutes = 60
    agency.save(update_fields=["staff_idle_minutes"])
    longer = client_for(tenant.staff, tenant.host)
    longer.get(STAFF_HOME)
    age_session(longer, idle_seconds=45 * 60)
    assert longer.get(STAFF_HOME).status_code == 200

    agency.staff_idle_minutes = 10
    agency.save(update_fields=["staff_idle_minutes"])
    shorter = client_for(tenant.publisher, tenant.host)
    shorter.get(STAFF_HOME)
    age_session(shorter, idle_seconds=11 * 60)
    assert is_sent_to_sign_in(shorter.get(STAFF_HOME))


def test_staff_are_signed_out_when_the_session_outlives_the_agencys_hours(client_for, tenant):
    hours = tenant.agency.staff_session_hours
    client = client_for(tenant.staff, tenant.host)
    client.get(STAFF_HOME)
    age_session(client, idle_seconds=10, signed_in_seconds_ago=hours * 3600 + 5)

    response = client.get(STAFF_HOME)

    assert is_sent_to_sign_in(response)
    assert "reached its time limit" in client.get(response["Location"]).content.decode()
    (expired,) = events(tenant.agency, "session.expired")
    assert expired.details == {"reason": "time limit"}
    (ended,) = sessions_of(tenant.staff, tenant.agency, live=False)
    assert ended.end_reason == "expired (max)"


def test_a_shorter_agency_session_length_applies_to_its_staff(client_for, tenant):
    tenant.agency.staff_session_hours = 1
    tenant.agency.save(update_fields=["staff_session_hours"])
    within = client_for(tenant.staff, tenant.host)
    within.get(STAFF_HOME)
    age_session(within, signed_in_seconds_ago=59 * 60)
    beyond = client_for(tenant.publisher, tenant.host)
    beyond.get(STAFF_HOME)
    age_session(beyond, signed_in_seconds_ago=61 * 60)

    assert within.get(STAFF_HOME).status_code == 200
    assert is_sent_to_sign_in(beyond.get(STAFF_HOME))


# --- The list of one's sessions ----------------------------------------------------------------


def test_a_real_sign_in_is_listed_with_its_address_browser_and_method(tenant):
    quick_password(tenant.staff)
    client = browser(tenant.host, "Firefox")

    sign_in(client, tenant.staff.email, REMOTE_ADDR="192.0.2.44")

    (row,) = sessions_of(tenant.staff, tenant.agency)
    assert row.session_key == client.session.session_key
    assert row.ip == "192.0.2.44"
    assert row.user_agent == "Firefox test browser"
    assert row.method == "password"
    page = client.get(SECURITY).content.decode()
    assert page.count("<strong>This browser</strong>") == 1
    assert "Firefox test browser" in page and "192.0.2.44" in page


def test_two_sign_ins_are_two_sessions_and_ending_the_other_signs_that_browser_out(tenant):
    quick_password(tenant.staff)
    laptop = signed_in(tenant.staff, tenant.host, "Laptop")
    phone = signed_in(tenant.staff, tenant.host, "Phone")
    rows = sessions_of(tenant.staff, tenant.agency)
    assert len(rows) == 2
    phone_row = row_for(phone, tenant.agency)
    page = laptop.get(SECURITY).content.decode()
    assert "Laptop test browser" in page and "Phone test browser" in page
    assert page.count("<strong>This browser</strong>") == 1
    assert reverse("accounts:session_end", args=[phone_row.pk]) in page

    response = laptop.post(reverse("accounts:session_end", args=[phone_row.pk]))

    assert response.status_code == 302 and response["Location"] == SECURITY
    assert is_sent_to_sign_in(phone.get(STAFF_HOME))
    assert laptop.get(STAFF_HOME).status_code == 200
    (live,) = sessions_of(tenant.staff, tenant.agency)
    assert live.session_key == laptop.session.session_key
    ended = [r for r in sessions_of(tenant.staff, tenant.agency, live=False) if r.ended_at]
    assert [(r.pk, r.end_reason) for r in ended] == [(phone_row.pk, "ended by its owner")]
    (event,) = events(tenant.agency, "session.ended")
    assert event.actor_id == tenant.staff.pk
    assert event.details == {"email": tenant.staff.email, "session": phone_row.pk}


def test_signing_out_everywhere_else_keeps_only_this_browser(tenant):
    quick_password(tenant.staff)
    here = signed_in(tenant.staff, tenant.host, "Desk")
    others = [signed_in(tenant.staff, tenant.host, name) for name in ("Phone", "Tablet")]

    response = here.post(reverse("accounts:sessions_end_others"))

    assert response.status_code == 302
    assert here.get(STAFF_HOME).status_code == 200
    assert all(is_sent_to_sign_in(other.get(STAFF_HOME)) for other in others)
    (live,) = sessions_of(tenant.staff, tenant.agency)
    assert live.session_key == here.session.session_key
    (event,) = events(tenant.agency, "session.ended_all")
    assert event.actor_id == tenant.staff.pk
    assert event.details == {"email": tenant.staff.email, "count": 2}


def test_nobody_can_end_another_persons_session(client_for, tenant):
    quick_password(tenant.staff)
    victim = signed_in(tenant.staff, tenant.host)
    victim_row = row_for(victim, tenant.agency)
    intruder = client_for(tenant.publisher, tenant.host)

    response = intruder.post(reverse("accounts:session_end", args=[victim_row.pk]))

    assert response.status_code == 404
    assert victim.get(STAFF_HOME).status_code == 200
    assert [r.pk for r in sessions_of(tenant.staff, tenant.agency)] == [victim_row.pk]
    assert events(tenant.agency, "session.ended") == []


# --- What an admin ends ------------------------------------------------------------------------


def test_an_admin_ends_a_members_sessions_and_their_browsers_are_signed_out(client_for, tenant):
    quick_password(tenant.staff)
    browsers = [signed_in(tenant.staff, tenant.host, name) for name in ("Desk", "Phone")]
    member = membership_of(tenant.staff, tenant.agency)
    admin = client_for(tenant.admin, tenant.host)

    response = admin.post(reverse("staff:member_sessions_end", args=[member.pk]))

    assert response.status_code == 302
    assert all(is_sent_to_sign_in(b.get(STAFF_HOME)) for b in browsers)
    assert sessions_of(tenant.staff, tenant.agency) == []
    (event,) = events(tenant.agency, "session.ended_all")
    assert event.actor_id == tenant.admin.pk
    assert event.details == {"email": tenant.staff.email, "count": 2}
    assert event.target_id == str(member.pk)


def test_deactivation_signs_the_member_out_at_once_and_a_fresh_sign_in_gets_no_staff_area(
    client_for, tenant
):
    quick_password(tenant.staff)
    before = signed_in(tenant.staff, tenant.host)
    member = membership_of(tenant.staff, tenant.agency)

    response = client_for(tenant.admin, tenant.host).post(
        reverse("staff:member_deactivate", args=[member.pk])
    )

    assert response.status_code == 302
    assert is_sent_to_sign_in(before.get(STAFF_HOME))
    (ended,) = sessions_of(tenant.staff, tenant.agency, live=False)
    assert ended.end_reason == "deactivated"
    (event,) = events(tenant.agency, "users.deactivated")
    assert event.actor_id == tenant.admin.pk
    assert event.details == {"email": tenant.staff.email, "sessions_ended": 1}
    after = signed_in(tenant.staff, tenant.host)
    assert after.get(STAFF_HOME).status_code == 404
    assert after.get(reverse("staff:request_queue")).status_code == 404
    assert after.get(SECURITY).status_code == 200  # still a member of the public here


# --- Passwords ---------------------------------------------------------------------------------


def test_changing_the_password_keeps_this_session_and_ends_the_others(tenant):
    quick_password(tenant.staff)
    here = signed_in(tenant.staff, tenant.host, "Desk")
    other = signed_in(tenant.staff, tenant.host, "Phone")
    other_key = other.session.session_key
    here_row = row_for(here, tenant.agency)

    response = here.post(
        reverse("accounts:password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302 and response["Location"] == SECURITY
    page = here.get(SECURITY)
    assert page.status_code == 200
    assert "1 other session(s) were signed out" in page.content.decode()
    assert is_sent_to_sign_in(other.get(STAFF_HOME))
    assert not Session.objects.filter(session_key=other_key).exists()
    (live,) = sessions_of(tenant.staff, tenant.agency)
    # Still listed as the same session (sign-in time, method), under its new key.
    assert live.pk == here_row.pk
    assert live.session_key == here.session.session_key != here_row.session_key
    assert page.content.decode().count("<strong>This browser</strong>") == 1
    (event,) = events(tenant.agency, "auth.password_changed")
    assert event.actor_id == tenant.staff.pk
    assert event.details == {"other_sessions_ended": 1}


def test_a_password_reset_ends_every_session_on_every_host_and_signs_nobody_in(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    quick_password(tenant.staff)
    platform_host = settings.PORTAL_BASE_DOMAIN
    everywhere = [
        signed_in(tenant.staff, tenant.host, "Agency"),
        signed_in(tenant.staff, other_tenant.host, "Resident"),
        signed_in(tenant.staff, platform_host, "Platform"),
    ]
    keys = [b.session.session_key for b in everywhere]
    resetter = browser(platform_host, "Reset")

    with django_capture_on_commit_callbacks(execute=True):
        resetter.post(reverse("accounts:password_reset"), {"email": tenant.staff.email})
    (message,) = mail.outbox
    form_page = resetter.get(link_path(message), follow=True)
    done = resetter.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done.status_code == 302
    assert signed_in_user_id(resetter) is None
    assert is_sent_to_sign_in(everywhere[0].get(STAFF_HOME))
    assert all(signed_in_user_id(b) is None for b in everywhere)
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert sessions_of(tenant.staff, tenant.agency) == []
    assert sessions_of(tenant.staff, other_tenant.agency) == []
    assert sessions_of(tenant.staff, None) == []
    ended = sessions_of(tenant.staff, None, live=False)
    assert [r.end_reason for r in ended] == ["password reset"]
    (event,) = events(None, "auth.password_reset_completed")
    assert event.actor_id == tenant.staff.pk
    assert event.details == {"sessions_ended": 3}


# --- Between agencies --------------------------------------------------------------------------


def test_another_agencys_sessions_are_neither_visible_nor_ended_from_this_host(
    client_for, tenant, other_tenant
):
    quick_password(tenant.staff)
    with agency_context(other_tenant.agency):
        MembershipFactory(agency=other_tenant.agency, user=tenant.staff, role=Role.STAFF)
    at_alpha = signed_in(tenant.staff, tenant.host, "Alpha-desk")
    at_bravo = signed_in(tenant.staff, other_tenant.host, "Bravo-desk")
    bravo_member = membership_of(tenant.staff, other_tenant.agency)
    bravo_admin = client_for(other_tenant.admin, other_tenant.host)

    with agency_context(other_tenant.agency):
        seen_from_bravo = list(
            UserSession.objects.filter(user=tenant.staff).values_list("agency_id", flat=True)
        )
    member_page = bravo_admin.get(reverse("staff:member_detail", args=[bravo_member.pk]))
    ended = bravo_admin.post(reverse("staff:member_sessions_end", args=[bravo_member.pk]))

    assert seen_from_bravo == [other_tenant.agency.pk]
    assert "Bravo-desk" in member_page.content.decode()
    assert "Alpha-desk" not in member_page.content.decode()
    assert ended.status_code == 302
    assert is_sent_to_sign_in(at_bravo.get(STAFF_HOME))
    assert at_alpha.get(STAFF_HOME).status_code == 200
    assert len(sessions_of(tenant.staff, tenant.agency)) == 1
    (event,) = events(other_tenant.agency, "session.ended_all")
    assert event.details["count"] == 1
    assert events(tenant.agency, "session.ended_all") == []
