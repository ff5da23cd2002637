"""Lockout after repeated sign-in failures (django-axes on username + IP together): who is
locked, what they see, how long it lasts, and who can lift it."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from accounts.signin import lockout
from accounts.tenancy import agency_context
from tests.accounts.identity_helpers import (
    events,
    page_body,
    quick_password,
    sign_in,
    signed_in_user_id,
)
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER_IP = "203.0.113.66"
OTHER_IP = "198.51.100.20"
WRONG = "not-the-password-at-all"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def lock_out(client, email: str, ip: str = ATTACKER_IP):
    """Fail the sign-in as often as the limit allows; returns the last answer."""
    from django.conf import settings

    responses = [
        sign_in(client, email, WRONG, REMOTE_ADDR=ip) for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [r.status_code for r in responses[:-1]] == [200] * (len(responses) - 1)
    return responses[-1]


def rewind(minutes: float) -> None:
    """Move every recorded failure back in time, as if the minutes had passed."""
    delta = timedelta(minutes=minutes)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - delta)


def membership_of(user, agency) -> Membership:
    with agency_context(agency):
        return Membership.objects.get(agency=agency, user=user)


# --- Locking -----------------------------------------------------------------------------------


def test_after_the_failure_limit_even_the_right_password_gets_the_lockout_page(tenant):
    quick_password(tenant.staff)
    client = Client(HTTP_HOST=tenant.host)

    fifth = lock_out(client, tenant.staff.email)
    right = sign_in(client, tenant.staff.email, REMOTE_ADDR=ATTACKER_IP)

    assert fifth.status_code == right.status_code == 429
    body = right.content.decode()
    assert "Sign-in is paused" in body
    assert "Try again in about 5 minutes" in body
    assert "Traceback" not in body and "Axes" not in body
    assert right["Content-Type"].startswith("text/html")
    assert signed_in_user_id(client) is None
    lockouts = events(tenant.agency, "auth.lockout")
    assert lockouts, "no auth.lockout event"
    assert {e.details["email"] for e in lockouts} == {tenant.staff.email}
    assert all(e.ip == ATTACKER_IP and e.actor_id is None for e in lockouts)


def test_the_owner_elsewhere_and_colleagues_behind_the_locked_address_still_sign_in(tenant):
    quick_password(tenant.staff)
    quick_password(tenant.publisher)
    lock_out(Client(HTTP_HOST=tenant.host), tenant.staff.email)

    owner_elsewhere = Client(HTTP_HOST=tenant.host)
    colleague_same_office = Client(HTTP_HOST=tenant.host)
    owner_response = sign_in(owner_elsewhere, tenant.staff.email, REMOTE_ADDR=OTHER_IP)
    colleague_response = sign_in(
        colleague_same_office, tenant.publisher.email, REMOTE_ADDR=ATTACKER_IP
    )

    assert owner_response.status_code == colleague_response.status_code == 302
    assert signed_in_user_id(owner_elsewhere) == tenant.staff.pk
    assert signed_in_user_id(colleague_same_office) == tenant.publisher.pk


def test_an_unknown_email_is_locked_out_with_exactly_the_same_page(tenant):
    quick_password(tenant.staff)
    known = Client(HTTP_HOST=tenant.host)
    unknown = Client(HTTP_HOST=tenant.host)

    known_last = lock_out(known, tenant.staff.email)
    unknown_last = lock_out(unknown, "nobody-here@alpha.test")
    known_again = sign_in(known, tenant.staff.email, REMOTE_ADDR=ATTACKER_IP)
    unknown_again = sign_in(unknown, "nobody-here@alpha.test", REMOTE_ADDR=ATTACKER_IP)

    assert known_last.status_code == unknown_last.status_code == 429
    assert page_body(known_last) == page_body(unknown_last)
    assert known_again.status_code == unknown_again.status_code == 429
    assert page_body(known_again) == page_body(unknown_again)
    assert {e.details["email"] for e in events(tenant.agency, "auth.lockout")} == {
        tenant.staff.email,
        "nobody-here@alpha.test",
    }


def test_a_sign_in_with_an_unknown_email_runs_the_password_hasher_like_a_known_one(tenant):
    tenant.staff.set_password(TEST_PASSWORD)  # Argon2id, as every account has after sign-in
    tenant.staff.save(update_fields=["password"])
    client = Client(HTTP_HOST=tenant.host)

    def hash_runs(email: str) -> int:
        with (
            mock.patch.object(
                Argon2PasswordHasher,
                "encode",
                autospec=True,
                side_effect=Argon2PasswordHasher.encode,
            ) as encode,
            mock.patch.object(
                Argon2PasswordHasher,
                "verify",
                autospec=True,
                side_effect=Argon2PasswordHasher.verify,
            ) as verify,
        ):
            response = sign_in(client, email, WRONG, REMOTE_ADDR=ATTACKER_IP)
        assert response.status_code == 200
        return encode.call_count + verify.call_count

    assert hash_runs(tenant.staff.email) == hash_runs("nobody-here@alpha.test") == 1


def test_case_variants_of_an_email_count_as_one_account(tenant):
    quick_password(tenant.staff)
    client = Client(HTTP_HOST=tenant.host)
    local, domain = tenant.staff.email.split("@")
    variants = [local.title() + "@" + domain, tenant.staff.email.upper(), f" {local}@{domain}"]

    statuses = [
        sign_in(client, variants[i % len(variants)], WRONG, REMOTE_ADDR=ATTACKER_IP).status_code
        for i in range(5)
    ]
    right = sign_in(client, tenant.staff.email, REMOTE_ADDR=ATTACKER_IP)

    assert statuses == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {tenant.staff.email}


# --- How long ----------------------------------------------------------------------------------


def test_a_second_lockout_the_same_day_lasts_twice_as_long_as_the_first(tenant):
    quick_password(tenant.staff)
    email = tenant.staff.email

    first = lock_out(Client(HTTP_HOST=tenant.host), email)
    assert "about 5 minutes" in first.content.decode()
    rewind(6)
    assert sign_in(Client(HTTP_HOST=tenant.host), email, REMOTE_ADDR=ATTACKER_IP).status_code == 302

    second = lock_out(Client(HTTP_HOST=tenant.host), email)
    assert "about 10 minutes" in second.content.decode()
    rewind(6)
    still = sign_in(Client(HTTP_HOST=tenant.host), email, REMOTE_ADDR=ATTACKER_IP)
    assert still.status_code == 429
    rewind(11)
    assert sign_in(Client(HTTP_HOST=tenant.host), email, REMOTE_ADDR=ATTACKER_IP).status_code == 302


def test_trying_again_during_a_lockout_does_not_count_as_another_lockout(tenant):
    quick_password(tenant.staff)
    client = Client(HTTP_HOST=tenant.host)

    lock_out(client, tenant.staff.email)
    retries = [
        sign_in(client, tenant.staff.email, password, REMOTE_ADDR=ATTACKER_IP)
        for password in (TEST_PASSWORD, WRONG, TEST_PASSWORD)
    ]

    assert [r.status_code for r in retries] == [429, 429, 429]
    assert all("about 5 minutes" in r.content.decode() for r in retries)


def test_a_longer_lockout_is_not_cut_short_by_other_people_signing_in(tenant):
    quick_password(tenant.staff)
    quick_password(tenant.publisher)
    email = tenant.staff.email
    lock_out(Client(HTTP_HOST=tenant.host), email)
    rewind(6)
    assert sign_in(Client(HTTP_HOST=tenant.host), email, REMOTE_ADDR=ATTACKER_IP).status_code == 302
    lock_out(Client(HTTP_HOST=tenant.host), email)  # the second lockout: 10 minutes
    rewind(6)

    # Meanwhile, elsewhere, someone mistypes their password and someone else signs in.
    sign_in(Client(HTTP_HOST=tenant.host), tenant.admin.email, WRONG, REMOTE_ADDR=OTHER_IP)
    sign_in(Client(HTTP_HOST=tenant.host), tenant.publisher.email, REMOTE_ADDR=OTHER_IP)

    still = sign_in(Client(HTTP_HOST=tenant.host), email, REMOTE_ADDR=ATTACKER_IP)
    assert still.status_code == 429


def _failure_log(username: str, ip: str, *, minutes_ago: float, locked_out: bool):
    row = AccessFailureLog.objects.create(
        username=username,
        ip_address=ip,
        user_agent="test",
        http_accept="text/html",
        path_info="/accounts/login/",
        locked_out=locked_out,
    )
    # attempt_time is auto_now_add: create() ignores a value given for it.
    AccessFailureLog.objects.filter(pk=row.pk).update(
        attempt_time=timezone.now() - timedelta(minutes=minutes_ago)
    )


def _lockouts(username: str, ip: str, starts_minutes_ago: list[float]) -> None:
    """Each lockout as axes logs it: the limit's worth of failures, the last one locking."""
    for start in starts_minutes_ago:
        for i in range(5):
            _failure_log(username, ip, minutes_ago=start - i * 0.1, locked_out=i == 4)


