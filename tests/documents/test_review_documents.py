"""Regression tests for the documents security review: release and redaction ordering,
files not fully checked, multi-page images, quarantined and blocked files, preview cost."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.tenancy import agency_context
from documents import access, versions
from documents.errors import DocumentError
from documents.models import Document, DocumentStatus, Redaction, RedactionReason
from documents.redaction import services as redaction_services
from documents.redaction import working
from documents.release import document_release
from requests_portal.services import submission as request_submission
from tests.documents.helpers import pdf_with_text, stored_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def records_request(tenant):
    with agency_context(tenant.agency):
        return request_submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Council correspondence",
            description="Letters to the council.",
            contact=request_submission.Contact(name="Pat"),
            channel="web",
        )


@pytest.fixture
def reason(tenant):
    with agency_context(tenant.agency):
        return RedactionReason.objects.create(agency=tenant.agency, label="Privacy")


def release(document, level, actor, **kwargs):
    with agency_context(document.agency_id):
        return document_release(document=document, level=level, actor=actor, **kwargs)


def archive_finds(tenant, term: str, title: str) -> bool:
    response = Client(HTTP_HOST=tenant.host).get(reverse("archive"), {"q": term})
    return title.encode() in response.content


def test_redacting_a_public_document_removes_the_words_from_the_archive_search(
    tenant, records_request, reason, django_capture_on_commit_callbacks
):
    document = stored_document(records_request, pdf_with_text("Letter from Zebulon Quartermaine"))
    with django_capture_on_commit_callbacks(execute=True):
        release(document, "public", tenant.publisher)
    assert archive_finds(tenant, "Quartermaine", records_request.title)
    with agency_context(tenant.agency):
        redaction_services.redaction_add_search(
            document=document, actor=tenant.publisher, reason=reason, term="Zebulon Quartermaine"
        )
        with django_capture_on_commit_callbacks(execute=True):
            redaction_services.redaction_finalise(document=document, actor=tenant.publisher)
    assert not archive_finds(tenant, "Quartermaine", records_request.title)
    assert archive_finds(tenant, "Letter", records_request.title)


def test_a_search_redaction_log_does_not_keep_the_term(tenant, records_request, reason):
    document = stored_document(records_request, pdf_with_text("Letter from Zebulon"))
    with agency_context(tenant.agency):
        redaction_services.redaction_add_search(
            document=document, actor=tenant.publisher, reason=reason, term="Zebulon"
        )
        (row,) = Redaction.objects.filter(document=document)
    assert "Zebulon" not in row.note
    assert row.note == "Z… (7 characters)"


def test_no_release_while_redactions_are_drafted_or_being_applied(tenant, records_request, reason):
    document = stored_document(records_request, pdf_with_text("Letter from Zebulon"))
    with agency_context(tenant.agency):
        redaction_services.redaction_add_search(
            document=document, actor=tenant.publisher, reason=reason, term="Zebulon"
        )
    with pytest.raises(DocumentError, match="not applied yet"):
        release(document, "public", tenant.publisher)
    with agency_context(tenant.agency):
        Redaction.objects.filter(document=document).delete()
        Document.objects.filter(pk=document.pk).update(redaction_running=True)
        document.refresh_from_db()
    with pytest.raises(DocumentError, match="not applied yet"):
        release(document, "requester", tenant.publisher)
    release(document, "staff", tenant.publisher)  # taking it back is always possible


def test_a_file_not_fully_checked_for_personal_data_needs_an_audited_override(
    tenant, records_request
):
    document = stored_document(records_request, pdf_with_text("Big export"))
    with agency_context(tenant.agency):
        Document.objects.filter(pk=document.pk).update(
            pii_checked=False, status_detail="Larger than 200 MB: not checked for personal data."
        )
        document.refresh_from_db()
    with pytest.raises(DocumentError, match="could not be checked"):
        release(document, "public", tenant.publisher)
    release(document, "requester", tenant.publisher)  # the requester asked for it
    release(document, "public", tenant.publisher, override_reason="Checked by hand, no SSNs")


def _two_page_tiff() -> bytes:
    pages = [Image.new("RGB", (200, 100), "white"), Image.new("RGB", (300, 150), "white")]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    return out.getvalue()


def test_every_page_of_a_multi_page_tiff_can_be_previewed_and_boxed(
    tenant, records_request, reason
):
    document = stored_document(
        records_request, _two_page_tiff(), filename="scan.tif", content_type="image/tiff"
    )
    with agency_context(tenant.agency):
        assert working.page_info(document) == [(200.0, 100.0), (300.0, 150.0)]
        assert working.preview_png(document, 2).startswith(b"\x89PNG")
        row = redaction_services.redaction_add_box(
            document=document,
            actor=tenant.staff,
            reason=reason,
            page=2,
            left=10,
            top=10,
            width=20,
            height=20,
        )
    assert row.page == 2


@pytest.mark.parametrize("status", [DocumentStatus.BLOCKED, DocumentStatus.QUARANTINED])
def test_quarantined_and_blocked_files_are_neither_downloaded_nor_parsed_by_staff_pages(
    tenant, records_request, client_for, status
):
    document = stored_document(records_request, pdf_with_text("Suspicious"), status=status)
    client = client_for(tenant.staff, tenant.host)
    kwargs = {"number": records_request.number, "document_id": document.public_id}
    link = client.post(reverse("staff:document_link", kwargs={**kwargs, "version": 1}))
    assert link.status_code == 302
    assert "/documents/download/" not in link["Location"]
    assert client.get(reverse("staff:document_redact", kwargs=kwargs)).status_code == 404
    preview = reverse("staff:document_page_image", kwargs={**kwargs, "page": 1})
    assert client.get(preview).status_code == 404


def test_previews_do_not_decrypt_the_file_again_for_every_page(
    tenant, records_request, client_for, monkeypatch
):
    document = stored_document(records_request, pdf_with_text("Letter", pages=4))
    reads = []
    original = versions.version_bytes
    monkeypatch.setattr(
        versions,
        "version_bytes",
        lambda version, limit: reads.append(1) or original(version, limit=limit),
    )
    client = client_for(tenant.staff, tenant.host)
    kwargs = {"number": records_request.number, "document_id": document.public_id}
    assert client.get(reverse("staff:document_redact", kwargs=kwargs)).status_code == 200
    for page in (1, 2, 3, 4, 1, 2):
        url = reverse("staff:document_page_image", kwargs={**kwargs, "page": page})
        assert client.get(url).status_code == 200
    assert len(reads) <= 5  # sizes once, each page once; repeats come from the cache
    with agency_context(tenant.agency):
        assert access.original_version(document).number == 1


def test_a_head_request_is_not_a_download(tenant, records_request, client_for):
    document = stored_document(records_request, pdf_with_text("Minutes"))
    client = client_for(tenant.staff, tenant.host)
    kwargs = {"number": records_request.number, "document_id": document.public_id, "version": 1}
    link = client.post(reverse("staff:document_link", kwargs=kwargs))["Location"]
    assert client.head(link).status_code == 405


def test_document_text_stays_searchable_when_the_request_is_indexed_again(
    tenant, records_request, django_capture_on_commit_callbacks
):
    # The trigger of requests_portal migration 0010 rebuilds a request's entry from its own
    # text; it must keep the released documents' text (attachments_vector) with it.
    document = stored_document(records_request, pdf_with_text("Invoice from Ambrose Fenwick"))
    with django_capture_on_commit_callbacks(execute=True):
        release(document, "public", tenant.publisher)
    assert archive_finds(tenant, "Fenwick", records_request.title)
    with agency_context(tenant.agency):
        type(records_request).objects.filter(agency=tenant.agency, pk=records_request.pk).update(
            title="Council correspondence, 2026"
        )
    assert archive_finds(tenant, "Fenwick", "Council correspondence, 2026")
    assert archive_finds(tenant, "2026", "Council correspondence, 2026")


def test_document_text_full_of_sql_and_search_syntax_is_indexed_as_plain_words(
    tenant, records_request, django_capture_on_commit_callbacks
):
    # documents.search writes the text with a hand-written UPDATE: it must be bound as a
    # parameter, never spliced into the statement.
    hostile = "O'Brien said '); DROP TABLE documents_document; -- & !quokka | %s %(x)s"
    document = stored_document(records_request, pdf_with_text(hostile))
    with django_capture_on_commit_callbacks(execute=True):
        release(document, "public", tenant.publisher)
    assert archive_finds(tenant, "quokka", records_request.title)
    assert archive_finds(tenant, "Brien", records_request.title)
    with agency_context(tenant.agency):
        assert Document.objects.filter(agency=tenant.agency, pk=document.pk).exists()
