"""User administration: invitations, the roles each admin may hand out, role changes and
deactivation with the last-admin rule, rate limits, and outsiders."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import Agency, Invitation, Membership, Role, User
from accounts.services import invitations as invitation_services
from accounts.services import members
from accounts.services.errors import ServiceError
from accounts.signin import mfa
from accounts.tenancy import agency_context
from tests.accounts.identity_helpers import (
    events,
    link_path,
    quick_password,
    sign_in,
    signed_in_user_id,
)
from tests.db_helpers import run_in_committed_thread, wait_for_lock_waiters
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quartz-lantern-pivot-8812"
INVITE = reverse("staff:member_invite")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def membership_of(user, agency) -> Membership:
    with agency_context(agency):
        return Membership.objects.get(agency=agency, user=user)


def invitation_link(tenant, email: str, role: str = Role.STAFF) -> tuple[Invitation, str]:
    """An invitation sent by the tenant's admin (through the service): (row, link path)."""
    with agency_context(tenant.agency):
        sent = invitation_services.invitation_create(
            agency=tenant.agency, actor=tenant.admin, email=email, role=role
        )
    return sent.invitation, "/" + sent.link.split("/", 3)[3]


def invitations(agency) -> list[Invitation]:
    with agency_context(agency):
        return list(Invitation.objects.filter(agency=agency).order_by("id"))


def accept_form(full_name: str = "Nadia Quell", password: str = NEW_PASSWORD) -> dict:
    return {"full_name": full_name, "password1": password, "password2": password}


# --- Invitations -------------------------------------------------------------------------------


def test_an_invited_person_joins_with_the_role_through_the_emailed_link_once(
    client_for, tenant, django_capture_on_commit_callbacks
):
    admin = client_for(tenant.admin, tenant.host)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(INVITE, {"email": "nadia.quell@example.org", "role": "publisher"})
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:member_list")
    (message,) = mail.outbox
    assert message.to == ["nadia.quell@example.org"]
    path = link_path(message)
    token = path.rstrip("/").rsplit("/", 1)[1]
    (invitation,) = invitations(tenant.agency)
    assert invitation.token_digest == hashlib.sha256(token.encode()).hexdigest()
    with agency_context(tenant.agency):
        stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in repr(stored)
    (invited,) = events(tenant.agency, "users.invited")
    assert invited.actor_id == tenant.admin.pk
    assert invited.details == {"email": "nadia.quell@example.org", "role": "Publisher"}

    newcomer = Client(HTTP_HOST=tenant.host)
    assert "Create your account" in newcomer.get(path).content.decode()
    weak = newcomer.post(path, accept_form(password="passwordpassword"))
    assert weak.status_code == 200
    assert "password2" in weak.context["form"].errors
    assert not User.objects.filter(email__iexact="nadia.quell@example.org").exists()

    joined = newcomer.post(path, accept_form())

    assert joined.status_code == 302 and joined["Location"] == reverse("accounts:login")
    user = User.objects.get(email__iexact="nadia.quell@example.org")
    assert user.full_name == "Nadia Quell"
    assert membership_of(user, tenant.agency).role == Role.PUBLISHER
    (accepted,) = events(tenant.agency, "users.invitation_accepted")
    assert accepted.actor_id == user.pk
    assert accepted.details == {"email": user.email, "role": "Publisher"}
    assert sign_in(newcomer, user.email, NEW_PASSWORD).status_code == 302
    assert newcomer.get(reverse("staff:staff_dashboard")).status_code == 200

    again = Client(HTTP_HOST=tenant.host).get(path)
    assert again.status_code == 400
    assert "This invitation link no longer works" in again.content.decode()
    (refused,) = events(tenant.agency, "users.invitation_refused")
    assert refused.details == {"reason": "already used"}


def test_an_expired_invitation_is_refused(tenant):
    invitation, path = invitation_link(tenant, "late@example.org")
    with agency_context(tenant.agency):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timezone.timedelta(seconds=1)
        )

    newcomer = Client(HTTP_HOST=tenant.host)
    opened = newcomer.get(path)
    posted = newcomer.post(path, accept_form())

    assert opened.status_code == posted.status_code == 400
    assert not User.objects.filter(email="late@example.org").exists()
    assert [e.details["reason"] for e in events(tenant.agency, "users.invitation_refused")] == [
        "expired",
        "expired",
    ]