def _cool_off_for(username: str, ip: str) -> timedelta:
    request = RequestFactory().post("/accounts/login/", {"username": username})
    request.axes_credentials = {"username": username}
    request.axes_ip_address = ip
    return lockout.cool_off(request)


def test_the_cool_off_doubles_with_each_lockout_of_the_day_up_to_the_maximum(settings):
    settings.LOCKOUT_BASE_MINUTES = 5
    settings.LOCKOUT_MAX_MINUTES = 60
    who, ip = "someone@example.org", ATTACKER_IP

    expected = []
    for count in range(1, 6):
        AccessFailureLog.objects.all().delete()
        _lockouts(who, ip, [600 - 100 * n for n in range(count)])
        expected.append(_cool_off_for(who, ip))

    minutes = [delta.total_seconds() / 60 for delta in expected]
    assert minutes == [5, 10, 20, 40, 60]


def test_only_the_same_pair_and_only_the_last_day_make_the_cool_off_longer(settings):
    settings.LOCKOUT_BASE_MINUTES = 5
    who, ip = "someone@example.org", ATTACKER_IP
    _lockouts(who, ip, [25 * 60, 24 * 60 + 5])  # yesterday
    _lockouts(who, OTHER_IP, [120, 60])  # another address
    _lockouts("other@example.org", ip, [120, 60])  # another account
    _lockouts(who, ip, [30])  # today's one

    assert _cool_off_for(who, ip) == timedelta(minutes=5)
    assert lockout.cool_off(None) == timedelta(minutes=5)


