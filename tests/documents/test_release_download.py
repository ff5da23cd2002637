"""Release levels and download links: who sees what, and every way a link is refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents import keys, links, versions
from documents.errors import DocumentError
from documents.models import (
    DocumentStatus,
    DownloadGrant,
    Finding,
    ReleaseLevel,
    VersionKind,
)
from documents.release import document_release
from requests_portal.models import Visibility
from requests_portal.services import submission as request_submission
from requests_portal.services.holds import hold_release, release_unhold
from tests.documents.helpers import pdf_with_text, stored_document
from vault import crypto
from vault.locations import documents_store

pytestmark = pytest.mark.django_db

CONTENT = pdf_with_text("Council minutes, January", "Budget line 42")


def submit(tenant, *, visibility=Visibility.PUBLISHED, requester=None):
    """A web request; filed by ``requester`` (signed in) when given, else by a guest."""
    with agency_context(tenant.agency):
        records_request = request_submission.request_submit(
            agency=tenant.agency,
            actor=requester,
            title="Minutes of the council",
            description="All minutes of January.",
            contact=request_submission.Contact(
                name="Rita Requester", email=requester.email if requester else ""
            ),
            channel="web",
        )
        if records_request.visibility != visibility:
            records_request.visibility = visibility
            records_request.save(update_fields=["visibility"])
    return records_request


@pytest.fixture
def published(tenant):
    return submit(tenant)


@pytest.fixture
def document(published, tenant):
    return stored_document(published, CONTENT, actor=tenant.staff)


def events(agency, action):
    with agency_context(agency):
        return list(AuditEvent.objects.filter(agency=agency, action=action).order_by("id"))


def staff_link(client, document, number=1):
    url = reverse(
        "staff:document_link",
        kwargs={
            "number": document.request.number,
            "document_id": document.public_id,
            "version": number,
        },
    )
    response = client.post(url)
    assert response.status_code == 303, response.status_code
    return response["Location"]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def release(document, level, actor, **kwargs):
    with agency_context(document.agency_id):
        return document_release(document=document, level=level, actor=actor, **kwargs)


# --- Staff downloads ------------------------------------------------------------------------------


def test_staff_download_streams_the_plaintext_as_an_attachment_and_is_audited(
    tenant, document, client_for
):
    client = client_for(tenant.staff, tenant.host)
    link = staff_link(client, document)
    assert re.fullmatch(r"/documents/download/[^/]+/", link)
    response = client.get(link)
    assert response.status_code == 200
    assert body(response) == CONTENT
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="minutes.pdf"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    (issued,) = events(tenant.agency, "document.link_issued")
    (downloaded,) = events(tenant.agency, "document.downloaded")
    assert issued.actor_id == downloaded.actor_id == tenant.staff.pk
    assert downloaded.ip == "127.0.0.1"
    assert downloaded.details["version"] == 1


def test_the_stored_object_is_ciphertext_only(tenant, document):
    with agency_context(tenant.agency):
        version = document.versions.get()
    stored = b"".join(documents_store("default").read(version.storage_name))
    assert stored.startswith(b"RPD")
    assert b"Council minutes" not in stored
    assert version.stored_size == len(stored) > version.size


def test_a_link_used_by_someone_else_is_refused_and_audited(tenant, document, client_for):
    link = staff_link(client_for(tenant.staff, tenant.host), document)
    other = client_for(tenant.publisher, tenant.host)
    response = other.get(link)
    assert response.status_code == 403
    assert b"made for someone else" in response.content
    (refused,) = events(tenant.agency, "document.download_refused")
    assert refused.details == {"reason": "issued to someone else"}
    assert refused.actor_id == tenant.publisher.pk


def test_an_expired_link_is_refused(tenant, document, client_for):
    client = client_for(tenant.staff, tenant.host)
    link = staff_link(client, document)
    with agency_context(tenant.agency):
        DownloadGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(link)
    assert response.status_code == 410
    assert events(tenant.agency, "document.download_refused")[0].details["reason"] == "expired"


def test_a_link_past_its_signature_age_is_refused(tenant, document, client_for, settings):
    client = client_for(tenant.staff, tenant.host)
    link = staff_link(client, document)
    settings.DOCUMENT_LINK_SECONDS = -1  # the signature is now older than allowed
    assert client.get(link).status_code == 410


@pytest.mark.parametrize("change", ["flip", "truncate", "garbage"])
def test_a_tampered_link_is_refused(tenant, document, client_for, change):
    client = client_for(tenant.staff, tenant.host)
    token = staff_link(client, document).split("/")[-2]
    tampered = {
        "flip": token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:],
        "truncate": token[:-5],
        "garbage": "not-a-token",
    }[change]
    response = client.get(reverse("document_download", args=[tampered]))
    assert response.status_code == 403
    assert events(tenant.agency, "document.download_refused")


def test_a_revoked_link_is_refused(tenant, document, client_for):
    client = client_for(tenant.staff, tenant.host)
    link = staff_link(client, document)
    with agency_context(tenant.agency):
        links.link_revoke_all(document=document)
    assert client.get(link).status_code == 403
    assert events(tenant.agency, "document.download_refused")[0].details["reason"] == "revoked"


def test_another_agencys_host_refuses_the_link(tenant, other_tenant, document, client_for):
    link = staff_link(client_for(tenant.staff, tenant.host), document)
    response = client_for(tenant.staff, other_tenant.host).get(link)
    assert response.status_code == 403


def test_outsiders_get_404_on_document_pages(tenant, outsider, document, client_for):
    client = client_for(outsider, tenant.host)
    detail = reverse(
        "staff:document_detail",
        kwargs={"number": document.request.number, "document_id": document.public_id},
    )
    assert client.get(detail).status_code == 404
    assert client.post(detail + "versions/1/download/").status_code == 404


def test_a_corrupted_stored_segment_fails_the_download_loudly(tenant, document, client_for):
    with agency_context(tenant.agency):
        version = document.versions.get()
    path = documents_store("default").root / version.storage_name
    data = bytearray(path.read_bytes())
    data[crypto.HEADER_SIZE + 10] ^= 0x01
    path.write_bytes(bytes(data))
    client = client_for(tenant.staff, tenant.host)
    response = client.get(staff_link(client, document))
    with pytest.raises(crypto.DecryptionError):
        body(response)


def test_after_crypto_shredding_downloads_answer_gone(tenant, document, client_for):
    client = client_for(tenant.staff, tenant.host)
    link = staff_link(client, document)
    with agency_context(tenant.agency):
        keys.destroy_agency_keys(tenant.agency.pk)
    response = client.get(link)
    assert response.status_code == 410
    assert b"no longer available" in response.content


# --- Release -------------------------------------------------------------------------------------


def test_unscanned_documents_cannot_be_released(tenant, published):
    quarantined = stored_document(published, CONTENT, status=DocumentStatus.QUARANTINED)
    with pytest.raises(DocumentError, match="scanned"):
        release(quarantined, ReleaseLevel.PUBLIC, tenant.publisher)


def test_public_release_needs_a_public_request(tenant):
    restricted = submit(tenant, visibility=Visibility.ALL_STAFF)
    document = stored_document(restricted, CONTENT)
    with pytest.raises(DocumentError, match="not public"):
        release(document, ReleaseLevel.PUBLIC, tenant.publisher)
    release(document, ReleaseLevel.REQUESTER, tenant.publisher)  # still allowed


def test_a_release_hold_blocks_every_release_but_staff_until_lifted(tenant, published):
    document = stored_document(published, CONTENT)
    with agency_context(tenant.agency):
        hold_release(
            records_request=published, actor=tenant.publisher, reason="fee INV-2026-0001 unpaid"
        )
    for level in (ReleaseLevel.REQUESTER, ReleaseLevel.PUBLIC):
        with pytest.raises(DocumentError, match="held: fee INV-2026-0001 unpaid"):
            release(document, level, tenant.publisher)
    release(document, ReleaseLevel.STAFF, tenant.publisher)  # internal sharing still works
    with agency_context(tenant.agency):
        published.refresh_from_db()
        release_unhold(records_request=published, actor=tenant.publisher, why="fee paid")
        kinds = list(published.timeline.values_list("kind", flat=True))
    assert "release_held" in kinds and "release_unheld" in kinds
    release(document, ReleaseLevel.PUBLIC, tenant.publisher)


def test_unresolved_findings_block_public_release_unless_overridden_and_audited(tenant, document):
    with agency_context(tenant.agency):
        Finding.objects.create(
            agency=tenant.agency,
            document=document,
            kind="ssn",
            location="page 1",
            excerpt="***-**-6789",
            value_digest="1" * 64,
            page=1,
        )
    with pytest.raises(DocumentError, match="unresolved"):
        release(document, ReleaseLevel.PUBLIC, tenant.publisher)
    release(document, ReleaseLevel.PUBLIC, tenant.publisher, override_reason="Court order 24-7")
    (override,) = events(tenant.agency, "document.release_override")
    assert override.details["reason"] == "Court order 24-7"
    assert override.actor_id == tenant.publisher.pk


def test_staff_role_cannot_release(tenant, document, client_for):
    url = reverse(
        "staff:document_release",
        kwargs={"number": document.request.number, "document_id": document.public_id},
    )
    response = client_for(tenant.staff, tenant.host).post(url, {"level": "public"})
    assert response.status_code == 403


def test_release_through_the_page_records_who_and_when(tenant, document, client_for):
    url = reverse(
        "staff:document_release",
        kwargs={"number": document.request.number, "document_id": document.public_id},
    )
    response = client_for(tenant.publisher, tenant.host).post(url, {"level": "public"})
    assert response.status_code == 302
    with agency_context(tenant.agency):
        document.refresh_from_db()
    assert document.release == ReleaseLevel.PUBLIC
    assert document.released_by_id == tenant.publisher.pk
    (released,) = events(tenant.agency, "document.released")
    assert released.details["level"] == "Released to the public"


def test_bulk_release_reports_each_document(tenant, published, client_for):
    good = stored_document(published, CONTENT, filename="a.pdf")
    waiting = stored_document(
        published, CONTENT, filename="b.pdf", status=DocumentStatus.QUARANTINED
    )
    client = client_for(tenant.publisher, tenant.host)
    response = client.post(
        reverse("staff:request_documents_release", args=[published.number]),
        {"documents": [str(good.public_id), str(waiting.public_id)], "level": "requester"},
        follow=True,
    )
    text = response.content.decode()
    assert "1 document(s)" in text
    assert "b.pdf: Only scanned documents can be released." in text
    with agency_context(tenant.agency):
        good.refresh_from_db()
        waiting.refresh_from_db()
    assert (good.release, waiting.release) == (ReleaseLevel.REQUESTER, ReleaseLevel.STAFF)


# --- Requesters and the public ------------------------------------------------------------------


def resident_link(client, document, tracking=""):
    url = reverse(
        "resident_document_link",
        kwargs={"number": document.request.number, "document_id": document.public_id},
    )
    return client.post(url, {"t": tracking} if tracking else {})


def test_the_public_downloads_public_documents_through_a_per_visitor_link(
    tenant, document, client_for
):
    release(document, ReleaseLevel.PUBLIC, tenant.publisher)
    visitor = Client(HTTP_HOST=tenant.host)
    page = visitor.get(reverse("request_detail", args=[document.request.number]))
    assert b"minutes.pdf" in page.content
    response = resident_link(visitor, document)
    assert response.status_code == 303
    link = response["Location"]
    assert body(visitor.get(link)) == CONTENT
    # Another visitor (another session) cannot use it.
    stranger = Client(HTTP_HOST=tenant.host)
    stranger.get("/")
    assert stranger.get(link).status_code == 403


def test_the_public_does_not_see_documents_released_to_the_requester(tenant, document, client_for):
    release(document, ReleaseLevel.REQUESTER, tenant.publisher)
    visitor = Client(HTTP_HOST=tenant.host)
    page = visitor.get(reverse("request_detail", args=[document.request.number]))
    assert b"minutes.pdf" not in page.content
    assert resident_link(visitor, document).status_code == 404


def test_the_requester_downloads_documents_released_to_them(tenant, client_for):
    own = submit(tenant, requester=tenant.requester)
    document = stored_document(own, CONTENT)
    release(document, ReleaseLevel.REQUESTER, tenant.publisher)
    client = client_for(tenant.requester, tenant.host)
    page = client.get(reverse("request_detail", args=[own.number]))
    assert b"minutes.pdf" in page.content
    response = resident_link(client, document)
    assert body(client.get(response["Location"])) == CONTENT
    (downloaded,) = events(tenant.agency, "document.downloaded")
    assert downloaded.details["audience"] == "requester"


def test_a_staff_only_document_is_invisible_to_residents(tenant, document):
    visitor = Client(HTTP_HOST=tenant.host)
    assert resident_link(visitor, document).status_code == 404


def test_residents_get_the_redacted_version_never_the_original(tenant, document, client_for):
    redacted = pdf_with_text("Council minutes, [redacted]")
    with agency_context(tenant.agency):
        versions.version_create(
            document=document, kind=VersionKind.REDACTED, chunks=[redacted], actor=tenant.staff
        )
    release(document, ReleaseLevel.PUBLIC, tenant.publisher)
    visitor = Client(HTTP_HOST=tenant.host)
    assert body(visitor.get(resident_link(visitor, document)["Location"])) == redacted


def test_withdrawing_a_release_stops_links_already_given(tenant, document):
    release(document, ReleaseLevel.PUBLIC, tenant.publisher)
    visitor = Client(HTTP_HOST=tenant.host)
    link = resident_link(visitor, document)["Location"]
    release(document, ReleaseLevel.STAFF, tenant.publisher)
    assert visitor.get(link).status_code == 403


def test_a_document_of_a_request_that_stops_being_public_stops_downloading(tenant, document):
    release(document, ReleaseLevel.PUBLIC, tenant.publisher)
    visitor = Client(HTTP_HOST=tenant.host)
    link = resident_link(visitor, document)["Location"]
    with agency_context(tenant.agency):
        document.request.visibility = Visibility.ALL_STAFF
        document.request.save(update_fields=["visibility"])
    assert visitor.get(link).status_code == 403