def test_a_withdrawn_invitation_is_refused(client_for, tenant):
    invitation, path = invitation_link(tenant, "withdrawn@example.org")

    response = client_for(tenant.admin, tenant.host).post(
        reverse("staff:invitation_revoke", args=[invitation.pk])
    )

    assert response.status_code == 302
    assert Client(HTTP_HOST=tenant.host).post(path, accept_form()).status_code == 400
    assert not User.objects.filter(email="withdrawn@example.org").exists()
    (revoked,) = events(tenant.agency, "users.invitation_revoked")
    assert revoked.actor_id == tenant.admin.pk
    (refused,) = events(tenant.agency, "users.invitation_refused")
    assert refused.details == {"reason": "withdrawn"}


def test_resending_an_invitation_sends_a_new_link_and_the_old_one_stops_working(
    client_for, tenant, django_capture_on_commit_callbacks
):
    invitation, old_path = invitation_link(tenant, "resend@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(tenant.admin, tenant.host).post(
            reverse("staff:invitation_resend", args=[invitation.pk])
        )

    assert response.status_code == 302
    (message,) = mail.outbox
    new_path = link_path(message)
    assert new_path != old_path
    newcomer = Client(HTTP_HOST=tenant.host)
    assert newcomer.get(old_path).status_code == 400
    assert newcomer.get(new_path).status_code == 200
    assert len(events(tenant.agency, "users.invitation_resent")) == 1


def test_an_invitation_link_opened_on_another_agencys_host_is_refused(tenant, other_tenant):
    _, path = invitation_link(tenant, "wrong-host@example.org")

    wrong_host = Client(HTTP_HOST=other_tenant.host)
    opened = wrong_host.get(path)
    posted = wrong_host.post(path, accept_form())

    assert opened.status_code == posted.status_code == 400
    assert not User.objects.filter(email="wrong-host@example.org").exists()
    assert len(events(other_tenant.agency, "users.invitation_refused")) == 2
    (pending,) = invitations(tenant.agency)
    assert pending.accepted_at is None


def test_someone_signed_in_as_another_address_is_asked_to_sign_out(client_for, tenant):
    invitation, path = invitation_link(tenant, "meant-for-me@example.org")
    someone_else = client_for(tenant.requester, tenant.host)

    opened = someone_else.get(path)
    posted = someone_else.post(path)

    assert opened.status_code == posted.status_code == 403
    assert "different account" in opened.content.decode()
    with agency_context(tenant.agency):
        invitation.refresh_from_db()
        assert not Membership.objects.filter(user=tenant.requester).exists()
    assert invitation.accepted_at is None


# --- Which roles may be handed out -------------------------------------------------------------


def test_a_department_admin_invites_staff_and_publishers_but_not_admins(client_for, tenant):
    department_admin = client_for(tenant.department_admin, tenant.host)

    form = department_admin.get(INVITE)
    forged = [
        department_admin.post(INVITE, {"email": f"{role}@example.org", "role": role})
        for role in (Role.ADMIN, Role.DEPARTMENT_ADMIN)
    ]
    allowed = [
        department_admin.post(INVITE, {"email": f"{role}@example.org", "role": role})
        for role in (Role.PUBLISHER, Role.STAFF)
    ]

    assert [v for v, _ in form.context["form"].fields["role"].choices] == [
        Role.PUBLISHER,
        Role.STAFF,
    ]
    assert 'value="admin"' not in form.content.decode()
    assert [r.status_code for r in forged] == [400, 400]
    assert all("role" in r.context["form"].errors for r in forged)
    assert [r.status_code for r in allowed] == [302, 302]
    assert [i.role for i in invitations(tenant.agency)] == [Role.PUBLISHER, Role.STAFF]


def test_an_admin_may_grant_every_role(client_for, tenant):
    admin = client_for(tenant.admin, tenant.host)
    roles = [Role.ADMIN, Role.DEPARTMENT_ADMIN, Role.PUBLISHER, Role.STAFF]

    statuses = [
        admin.post(INVITE, {"email": f"new-{role}@example.org", "role": role}).status_code
        for role in roles
    ]

    assert statuses == [302] * 4
    assert [i.role for i in invitations(tenant.agency)] == roles


# --- Roles and deactivation --------------------------------------------------------------------


