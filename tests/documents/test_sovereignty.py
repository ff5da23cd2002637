"""Data sovereignty (issue 13) on the real S3 gateway: two storage locations, two buckets.
An agency in the second location keeps its documents, upload parts, escrow keys and audit
archives in that location's bucket only, encrypted there with the location's KMS key; an
agency in the default location is unchanged; a resident's export lies in the default location
and carries only documents of agencies there; a location is fixed once anything is stored."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.services.agencies import agency_storage_location_change
from accounts.services.errors import ServiceError
from accounts.tenancy import agency_context
from audit import retention
from documents import keys, versions
from documents.models import Document, DocumentVersion, ReleaseLevel
from documents.upload import services as upload_services
from requests_portal.services import agency_settings
from residents.models import DataExport, ExportStatus
from tests.audit.retention_helpers import make_old_events, old_month
from tests.documents.helpers import stored_document
from tests.factories import AgencyFactory, UserFactory
from tests.requests_portal.helpers import file_request
from vault import storage

pytestmark = pytest.mark.django_db

CONTENT = b"Frankfurt payroll, kept in Frankfurt.\n" * 200


@pytest.fixture
def frankfurt(s3_bucket, s3_gateway, settings):
    """A second location, "eu", with a bucket of its own and the gateway's KMS key; the
    default location is the s3_bucket fixture's two buckets, without SSE."""
    bucket = s3_gateway.new_bucket("frankfurt")
    settings.STORAGE_LOCATIONS = {
        "default": {"label": "Oregon (us-west-2)"},
        "eu": {
            "label": "Frankfurt (eu-central-1)",
            "bucket": bucket,
            "region": s3_gateway.region,
            "kms_key_id": s3_gateway.kms_key_id,
        },
    }
    storage.reset_cache()
    keys.forget_cached_keys()
    try:
        yield bucket
    finally:
        storage.reset_cache()
        s3_gateway.remove_bucket(bucket)


@pytest.fixture
def operator(db):
    return UserFactory(email="olive@platform.test", is_staff=True)


def _keys(client, bucket: str) -> set[str]:
    listed = client.list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def _of_agency(found: set[str], agency_id: int) -> set[str]:
    return {key for key in found if f"agency-{agency_id}/" in key}


def _in_frankfurt(tenant, operator):
    return agency_storage_location_change(
        operator=operator, agency=tenant.agency, storage_location="eu"
    )


