"""Every download link issued and every download is in the agency's audit log, also for a
visitor who is not signed in (whose requests leave no page.view event), each on the event
of the HTTP request that did it, and never with the link's token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents.models import ReleaseLevel
from documents.release import document_release
from requests_portal.services import submission
from tests.documents.helpers import pdf_with_text, stored_document

pytestmark = pytest.mark.django_db


def _public_document(tenant):
    with agency_context(tenant.agency):
        records_request = submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Bridge inspections",
            description="Inspection reports of the Elm St bridge.",
            contact=submission.Contact(name="Pat Public"),
            channel="web",
        )
    document = stored_document(records_request, pdf_with_text("Bridge report"))
    with agency_context(tenant.agency):
        document_release(document=document, level=ReleaseLevel.PUBLIC, actor=tenant.publisher)
    return document


def _events_of(tenant, request_id: str) -> list[AuditEvent]:
    with agency_context(tenant.agency):
        return list(
            AuditEvent.objects.filter(agency=tenant.agency, request_id=request_id).order_by("id")
        )


def test_a_visitor_s_link_and_download_are_each_audited_on_their_own_request(tenant):
    document = _public_document(tenant)
    visitor = Client(HTTP_HOST=tenant.host)
    issued = visitor.post(
        reverse(
            "resident_document_link",
            kwargs={"number": document.request.number, "document_id": document.public_id},
        )
    )
    assert issued.status_code == 303
    token = issued["Location"].rstrip("/").rsplit("/", 1)[-1]
    downloaded = visitor.get(issued["Location"])
    assert downloaded.status_code == 200
    b"".join(downloaded.streaming_content)

    (link_event,) = _events_of(tenant, issued["X-Request-ID"])
    assert link_event.action == "document.link_issued"
    assert link_event.actor_id is None
    assert link_event.details["audience"] == "public"
    assert link_event.target_id == str(document.pk)

    (download_event,) = _events_of(tenant, downloaded["X-Request-ID"])
    assert download_event.action == "document.downloaded"
    assert download_event.actor_id is None
    assert download_event.target_id == str(document.pk)

    for event in (link_event, download_event):
        assert token not in str(event.details)


def test_a_refused_download_by_a_visitor_is_audited(tenant):
    document = _public_document(tenant)
    owner = Client(HTTP_HOST=tenant.host)
    link = owner.post(
        reverse(
            "resident_document_link",
            kwargs={"number": document.request.number, "document_id": document.public_id},
        )
    )["Location"]
    stranger = Client(HTTP_HOST=tenant.host)
    stranger.get("/")
    refused = stranger.get(link)
    assert refused.status_code == 403
    (event,) = _events_of(tenant, refused["X-Request-ID"])
    assert event.action == "document.download_refused"
    assert event.details == {"reason": "issued to someone else"}