# --- Lifting a lockout -------------------------------------------------------------------------


def test_an_agency_admin_unlocks_a_locked_out_staff_member_from_their_page(client_for, tenant):
    quick_password(tenant.staff)
    lock_out(Client(HTTP_HOST=tenant.host), tenant.staff.email)
    member = membership_of(tenant.staff, tenant.agency)
    admin = client_for(tenant.admin, tenant.host)
    page = reverse("staff:member_detail", args=[member.pk])
    assert "Locked out." in admin.get(page).content.decode()

    response = admin.post(reverse("staff:member_unlock", args=[member.pk]))

    assert response.status_code == 302
    assert response["Location"] == page
    assert "Locked out." not in admin.get(page).content.decode()
    staff = Client(HTTP_HOST=tenant.host)
    assert sign_in(staff, tenant.staff.email, REMOTE_ADDR=ATTACKER_IP).status_code == 302
    assert signed_in_user_id(staff) == tenant.staff.pk
    (unlock,) = events(tenant.agency, "auth.unlock")
    assert unlock.actor_id == tenant.admin.pk
    assert unlock.details["email"] == tenant.staff.email
    assert unlock.target_id == str(member.pk)


def test_the_member_page_shows_a_lockout_only_while_it_lasts(client_for, tenant):
    quick_password(tenant.staff)
    member = membership_of(tenant.staff, tenant.agency)
    page = reverse("staff:member_detail", args=[member.pk])
    admin = client_for(tenant.admin, tenant.host)
    assert "Locked out." not in admin.get(page).content.decode()

    lock_out(Client(HTTP_HOST=tenant.host), tenant.staff.email)
    during = admin.get(page).content.decode()
    rewind(6)
    after = admin.get(page).content.decode()

    assert "Locked out." in during
    assert "Locked out." not in after