def test_an_agency_in_a_location_stores_only_there_encrypted_with_its_kms_key(
    s3_bucket, frankfurt, tenant, other_tenant, operator, records_request
):
    tenant.agency = _in_frankfurt(tenant, operator)
    with agency_context(tenant.agency):
        document = upload_services.upload_whole(
            records_request=records_request,
            filename="payroll.txt",
            size=len(CONTENT),
            chunks=[CONTENT],
            actor=tenant.staff,
        )
        version = DocumentVersion.objects.get(document=document, number=1)
        assert b"".join(versions.version_read(version)) == CONTENT
    client = s3_bucket.client()
    agency_id = tenant.agency.pk
    in_frankfurt = _keys(client, frankfurt)
    assert f"documents/{version.storage_name}" in in_frankfurt
    escrow = "keystore/" + keys.escrow_names(agency_id)[0]
    assert escrow in in_frankfurt
    # Nothing of it in the default location's buckets, nor an upload left unfinished there.
    assert _of_agency(_keys(client, s3_bucket.documents), agency_id) == set()
    assert _of_agency(_keys(client, s3_bucket.keystore), agency_id) == set()
    assert client.list_multipart_uploads(Bucket=s3_bucket.documents).get("Uploads") is None
    # The gateway reports the location's KMS key on what it stored.
    for key in (f"documents/{version.storage_name}", escrow):
        head = client.head_object(Bucket=frankfurt, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == s3_bucket.gateway.kms_key_id

    # An agency of the default location: unchanged, in the default buckets, no SSE.
    other_request = file_request(other_tenant)
    other = stored_document(
        other_request, b"Oregon minutes", filename="m.txt", content_type="text/plain"
    )
    with agency_context(other_tenant.agency):
        other_version = DocumentVersion.objects.get(document=other, number=1)
    assert f"documents/{other_version.storage_name}" in _keys(client, s3_bucket.documents)
    other_escrow = "keystore/" + keys.escrow_names(other_tenant.agency.pk)[0]
    assert other_escrow in _keys(client, s3_bucket.keystore)
    assert _of_agency(_keys(client, frankfurt), other_tenant.agency.pk) == set()
    head = client.head_object(
        Bucket=s3_bucket.documents, Key=f"documents/{other_version.storage_name}"
    )
    assert "ServerSideEncryption" not in head

    # Its location is now fixed: a change is refused and nothing moves.
    with pytest.raises(ServiceError, match="cannot be changed"):
        agency_storage_location_change(
            operator=operator, agency=tenant.agency, storage_location="default"
        )
    tenant.agency.refresh_from_db()
    assert tenant.agency.storage_location == "eu"
    # The other agency has stored something too: it stays where it is as well.
    with pytest.raises(ServiceError, match="cannot be changed"):
        agency_storage_location_change(
            operator=operator, agency=other_tenant.agency, storage_location="eu"
        )


def test_an_agency_s_audit_archive_goes_to_its_location(s3_bucket, frankfurt):
    agency = AgencyFactory(slug="archived-eu", storage_location="eu")
    month = old_month()
    make_old_events(agency.pk, month, 3)
    retention.archive_month(month, [agency.pk])
    client = s3_bucket.client()
    assert _of_agency(_keys(client, frankfurt), agency.pk) == {
        f"audit-archives/agency-{agency.pk}/{month:%Y-%m}.jsonl.enc",
        f"audit-archives/agency-{agency.pk}/{month:%Y-%m}.manifest.json",
        "keystore/" + keys.escrow_names(agency.pk)[0],  # wraps the archive key
    }
    assert _of_agency(_keys(client, s3_bucket.documents), agency.pk) == set()
    assert _of_agency(_keys(client, s3_bucket.keystore), agency.pk) == set()
    # And it is restored from there.
    call_command("audit_restore_archive", agency=agency.slug, month=f"{month:%Y-%m}")
    call_command("audit_restore_archive", agency=agency.slug, month=f"{month:%Y-%m}", drop=True)


def test_a_resident_s_export_lies_in_the_default_location_without_other_locations_documents(
    s3_bucket,
    frankfurt,
    tenant,
    other_tenant,
    operator,
    client_for,
    django_capture_on_commit_callbacks,
):
    tenant.agency = _in_frankfurt(tenant, operator)
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            agency_settings.agency_setup_defaults(agency=each.agency, state="CA")
    resident = tenant.requester
    in_eu = file_request(tenant, requester=resident, email=resident.email)
    at_home = file_request(other_tenant, requester=resident, email=resident.email, title="Logs")
    eu_doc = stored_document(
        in_eu, b"EU-ONLY released text", filename="eu.txt", content_type="text/plain"
    )
    home_doc = stored_document(
        at_home, b"Oregon released text", filename="home.txt", content_type="text/plain"
    )
    for request, document in ((in_eu, eu_doc), (at_home, home_doc)):
        with agency_context(request.agency_id):
            Document.objects.filter(pk=document.pk).update(release=ReleaseLevel.REQUESTER)
    client = s3_bucket.client()
    before_eu = _keys(client, frankfurt)

    web = client_for(resident, tenant.host)
    with django_capture_on_commit_callbacks(execute=True):
        answer = web.post(reverse("residents:data"))
    assert answer.status_code == 302
    export = DataExport.objects.get(user=resident)
    assert export.status == ExportStatus.READY
    assert f"documents/{export.storage_name}" in _keys(client, s3_bucket.documents)
    assert _keys(client, frankfurt) == before_eu  # the export added nothing there
    response = web.get(reverse("residents:export_download", args=[export.public_id]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert [n for n in names if n.endswith("home.txt")]
    assert not [n for n in names if n.endswith("eu.txt")]
    assert all(b"EU-ONLY" not in archive.read(n) for n in names)
    data = json.loads(archive.read("data.json"))
    eu_part = next(p for p in data["agencies"] if p["agency"] == tenant.agency.name)
    held = eu_part["documents_not_included"]
    assert held["storage_location"] == "Frankfurt (eu-central-1)"
    assert len(held["files"]) == 1 and held["files"][0].endswith("eu.txt")
    assert tenant.agency.slug in held["site"]
    home_part = next(p for p in data["agencies"] if p["agency"] == other_tenant.agency.name)
    assert "documents_not_included" not in home_part
