"""Redacting never dead-ends for want of a reason: every agency starts with the usual
redaction reasons (new ones when created, existing ones by a data migration), and a redact page
with none in use says so and says where to add one (or whom to ask)."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.urls import reverse

from accounts.tenancy import agency_context
from documents import access
from documents.agency_settings.services import (
    DEFAULT_REDACTION_REASONS,
    reason_retire,
    reasons_setup_defaults,
)
from documents.models import RedactionReason
from requests_portal.services import submission as request_submission
from tests.documents.helpers import pdf_with_text, stored_document
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def active_labels(agency) -> list[str]:
    with agency_context(agency):
        return sorted(access.redaction_reasons(agency).values_list("label", flat=True))


def test_a_new_agency_starts_with_the_usual_reasons():
    agency = AgencyFactory(slug="charlie", name="Charlie Test Agency")
    labels = active_labels(agency)
    assert labels == sorted(DEFAULT_REDACTION_REASONS)
    assert "Personal privacy" in labels
    assert "Attorney-client privilege" in labels


def test_setting_up_again_adds_nothing_and_keeps_a_retired_reason_retired(tenant):
    with agency_context(tenant.agency):
        privacy = RedactionReason.objects.get(agency=tenant.agency, label="Personal privacy")
        reason_retire(reason=privacy, actor=tenant.admin)
        assert reasons_setup_defaults(agency=tenant.agency, actor=tenant.admin) == 0
    assert "Personal privacy" not in active_labels(tenant.agency)


def test_the_data_migration_gives_an_existing_agency_the_reasons_it_lacks(tenant, other_tenant):
    with agency_context(tenant.agency):
        RedactionReason.objects.filter(agency=tenant.agency).delete()
        RedactionReason.objects.create(
            agency=tenant.agency, label="Juvenile records", is_active=False
        )
    assert active_labels(tenant.agency) == []
    migration = importlib.import_module("documents.migrations.0005_default_redaction_reasons")

    class SchemaEditor:
        pass

    editor = SchemaEditor()
    editor.connection = connection  # type: ignore[attr-defined]
    with agency_context(None, platform=True):
        migration.add_default_reasons(None, editor)
    assert active_labels(tenant.agency) == sorted(
        set(DEFAULT_REDACTION_REASONS) - {"Juvenile records"}
    )
    assert active_labels(other_tenant.agency) == sorted(DEFAULT_REDACTION_REASONS)


@pytest.fixture
def document_without_reasons(tenant):
    with agency_context(tenant.agency):
        records_request = request_submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Council correspondence",
            description="Letters to the council.",
            contact=request_submission.Contact(name="Pat"),
            channel="web",
        )
        for reason in RedactionReason.objects.filter(agency=tenant.agency):
            reason_retire(reason=reason, actor=tenant.admin)
    document = stored_document(records_request, pdf_with_text("Letter"))
    return reverse(
        "staff:document_redact",
        kwargs={"number": records_request.number, "document_id": document.public_id},
    )


def test_with_no_reason_in_use_an_admin_is_sent_to_the_reason_settings(
    tenant, client_for, document_without_reasons
):
    page = client_for(tenant.admin, tenant.host).get(document_without_reasons)
    assert page.status_code == 200
    text = page.content.decode()
    assert "No redaction reasons are set up" in text
    settings_link = reverse("staff:document_settings") + "#redaction-reasons"
    assert f'href="{settings_link}"' in text
    settings_page = client_for(tenant.admin, tenant.host).get(reverse("staff:document_settings"))
    assert 'id="redaction-reasons"' in settings_page.content.decode()


def test_with_no_reason_in_use_staff_who_cannot_change_settings_are_told_whom_to_ask(
    tenant, client_for, document_without_reasons
):
    page = client_for(tenant.staff, tenant.host).get(document_without_reasons)
    assert page.status_code == 200
    text = page.content.decode()
    assert "No redaction reasons are set up" in text
    assert "Ask an agency administrator" in text
    assert reverse("staff:document_settings") not in text


def test_with_the_usual_reasons_the_redact_page_offers_them(tenant, client_for):
    with agency_context(tenant.agency):
        records_request = request_submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Council correspondence",
            description="Letters to the council.",
            contact=request_submission.Contact(name="Pat"),
            channel="web",
        )
    document = stored_document(records_request, pdf_with_text("Letter"))
    url = reverse(
        "staff:document_redact",
        kwargs={"number": records_request.number, "document_id": document.public_id},
    )
    text = client_for(tenant.staff, tenant.host).get(url).content.decode()
    assert "No redaction reasons are set up" not in text
    assert "Security-sensitive information" in text