def test_an_admin_changes_a_members_role_and_it_is_recorded(client_for, tenant):
    member = membership_of(tenant.staff, tenant.agency)

    response = client_for(tenant.admin, tenant.host).post(
        reverse("staff:member_role", args=[member.pk]), {"role": Role.PUBLISHER}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:member_detail", args=[member.pk])
    assert membership_of(tenant.staff, tenant.agency).role == Role.PUBLISHER
    (event,) = events(tenant.agency, "users.role_changed")
    assert event.actor_id == tenant.admin.pk
    assert event.target_id == str(member.pk)
    assert event.details == {"email": tenant.staff.email, "old": "Staff", "new": "Publisher"}


def test_a_role_change_needs_a_recent_confirmation_of_who_you_are(client_for, tenant):
    member = membership_of(tenant.staff, tenant.agency)
    admin = client_for(tenant.admin, tenant.host, second_factor=False)
    session = admin.session
    session[mfa.SESSION_MFA_METHOD] = "totp"  # two-factor passed, but no recent sign-in
    session[mfa.SESSION_MFA_AT] = int(time.time())
    session.save()
    url = reverse("staff:member_role", args=[member.pk])

    response = admin.post(url, {"role": Role.ADMIN})

    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('accounts:reauthenticate')}?{urlencode({'next': url})}"
    )
    assert membership_of(tenant.staff, tenant.agency).role == Role.STAFF
    assert events(tenant.agency, "users.role_changed") == []


def test_the_last_admin_can_be_neither_demoted_nor_deactivated(client_for, tenant):
    own = membership_of(tenant.admin, tenant.agency)
    admin = client_for(tenant.admin, tenant.host)

    demoted = admin.post(reverse("staff:member_role", args=[own.pk]), {"role": Role.STAFF})
    deactivated = admin.post(reverse("staff:member_deactivate", args=[own.pk]), follow=True)

    assert demoted.status_code == 400
    assert "only admin" in " ".join(demoted.context["form"].errors["role"])
    assert deactivated.status_code == 200
    assert "only admin" in deactivated.content.decode()
    after = membership_of(tenant.admin, tenant.agency)
    assert (after.role, after.is_active) == (Role.ADMIN, True)
    assert events(tenant.agency, "users.role_changed") == []
    assert events(tenant.agency, "users.deactivated") == []


def test_an_admin_may_step_down_while_another_admin_remains(client_for, tenant):
    with agency_context(tenant.agency):
        MembershipFactory(agency=tenant.agency, user=UserFactory(), role=Role.ADMIN)
    own = membership_of(tenant.admin, tenant.agency)

    response = client_for(tenant.admin, tenant.host).post(
        reverse("staff:member_role", args=[own.pk]), {"role": Role.STAFF}
    )

    assert response.status_code == 302
    assert membership_of(tenant.admin, tenant.agency).role == Role.STAFF


def test_two_admins_demoting_each_other_at_once_cannot_both_succeed():
    slug = f"admins-{uuid.uuid4().hex[:10]}"

    def setup():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        with agency_context(agency):
            first = MembershipFactory(agency=agency, user=UserFactory(), role=Role.ADMIN)
            second = MembershipFactory(agency=agency, user=UserFactory(), role=Role.ADMIN)
        return agency, first, second

    agency, first, second = run_in_committed_thread(setup)
    locked, release = threading.Event(), threading.Event()

    def hold_admin_rows():
        # Holds both admin rows so that the two demotions start at the same moment.
        with agency_context(agency):
            list(Membership.objects.select_for_update().filter(agency=agency, role=Role.ADMIN))
            locked.set()
            release.wait(20)

    outcomes: dict[str, object] = {}

    def demote(name, membership, actor):
        def work():
            with agency_context(agency):
                members.membership_change_role(membership=membership, actor=actor, role=Role.STAFF)

        try:
            run_in_committed_thread(work)
            outcomes[name] = "demoted"
        except BaseException as exc:  # noqa: BLE001 (inspected below)
            outcomes[name] = exc

    holder = threading.Thread(target=run_in_committed_thread, args=(hold_admin_rows,))
    holder.start()
    assert locked.wait(20)
    threads = [
        threading.Thread(target=demote, args=("first demotes second", second, first.user)),
        threading.Thread(target=demote, args=("second demotes first", first, second.user)),
    ]
    for thread in threads:
        thread.start()
    wait_for_lock_waiters(2)
    release.set()
    for thread in [holder, *threads]:
        thread.join(60)

    def roles():
        with agency_context(agency):
            return sorted(Membership.objects.filter(agency=agency).values_list("role", flat=True))

    assert run_in_committed_thread(roles) == [Role.ADMIN, Role.STAFF]
    results = sorted(outcomes.values(), key=str)
    assert results[1] == "demoted", outcomes
    assert isinstance(results[0], ServiceError), outcomes
    assert "only admin" in str(results[0])


