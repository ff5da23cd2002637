"""Services re-read rows by primary key under a lock, and tasks look documents up by the id in
their message. Each such read is scoped to the agency as well, so a wrong id can only miss.

These tests run inside the document's own agency context, where row-level security would let
the row through: only the services' own agency filter stands between the id and the row.
"""

from __future__ import annotations

import pytest

from accounts.tenancy import agency_context, lock_tenant_row
from documents import access
from documents.models import Document, DocumentStatus, Redaction, RedactionReason, VersionKind
from documents.redaction import services as redaction_services
from documents.redaction import working
from documents.scan import scanner
from tests.documents.helpers import pdf_with_text, stored_document

pytestmark = pytest.mark.django_db


def test_a_locked_re_read_finds_the_row_only_in_its_own_agency(records_request, other_tenant):
    document = stored_document(records_request, b"%PDF-1.4\n", status=DocumentStatus.CLEAN)
    with agency_context(document.agency_id):
        assert lock_tenant_row(document).pk == document.pk
        document.agency_id = other_tenant.agency.pk  # an id that came from somewhere else
        with pytest.raises(Document.DoesNotExist):
            lock_tenant_row(document)


def test_a_scan_named_for_another_agency_finds_nothing(records_request, other_tenant):
    document = stored_document(
        records_request,
        b"plain text",
        filename="a.txt",
        content_type="text/plain",
        status=DocumentStatus.QUARANTINED,
    )
    with agency_context(document.agency_id):
        assert scanner.scan(other_tenant.agency.pk, document.pk) is None
        document.refresh_from_db()
    assert document.status == DocumentStatus.QUARANTINED


def test_redactions_applied_for_another_agency_change_nothing(
    tenant, records_request, other_tenant
):
    document = stored_document(records_request, pdf_with_text("Letter from Zebulon"))
    with agency_context(tenant.agency):
        reason = RedactionReason.objects.create(agency=tenant.agency, label="Privacy")
        redaction_services.redaction_add_search(
            document=document, actor=tenant.publisher, reason=reason, term="Zebulon"
        )
        Document.objects.filter(agency=tenant.agency, pk=document.pk).update(redaction_running=True)
        versions_before = access.versions(document).count()

        redaction_services.redaction_run(other_tenant.agency.pk, document.pk, tenant.publisher.pk)

        document.refresh_from_db()
        assert document.redaction_running  # the other agency's run did not touch it
        assert access.versions(document).count() == versions_before
        assert Redaction.objects.filter(document=document, applied_to__isnull=True).count() == 1

        redaction_services.redaction_run(tenant.agency.pk, document.pk, tenant.publisher.pk)
        document.refresh_from_db()
        assert not document.redaction_running, document.redaction_message
        assert access.versions(document).count() == versions_before + 1


def test_a_conversion_named_for_another_agency_converts_nothing(records_request, other_tenant):
    document = stored_document(
        records_request,
        b"Payroll for the parks department\n",
        filename="payroll.txt",
        content_type="text/plain",
        status=DocumentStatus.CLEAN,
    )
    with agency_context(document.agency_id):
        working.conversion_run(other_tenant.agency.pk, document.pk)
        assert not access.versions(document).filter(kind=VersionKind.CONVERTED).exists()

        working.conversion_run(document.agency_id, document.pk)
        assert access.versions(document).filter(kind=VersionKind.CONVERTED).exists()
