"""A closed request's public page says what its reader can actually see of the records: a
closing reason of "Records released in full" must not read as a promise of records the page
does not show."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tenancy import agency_context
from documents.release import document_release
from requests_portal.services import agency_settings, lifecycle
from requests_portal.tracking import tracking_token
from tests.documents.helpers import pdf_with_text, stored_document
from tests.requests_portal.helpers import closure_reason, file_request, reload

pytestmark = pytest.mark.django_db

RELEASED_IN_FULL = "Records released in full"


@pytest.fixture
def closed_request(tenant, django_capture_on_commit_callbacks):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
    records_request = file_request(
        tenant, visibility="published", email="resident@example.test", name="Pat"
    )
    document = stored_document(records_request, pdf_with_text("The minutes"))
    with agency_context(tenant.agency), django_capture_on_commit_callbacks():
        lifecycle.request_close(
            records_request=records_request,
            actor=tenant.admin,
            reason=closure_reason(tenant, RELEASED_IN_FULL),
        )
    return reload(tenant, records_request), document


def release(document, level, actor, captured):
    with agency_context(document.agency_id), captured():
        document_release(document=document, level=level, actor=actor)


def public_page(tenant, records_request) -> str:
    url = reverse("request_detail", args=[records_request.number])
    response = Client(HTTP_HOST=tenant.host).get(url)
    assert response.status_code == 200
    return response.content.decode()


def requester_page(tenant, records_request) -> str:
    url = reverse("request_detail", args=[records_request.number])
    response = Client(HTTP_HOST=tenant.host).get(url, {"t": tracking_token(records_request)})
    assert response.status_code == 200
    return response.content.decode()


def test_released_to_the_requester_only_the_public_page_says_none_are_published_here(
    tenant, closed_request, django_capture_on_commit_callbacks
):
    records_request, document = closed_request
    release(document, "requester", tenant.publisher, django_capture_on_commit_callbacks)
    page = public_page(tenant, records_request)
    assert RELEASED_IN_FULL in page
    assert "Released to the requester only; none are published here." in page
    assert "Released records are listed below." not in page
    assert document.filename not in page
    mine = requester_page(tenant, records_request)
    assert "Your released records are listed below." in mine
    assert document.filename in mine


def test_released_to_the_public_the_public_page_points_to_the_records(
    tenant, closed_request, django_capture_on_commit_callbacks
):
    records_request, document = closed_request
    release(document, "public", tenant.publisher, django_capture_on_commit_callbacks)
    page = public_page(tenant, records_request)
    assert "Released records are listed below." in page
    assert document.filename in page


def test_with_nothing_released_neither_page_promises_records(tenant, closed_request):
    records_request, _document = closed_request
    assert "None are published here." in public_page(tenant, records_request)
    assert "None are available to download here." in requester_page(tenant, records_request)