def test_a_staff_member_cannot_unlock_a_colleague(client_for, tenant):
    quick_password(tenant.publisher)
    lock_out(Client(HTTP_HOST=tenant.host), tenant.publisher.email)
    member = membership_of(tenant.publisher, tenant.agency)

    response = client_for(tenant.staff, tenant.host).post(
        reverse("staff:member_unlock", args=[member.pk])
    )

    assert response.status_code == 403
    assert events(tenant.agency, "auth.unlock") == []
    assert AccessAttempt.objects.filter(username=tenant.publisher.email).exists()


def test_an_admin_of_another_agency_cannot_unlock_and_learns_nothing(
    client_for, tenant, other_tenant
):
    quick_password(tenant.staff)
    lock_out(Client(HTTP_HOST=tenant.host), tenant.staff.email)
    member = membership_of(tenant.staff, tenant.agency)
    url = reverse("staff:member_unlock", args=[member.pk])

    on_their_host = client_for(other_tenant.admin, other_tenant.host).post(url)
    on_our_host = client_for(other_tenant.admin, tenant.host).post(url)

    assert on_their_host.status_code == on_our_host.status_code == 404
    assert AccessAttempt.objects.filter(username=tenant.staff.email).exists()
    assert events(tenant.agency, "auth.unlock") == []
    assert events(other_tenant.agency, "auth.unlock") == []


def test_an_admin_cannot_unlock_someone_who_also_works_for_another_agency(
    client_for, tenant, other_tenant
):
    # The lockout counts failures for the whole account: agency A's admin lifting it would
    # let someone keep guessing the password of agency B's staff member.
    quick_password(tenant.staff)
    with agency_context(other_tenant.agency):
        MembershipFactory(agency=other_tenant.agency, user=tenant.staff, role=Role.ADMIN)
    lock_out(Client(HTTP_HOST=tenant.host), tenant.staff.email)
    member = membership_of(tenant.staff, tenant.agency)
    admin = client_for(tenant.admin, tenant.host)

    response = admin.post(reverse("staff:member_unlock", args=[member.pk]), follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "also works for another agency" in page
    assert "platform support" in page
    assert lockout.is_locked(tenant.staff.email)
    assert events(tenant.agency, "auth.unlock") == []
    still = sign_in(Client(HTTP_HOST=tenant.host), tenant.staff.email, REMOTE_ADDR=ATTACKER_IP)
    assert still.status_code == 429  # even the right password waits out the lockout
    assert AccessAttempt.objects.filter(username=tenant.staff.email).exists()


def test_a_dotless_i_variant_of_a_locked_out_email_is_not_the_account(tenant):
    # PostgreSQL's UPPER() turns the dotless i into "I" while the lockout key (Python's
    # lower()) keeps it: the variant must not be a way round the lockout of the real one.
    philip = UserFactory(email="philip.smith@example.org")
    quick_password(philip)
    lock_out(Client(HTTP_HOST=tenant.host), philip.email)
    variant = "phil\u0131p.smith@example.org"

    client = Client(HTTP_HOST=tenant.host)
    response = sign_in(client, variant, TEST_PASSWORD, REMOTE_ADDR=ATTACKER_IP)

    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert "do not match an account" in page_body(response)
    # The account itself still answers to its own address, in any case, once unlocked.
    lockout.unlock(philip.email)
    other = Client(HTTP_HOST=tenant.host)
    assert sign_in(other, "Philip.Smith@EXAMPLE.org", REMOTE_ADDR=OTHER_IP).status_code == 302
    assert signed_in_user_id(other) == philip.pk


def test_an_operator_unlocks_an_account_with_axes_reset_username(tenant):
    quick_password(tenant.staff)
    lock_out(Client(HTTP_HOST=tenant.host), tenant.staff.email)
    output = StringIO()

    call_command("axes_reset_username", tenant.staff.email, stdout=output)

    # The count includes the attempt's expiry row (AXES_USE_ATTEMPT_EXPIRATION).
    assert re.search(r"[1-9][0-9]* attempts removed", output.getvalue())
    client = Client(HTTP_HOST=tenant.host)
    assert sign_in(client, tenant.staff.email, REMOTE_ADDR=ATTACKER_IP).status_code == 302
    assert signed_in_user_id(client) == tenant.staff.pk