# --- Rate limits -------------------------------------------------------------------------------


def test_inviting_is_rate_limited_per_admin(client_for, tenant, settings):
    settings.RATE_LIMIT_INVITE_PER_USER = "3/d"
    admin = client_for(tenant.admin, tenant.host)

    statuses = [
        admin.post(INVITE, {"email": f"bulk{n}@example.org", "role": Role.STAFF}).status_code
        for n in range(4)
    ]
    colleague = client_for(tenant.department_admin, tenant.host).post(
        INVITE, {"email": "colleague-invite@example.org", "role": Role.STAFF}
    )

    assert statuses == [302, 302, 302, 429]
    assert colleague.status_code == 302
    assert len(invitations(tenant.agency)) == 4


def test_signing_in_is_rate_limited_per_address(tenant, settings):
    settings.RATE_LIMIT_LOGIN_PER_IP = "3/d"
    quick_password(tenant.staff)
    busy = Client(HTTP_HOST=tenant.host)

    statuses = [
        sign_in(
            busy, tenant.staff.email, "wrong-password-here", REMOTE_ADDR="192.0.2.1"
        ).status_code
        for _ in range(3)
    ]
    limited = sign_in(busy, tenant.staff.email, REMOTE_ADDR="192.0.2.1")
    elsewhere = Client(HTTP_HOST=tenant.host)
    allowed = sign_in(elsewhere, tenant.staff.email, REMOTE_ADDR="192.0.2.2")

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "600"
    assert signed_in_user_id(busy) is None
    assert allowed.status_code == 302


def test_password_reset_requests_are_rate_limited_per_email(tenant, settings):
    settings.RATE_LIMIT_RESET_PER_EMAIL = "2/d"
    client = Client(HTTP_HOST=tenant.host)
    url = reverse("accounts:password_reset")
    email = tenant.requester.email

    statuses = [
        client.post(url, {"email": variant}).status_code
        for variant in (email, email.upper(), email)
    ]
    other_email = client.post(url, {"email": tenant.staff.email})

    assert statuses == [302, 302, 429]
    assert other_email.status_code == 302


# --- Outsiders ---------------------------------------------------------------------------------


def test_every_admin_action_on_another_agencys_member_answers_404(client_for, tenant, other_tenant):
    member = membership_of(tenant.staff, tenant.agency)
    invitation, _ = invitation_link(tenant, "pending@example.org")
    actions = [
        ("get", reverse("staff:member_detail", args=[member.pk])),
        ("get", reverse("staff:member_role", args=[member.pk])),
        ("post", reverse("staff:member_role", args=[member.pk])),
        ("post", reverse("staff:member_deactivate", args=[member.pk])),
        ("post", reverse("staff:member_reactivate", args=[member.pk])),
        ("post", reverse("staff:member_sessions_end", args=[member.pk])),
        ("post", reverse("staff:member_unlock", args=[member.pk])),
        ("get", reverse("staff:member_mfa_reset", args=[member.pk])),
        ("post", reverse("staff:member_mfa_reset", args=[member.pk])),
        ("post", reverse("staff:member_identity_unlink", args=[member.pk, 1])),
        ("post", reverse("staff:invitation_resend", args=[invitation.pk])),
        ("post", reverse("staff:invitation_revoke", args=[invitation.pk])),
    ]

    for host in (other_tenant.host, tenant.host):
        outsider = client_for(other_tenant.admin, host)
        for method, url in actions:
            data = {"role": Role.ADMIN} if url.endswith("/role/") else {}
            response = getattr(outsider, method)(url, data)
            assert response.status_code == 404, (host, method, url)

    after = membership_of(tenant.staff, tenant.agency)
    assert (after.role, after.is_active) == (Role.STAFF, True)
    (pending,) = invitations(tenant.agency)
    assert pending.revoked_at is None and pending.token_digest == invitation.token_digest
    changes = [e.action for e in events(tenant.agency) if e.action != "page.view"]
    assert changes == ["users.invited"]
