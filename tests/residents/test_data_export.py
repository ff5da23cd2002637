"""A resident downloads everything the portal holds about them: asked for on their data
page, built by a task, shown with its progress, downloaded by its owner only."""

import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents.models import Document, DocumentStatus, ReleaseLevel
from requests_portal.models import Message
from residents.models import DataExport, ExportStatus
from residents.services import exports
from tests.billing.helpers import sent_invoice
from tests.documents.helpers import stored_document
from tests.requests_portal.helpers import file_request

pytestmark = pytest.mark.django_db


def _release(records_request, document, level):
    with agency_context(records_request.agency_id):
        Document.objects.filter(pk=document.pk).update(release=level)


def _ask(client, django_capture_on_commit_callbacks) -> DataExport:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("residents:data"))
    assert response.status_code == 302
    return DataExport.objects.get(public_id=response.url.rstrip("/").split("/")[-1])


def _zip(client, export) -> zipfile.ZipFile:
    response = client.get(reverse("residents:export_download", args=[export.public_id]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def filed(tenant, other_tenant):
    """The resident's requests in both agencies, a stranger's request, documents released to
    them or not, an upload of theirs, a message and an invoice."""
    resident = tenant.requester
    resident.full_name = "Ana Ruiz"
    resident.save(update_fields=["full_name"])
    mine = file_request(tenant, requester=resident, name="Ana Ruiz", email=resident.email)
    elsewhere = file_request(
        other_tenant, requester=resident, title="Police logs", email=resident.email
    )
    stranger = file_request(tenant, requester=other_tenant.requester, title="Someone else's")
    released = stored_document(
        mine, b"released text", filename="released.txt", content_type="text/plain"
    )
    _release(mine, released, ReleaseLevel.REQUESTER)
    stored_document(mine, b"staff only", filename="internal.txt", content_type="text/plain")
    upload = stored_document(
        elsewhere,
        b"my own scan",
        filename="my-scan.txt",
        content_type="text/plain",
        actor=resident,
    )
    with agency_context(other_tenant.agency):
        Document.objects.filter(pk=upload.pk).update(uploaded_by_requester=True)
    theirs = stored_document(
        stranger, b"not yours", filename="theirs.txt", content_type="text/plain"
    )
    _release(stranger, theirs, ReleaseLevel.PUBLIC)
    with agency_context(tenant.agency):
        Message.objects.create(
            agency=tenant.agency,
            request=mine,
            kind="to_requester",
            author=tenant.staff,
            body="We found the minutes.",
        )
        Message.objects.create(
            agency=tenant.agency,
            request=mine,
            kind="internal",
            author=tenant.staff,
            body="Internal note: do not share",
        )
    sent_invoice(tenant, mine, unit_cents=1250)
    return mine, elsewhere, stranger


def test_the_zip_holds_their_data_from_every_agency_and_nothing_else(
    tenant, other_tenant, filed, client_for, django_capture_on_commit_callbacks
):
    mine, elsewhere, _stranger = filed
    client = client_for(tenant.requester, tenant.host)
    export = _ask(client, django_capture_on_commit_callbacks)
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.expires_at > timezone.now() + timezone.timedelta(days=6)
    archive = _zip(client, export)
    data = json.loads(archive.read("data.json"))
    assert data["account"]["name"] == "Ana Ruiz"
    by_agency = {part["agency"]: part for part in data["agencies"]}
    assert set(by_agency) == {tenant.agency.name, other_tenant.agency.name}
    numbers = [r["number"] for part in data["agencies"] for r in part["requests"]]
    assert sorted(numbers) == sorted([mine.number, elsewhere.number])
    first = by_agency[tenant.agency.name]["requests"][0]
    bodies = [m["body"] for m in first["messages"]]
    assert "We found the minutes." in bodies
    assert "Internal note: do not share" not in bodies
    assert first["timeline"]
    assert first["invoices"][0]["total_cents"] == 1250
    assert by_agency[tenant.agency.name]["activity"]
    names = archive.namelist()
    released = [n for n in names if n.endswith("released.txt")]
    assert len(released) == 1 and mine.number in released[0]
    assert archive.read(released[0]) == b"released text"
    own = [n for n in names if n.endswith("my-scan.txt")]
    assert len(own) == 1 and archive.read(own[0]) == b"my own scan"
    assert not [n for n in names if n.endswith(("internal.txt", "theirs.txt"))]
    text = archive.read("data.json").decode()
    assert "Someone else's" not in text
    # Every step audited.
    with agency_context(None, platform=True):
        built = AuditEvent.objects.filter(action="own_data.export_built", actor=tenant.requester)
        assert built.count() == 1
    with agency_context(tenant.agency):
        actions = set(
            AuditEvent.objects.filter(actor=tenant.requester).values_list("action", flat=True)
        )
    assert {"own_data.export_asked", "own_data.export_downloaded"} <= actions


def test_the_export_is_stored_encrypted(
    tenant, filed, client_for, django_capture_on_commit_callbacks, settings
):
    client = client_for(tenant.requester, tenant.host)
    export = _ask(client, django_capture_on_commit_callbacks)
    export.refresh_from_db()
    stored = (settings.DOCUMENTS_LOCAL_ROOT / export.storage_name).read_bytes()
    assert b"data.json" not in stored and b"Ana Ruiz" not in stored


def test_another_user_gets_404_for_the_export(
    tenant, other_tenant, filed, client_for, django_capture_on_commit_callbacks
):
    export = _ask(client_for(tenant.requester, tenant.host), django_capture_on_commit_callbacks)
    for someone in (other_tenant.requester, tenant.admin, other_tenant.admin):
        client = client_for(someone, tenant.host)
        for name in ("residents:export_status", "residents:export_download"):
            assert client.get(reverse(name, args=[export.public_id])).status_code == 404


def test_the_status_page_refreshes_while_building_and_links_when_ready(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)
    export = DataExport.objects.create(
        user=tenant.requester, status=ExportStatus.BUILDING, progress=40
    )
    page = client.get(reverse("residents:export_status", args=[export.public_id]))
    html = page.content.decode()
    assert 'http-equiv="refresh"' in html and "40%" in html
    assert reverse("residents:export_download", args=[export.public_id]) not in html
    assert (
        client.get(reverse("residents:export_download", args=[export.public_id])).status_code == 404
    )


def test_expired_exports_are_deleted_by_upkeep(
    tenant, filed, client_for, django_capture_on_commit_callbacks, settings
):
    client = client_for(tenant.requester, tenant.host)
    export = _ask(client, django_capture_on_commit_callbacks)
    export.refresh_from_db()
    path = settings.DOCUMENTS_LOCAL_ROOT / export.storage_name
    assert path.exists()
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    assert exports.exports_expire() == 1
    assert not path.exists()
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED
    assert (
        client.get(reverse("residents:export_download", args=[export.public_id])).status_code == 404
    )


def test_a_quarantined_upload_is_not_copied(tenant, client_for, django_capture_on_commit_callbacks):
    mine = file_request(tenant, requester=tenant.requester)
    doc = stored_document(
        mine,
        b"EICAR-ish",
        filename="bad.txt",
        content_type="text/plain",
        status=DocumentStatus.BLOCKED,
        actor=tenant.requester,
    )
    with agency_context(tenant.agency):
        Document.objects.filter(pk=doc.pk).update(uploaded_by_requester=True)
    client = client_for(tenant.requester, tenant.host)
    archive = _zip(client, _ask(client, django_capture_on_commit_callbacks))
    assert not [n for n in archive.namelist() if n.endswith("bad.txt")]


def test_asked_on_the_platforms_own_domain_too(
    tenant, filed, client_for, django_capture_on_commit_callbacks, settings
):
    client = client_for(tenant.requester, settings.PORTAL_BASE_DOMAIN)
    export = _ask(client, django_capture_on_commit_callbacks)
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    names = _zip(client, export).namelist()
    assert "data.json" in names
    with agency_context(None, platform=True):
        asked = AuditEvent.objects.filter(
            agency__isnull=True, action="own_data.export_asked", actor=tenant.requester
        )
        assert asked.exists()
