"""Support access: a platform operator reaches an agency's staff area only under a grant its
admins can see (asked with a reason, approved, or started in an emergency with every admin
told), as the granted role (read-only by default), for a limited time, with a banner on every
page and the grant's id on every audit event recorded under it."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import Role, SupportGrant, SupportRole
from accounts.services.errors import ServiceFieldError
from accounts.support import services
from accounts.tenancy import agency_context, agency_origin
from audit.chain import event_hash, verify_chain
from audit.models import AuditEvent
from requests_portal.models import RecordsRequest, Status
from tests.accounts.route_matrix import STAFF_ROUTES, url_for, visit_route
from tests.factories import MembershipFactory, UserFactory
from tests.requests_portal.helpers import file_request

pytestmark = pytest.mark.django_db

REASON = "Ticket 4312: the request queue shows an error for this agency"


@pytest.fixture
def operator(db):
    return UserFactory(email="olive@platform.test", full_name="Olive Operator", is_staff=True)


def _ask(client, *, hours=2, role=SupportRole.READ_ONLY, reason=REASON, emergency=False):
    name = "accounts:support_emergency" if emergency else "accounts:support_request"
    return client.post(reverse(name), {"role": role, "reason": reason, "hours": hours})


def _grants(tenant, operator) -> list[SupportGrant]:
    with agency_context(tenant.agency):
        return list(SupportGrant.objects.filter(agency=tenant.agency, operator=operator))


def _only_grant(tenant, operator) -> SupportGrant:
    (grant,) = _grants(tenant, operator)
    return grant


def _events(tenant, **filters) -> list[AuditEvent]:
    with agency_context(tenant.agency):
        return list(AuditEvent.objects.filter(agency=tenant.agency, **filters).order_by("id"))


def _approved_grant(tenant, operator, client_for, *, hours=2) -> SupportGrant:
    assert _ask(client_for(operator, tenant.host), hours=hours).status_code == 302
    grant = _only_grant(tenant, operator)
    admin = client_for(tenant.admin, tenant.host)
    response = admin.post(reverse("staff:support_grant_approve", args=[grant.pk]))
    assert response.status_code == 302
    grant = _only_grant(tenant, operator)
    assert grant.status == SupportGrant.Status.ACTIVE
    return grant


# --- Request, approve, use -------------------------------------------------------------------


def test_an_approved_operator_reads_the_agency_but_writes_nothing(tenant, operator, client_for):
    records_request = file_request(tenant)
    op = client_for(operator, tenant.host)
    queue = reverse("staff:request_queue")
    assert op.get(queue).status_code == 404  # nothing before an admin approves

    grant = _approved_grant(tenant, operator, client_for)
    assert grant.role == SupportRole.READ_ONLY
    assert grant.decided_by == tenant.admin
    assert grant.expires_at - grant.starts_at == datetime.timedelta(hours=2)

    page = op.get(queue)
    assert page.status_code == 200
    assert records_request.title in page.content.decode()
    detail = op.get(reverse("staff:request_detail", args=[records_request.number]))
    assert detail.status_code == 200

    # Writes are refused: behind a writing permission, and behind a reading one (the
    # notification choices are saved under the staff-area permission).
    acknowledge = op.post(reverse("staff:request_acknowledge", args=[records_request.number]))
    assert acknowledge.status_code == 403
    choices = {"daily_digest": "on"}
    assert op.post(reverse("staff:notifications"), choices).status_code == 403
    with agency_context(tenant.agency):
        assert RecordsRequest.objects.get(pk=records_request.pk).status == Status.SUBMITTED
    assert _events(tenant, action="notifications.preferences_changed") == []
    # Nor does read-only support manage the agency's people or its support access.
    assert op.get(reverse("staff:member_invite")).status_code == 403
    assert op.get(reverse("staff:support_access")).status_code == 403


def test_a_banner_on_every_page_names_the_grant_its_approver_and_its_end(
    tenant, operator, client_for
):
    _approved_grant(tenant, operator, client_for)
    op = client_for(operator, tenant.host)
    for url in (reverse("staff:request_queue"), reverse("home"), reverse("accounts:security")):
        body = op.get(url).content.decode()
        assert f"You are using support access to {tenant.agency.name}" in body, url
        assert f"granted by {tenant.admin.full_name}" in body
        assert "America/Chicago" in body
    # Staff of the agency see no such banner.
    staff_page = client_for(tenant.staff, tenant.host).get(reverse("staff:request_queue"))
    assert "You are using support access" not in staff_page.content.decode()


def test_every_event_under_a_grant_carries_its_id_in_the_hashed_chain(tenant, operator, client_for):
    grant = _approved_grant(tenant, operator, client_for)
    approved_at = _events(tenant, action="support.approved")[-1].pk
    op = client_for(operator, tenant.host)
    op.get(reverse("staff:request_queue"))
    op.post(reverse("staff:notifications"), {})  # refused, and recorded as refused

    under = _events(tenant, actor=operator, pk__gt=approved_at)
    assert {e.action for e in under} >= {"support.started", "page.view"}
    assert all(e.acting_as_grant_id == grant.pk for e in under)
    # The admin's approval was not made under the grant.
    assert _events(tenant, action="support.approved")[-1].acting_as_grant_id is None

    # The grant id is part of what the hash covers: stripping it breaks the chain.
    event = under[-1]
    assert event_hash(event, event.prev_hash) == event.hash
    event.acting_as_grant_id = None
    assert event_hash(event, event.prev_hash) != event.hash
    with agency_context(tenant.agency):
        assert verify_chain(tenant.agency.pk).ok


def test_the_admins_see_the_whole_life_of_a_grant(tenant, operator, client_for):
    grant = _approved_grant(tenant, operator, client_for)
    client_for(operator, tenant.host).get(reverse("staff:request_queue"))
    admin = client_for(tenant.admin, tenant.host)
    admin.post(reverse("staff:support_grant_revoke", args=[grant.pk]))

    page = admin.get(reverse("staff:support_grant", args=[grant.pk])).content.decode()
    assert "asked for support access for 2 hours, role: Read-only support" in page
    assert REASON in page
    assert f"{tenant.admin.full_name} approved support access {grant.pk}" in page
    assert "began using" in page
    assert "opened the request queue" in page
    assert f"revoked support access {grant.pk}" in page
    listing = admin.get(reverse("staff:support_access")).content.decode()
    assert operator.full_name in listing
    assert f"Revoked by {tenant.admin.full_name}" in listing


# --- Deny, expire, revoke ---------------------------------------------------------------------


def test_a_denied_request_gives_no_access(
    tenant, operator, client_for, django_capture_on_commit_callbacks
):
    op = client_for(operator, tenant.host)
    _ask(op)
    grant = _only_grant(tenant, operator)
    admin = client_for(tenant.admin, tenant.host)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            reverse("staff:support_grant_deny", args=[grant.pk]), {"note": "Call us first."}
        )
    assert response.status_code == 302
    assert _only_grant(tenant, operator).status == SupportGrant.Status.DENIED
    assert op.get(reverse("staff:request_queue")).status_code == 404
    (denied,) = _events(tenant, action="support.denied")
    assert denied.actor_id == tenant.admin.pk
    assert denied.details["note"] == "Call us first."
    assert [m.to for m in mail.outbox] == [[operator.email]]
    # A denied request cannot be approved afterwards.
    admin.post(reverse("staff:support_grant_approve", args=[grant.pk]))
    assert _only_grant(tenant, operator).status == SupportGrant.Status.DENIED


@pytest.mark.clock
def test_access_ends_at_the_exact_time_of_expiry(tenant, operator, client_for, monkeypatch):
    grant = _approved_grant(tenant, operator, client_for, hours=1)
    op = client_for(operator, tenant.host)
    queue = reverse("staff:request_queue")
    real_now = timezone.now

    monkeypatch.setattr(
        timezone, "now", lambda: grant.expires_at - datetime.timedelta(microseconds=1)
    )
    assert op.get(queue).status_code == 200
    monkeypatch.setattr(timezone, "now", lambda: grant.expires_at)
    assert op.get(queue).status_code == 404
    monkeypatch.setattr(timezone, "now", real_now)

    ended = _only_grant(tenant, operator)
    assert (ended.status, ended.end_reason) == (SupportGrant.Status.ENDED, "expired")
    assert ended.ended_at == grant.expires_at
    assert len(_events(tenant, action="support.expired")) == 1
    assert op.get(queue).status_code == 404


def test_a_revoked_grant_ends_at_once(tenant, operator, client_for):
    grant = _approved_grant(tenant, operator, client_for)
    op = client_for(operator, tenant.host)
    queue = reverse("staff:request_queue")
    assert op.get(queue).status_code == 200
    admin = client_for(tenant.admin, tenant.host)
    assert admin.post(reverse("staff:support_grant_revoke", args=[grant.pk])).status_code == 302
    assert op.get(queue).status_code == 404
    revoked = _only_grant(tenant, operator)
    assert (revoked.end_reason, revoked.ended_by) == ("revoked", tenant.admin)
    assert len(_events(tenant, action="support.revoked")) == 1


def test_the_operator_can_end_their_own_access(tenant, operator, client_for):
    grant = _approved_grant(tenant, operator, client_for)
    op = client_for(operator, tenant.host)
    assert op.post(reverse("accounts:support_end", args=[grant.pk])).status_code == 302
    assert op.get(reverse("staff:request_queue")).status_code == 404
    assert _only_grant(tenant, operator).end_reason == "ended"


# --- Break-glass ------------------------------------------------------------------------------


def test_emergency_access_starts_at_once_and_tells_every_admin(
    tenant, operator, client_for, django_capture_on_commit_callbacks
):
    second_admin = UserFactory(email="second-admin@alpha.test")
    with agency_context(tenant.agency):
        MembershipFactory(agency=tenant.agency, user=second_admin, role=Role.ADMIN)
    op = client_for(operator, tenant.host)
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(op, hours=1, emergency=True)
    assert response.status_code == 302

    grant = _only_grant(tenant, operator)
    assert grant.is_emergency and grant.status == SupportGrant.Status.ACTIVE
    assert grant.decided_by is None
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([tenant.admin.email, second_admin.email])
    assert all(len(message.to) == 1 for message in mail.outbox)
    assert "Emergency support access" in mail.outbox[0].subject

    page = op.get(reverse("staff:request_queue"))
    assert page.status_code == 200
    assert "started as emergency access without an admin's approval" in (page.content.decode())
    dashboard = client_for(tenant.admin, tenant.host).get(reverse("staff:staff_dashboard"))
    assert f"Emergency access by {operator.full_name}" in dashboard.content.decode()
    (started,) = _events(tenant, action="support.emergency_started")
    assert started.details["reason"] == REASON


def test_a_second_press_of_either_button_opens_nothing_more(
    tenant, operator, client_for, django_capture_on_commit_callbacks
):
    op = client_for(operator, tenant.host)
    assert _ask(op, hours=1).status_code == 302
    again = _ask(op, hours=1)
    assert again.status_code == 400
    assert "already have a request waiting" in again.content.decode()
    _only_grant(tenant, operator)
    first = _only_grant(tenant, operator)
    assert op.post(reverse("accounts:support_end", args=[first.pk])).status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        assert _ask(op, hours=1, emergency=True).status_code == 302
    emailed = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        again = _ask(op, hours=1, emergency=True)
    assert again.status_code == 400
    assert "already have support access here" in again.content.decode()
    assert [g.is_emergency for g in _grants(tenant, operator)].count(True) == 1
    assert len(mail.outbox) == emailed  # the admins were not told twice


def test_emergency_access_is_read_only_whatever_the_post_says(tenant, operator, client_for):
    op = client_for(operator, tenant.host)
    for role in (SupportRole.STAFF, SupportRole.PUBLISHER):
        response = _ask(op, hours=1, role=role, emergency=True)
        assert response.status_code == 400
    assert _grants(tenant, operator) == []
    with pytest.raises(ServiceFieldError):
        services.support_emergency_start(
            agency=tenant.agency,
            operator=operator,
            role=SupportRole.PUBLISHER,
            reason=REASON,
            duration_minutes=60,
        )


def test_emergency_access_is_limited_to_four_hours(tenant, operator, client_for):
    response = _ask(client_for(operator, tenant.host), hours=5, emergency=True)
    assert response.status_code == 400
    assert "at most 4 hours" in response.content.decode()
    assert _grants(tenant, operator) == []


def test_a_pending_request_shows_on_the_admins_dashboard(tenant, operator, client_for):
    _ask(client_for(operator, tenant.host))
    dashboard = client_for(tenant.admin, tenant.host).get(reverse("staff:staff_dashboard"))
    assert f"{operator.full_name} asks for access" in dashboard.content.decode()
    staff = client_for(tenant.staff, tenant.host).get(reverse("staff:staff_dashboard"))
    assert "asks for access" not in staff.content.decode()


# --- Who may do what --------------------------------------------------------------------------


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.label)
def test_an_operator_without_a_grant_gets_404_on_every_staff_url(
    route, tenant, operator, client_for
):
    response = visit_route(client_for(operator, tenant.host), route, url_for(route, tenant))
    assert response.status_code == 404


def test_a_grant_opens_only_its_own_agency(tenant, other_tenant, operator, client_for):
    _approved_grant(tenant, operator, client_for)
    elsewhere = client_for(operator, other_tenant.host)
    assert elsewhere.get(reverse("staff:request_queue")).status_code == 404


def test_another_agencys_admin_can_neither_see_nor_answer_a_request(
    tenant, other_tenant, operator, outsider, client_for
):
    _ask(client_for(operator, tenant.host))
    grant = _only_grant(tenant, operator)
    for host in (tenant.host, other_tenant.host):
        client = client_for(outsider, host)
        assert client.get(reverse("staff:support_grant", args=[grant.pk])).status_code == 404
        approve = client.post(reverse("staff:support_grant_approve", args=[grant.pk]))
        assert approve.status_code == 404
    assert _only_grant(tenant, operator).status == SupportGrant.Status.PENDING


@pytest.mark.parametrize("persona", ["staff", "publisher", "department_admin"])
def test_staff_who_are_not_admins_cannot_answer_a_request(persona, tenant, operator, client_for):
    _ask(client_for(operator, tenant.host))
    grant = _only_grant(tenant, operator)
    client = client_for(getattr(tenant, persona), tenant.host)
    assert client.post(reverse("staff:support_grant_approve", args=[grant.pk])).status_code == 403
    assert client.get(reverse("staff:support_access")).status_code == 403
    assert _only_grant(tenant, operator).status == SupportGrant.Status.PENDING


def test_people_who_are_not_operators_cannot_ask(tenant, client_for):
    for person in (tenant.requester, tenant.admin):
        response = _ask(client_for(person, tenant.host))
        assert response.status_code == 404
    with agency_context(tenant.agency):
        assert not SupportGrant.objects.filter(agency=tenant.agency).exists()


# --- Bad input --------------------------------------------------------------------------------


def test_a_grant_over_24_hours_is_a_field_error(tenant, operator, client_for):
    response = _ask(client_for(operator, tenant.host), hours=25)
    assert response.status_code == 400
    body = response.content.decode()
    assert "field-error" in body and "at most 24 hours" in body
    assert _grants(tenant, operator) == []
    with agency_context(tenant.agency), pytest.raises(ServiceFieldError) as refused:
        services.support_grant_request(
            agency=tenant.agency,
            operator=operator,
            role=SupportRole.READ_ONLY,
            reason=REASON,
            duration_minutes=24 * 60 + 1,
        )
    assert refused.value.field == "hours"


@pytest.mark.parametrize("hours", ["", "0", "-3", "1e9", "9" * 40, "two"])
def test_a_malformed_duration_or_a_missing_reason_is_a_form_error(
    hours, tenant, operator, client_for
):
    op = client_for(operator, tenant.host)
    assert _ask(op, hours=hours).status_code == 400
    assert _ask(op, reason="   ").status_code == 400
    assert _grants(tenant, operator) == []


def test_read_only_support_holds_only_reading_permissions():
    held = policy.SUPPORT_ROLE_PERMISSIONS[SupportRole.READ_ONLY]
    assert held == {p for p in policy.ALL_PERMISSIONS if p.reads_only}
    assert policy.STAFF_AREA in held
    assert not any(
        policy.role_has(SupportRole.READ_ONLY, p)
        for p in (policy.REQUEST_EDIT, policy.USERS_MANAGE, policy.SUPPORT_ACCESS_MANAGE)
    )
    assert not policy.method_allowed(SupportRole.READ_ONLY, "POST")
    assert policy.method_allowed(Role.STAFF, "POST")


def test_the_platform_page_leads_operators_to_each_agencys_own_form(
    tenant, operator, settings, client_for
):
    platform = settings.PORTAL_BASE_DOMAIN
    page = client_for(operator, platform).get(reverse("accounts:support_request"))
    assert page.status_code == 200
    assert f"//{tenant.host}" in page.content.decode()
    assert reverse("accounts:support_request") in page.content.decode()
    # Nothing is asked for from the platform's own domain, and only operators get the page.
    assert _ask(client_for(operator, platform)).status_code == 404
    assert (
        client_for(tenant.admin, platform).get(reverse("accounts:support_request")).status_code
        == 404
    )


def test_an_operator_withdraws_a_request_still_waiting(tenant, operator, client_for):
    op = client_for(operator, tenant.host)
    _ask(op)
    grant = _only_grant(tenant, operator)
    assert REASON in op.get(reverse("accounts:support_request")).content.decode()
    op.post(reverse("accounts:support_end", args=[grant.pk]))
    withdrawn = _only_grant(tenant, operator)
    assert (withdrawn.status, withdrawn.end_reason) == (SupportGrant.Status.ENDED, "withdrawn")
    client_for(tenant.admin, tenant.host).post(
        reverse("staff:support_grant_approve", args=[grant.pk])
    )
    assert op.get(reverse("staff:request_queue")).status_code == 404


def test_no_django_admin_site_reaches_tenant_data(settings, client_for, operator):
    # Operators' only way into an agency is a support grant: there is no admin site at all.
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    response = client_for(operator, settings.PORTAL_BASE_DOMAIN).get("/admin/")
    assert response.status_code == 404


@pytest.mark.clock
def test_the_scheduled_sweep_records_expiries_nobody_came_back_for(
    tenant, operator, client_for, monkeypatch
):
    from accounts.tasks import close_lapsed_support_grants

    grant = _approved_grant(tenant, operator, client_for, hours=1)
    assert close_lapsed_support_grants(agency_id=tenant.agency.pk) == 0
    monkeypatch.setattr(timezone, "now", lambda: grant.expires_at + datetime.timedelta(hours=3))
    assert close_lapsed_support_grants(agency_id=tenant.agency.pk) == 1
    assert close_lapsed_support_grants(agency_id=tenant.agency.pk) == 0
    assert _only_grant(tenant, operator).end_reason == "expired"
    (expired,) = _events(tenant, action="support.expired")
    assert expired.actor_id is None and expired.acting_as_grant_id is None


def test_asking_emails_each_admin_a_link_to_the_request(
    tenant, operator, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _ask(client_for(operator, tenant.host))
    grant = _only_grant(tenant, operator)
    (message,) = mail.outbox
    assert message.to == [tenant.admin.email]
    assert REASON in message.body
    link = agency_origin(tenant.agency) + reverse("staff:support_grant", args=[grant.pk])
    assert f"{link}\n" in message.body
    (asked,) = _events(tenant, action="support.requested")
    assert (asked.actor_id, asked.acting_as_grant_id) == (operator.pk, None)


def test_a_grant_of_the_staff_role_acts_as_staff_and_no_more(tenant, operator, client_for):
    assert _ask(client_for(operator, tenant.host), role=SupportRole.STAFF).status_code == 302
    grant = _only_grant(tenant, operator)
    client_for(tenant.admin, tenant.host).post(
        reverse("staff:support_grant_approve", args=[grant.pk])
    )
    op = client_for(operator, tenant.host)
    saved = op.post(reverse("staff:notifications"), {"daily_digest": "on"})
    assert saved.status_code == 302  # staff save their own notification choices
    records_request = file_request(tenant)
    close = op.post(reverse("staff:request_close", args=[records_request.number]), {})
    assert close.status_code == 403  # staff do not close requests
    assert op.get(reverse("staff:member_list")).status_code == 403
    (changed,) = _events(tenant, action="notifications.preferences_changed")
    assert (changed.actor_id, changed.acting_as_grant_id) == (operator.pk, grant.pk)
