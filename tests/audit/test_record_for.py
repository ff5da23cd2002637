"""audit.record_for: an event about one agency's row goes on that row's agency's chain."""

import pytest

import audit
from accounts.models import Membership
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal import audit_events

pytestmark = pytest.mark.django_db


def test_the_event_goes_on_the_agency_chain_of_its_target_with_keyword_details(tenant):
    with agency_context(tenant.agency):
        membership = Membership.objects.get(agency=tenant.agency, user=tenant.staff)
        event = audit.record_for(
            audit_events.TASK_ADDED, membership, actor=tenant.admin, title="Scan the files"
        )
        stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.agency_id == tenant.agency.pk
    assert stored.actor_id == tenant.admin.pk
    assert stored.action == "request.task_added"
    assert (stored.target_type, stored.target_id) == ("accounts.membership", str(membership.pk))
    assert stored.details == {"title": "Scan the files"}


def test_a_row_of_no_agency_is_refused_and_nothing_is_written(tenant):
    with agency_context(tenant.agency):
        before = AuditEvent.objects.count()
        with pytest.raises(ValueError, match="belongs to no agency"):
            audit.record_for(audit_events.TASK_ADDED, tenant.staff, actor=tenant.admin)
        assert AuditEvent.objects.count() == before
