"""The audit log's monthly archives in S3 (the real Ceph gateway of the document tests):
stored as ciphertext under audit-archives/, restored from there, and unreadable once the
agency's keys (escrowed in the S3 key store) are destroyed."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.tenancy import agency_context
from audit import retention
from audit.models import AuditArchive
from documents import keys
from tests.audit.retention_helpers import MARKER, make_old_events, old_month
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def test_an_archived_month_lives_in_s3_encrypted_restores_from_it_and_shreds(s3_bucket):
    agency = AgencyFactory(slug="s3-archived")
    month = old_month()
    make_old_events(agency.pk, month, 3)
    retention.archive_month(month, [agency.pk])
    with agency_context(agency):
        row = AuditArchive.objects.get(agency=agency, month=month)
    client = s3_bucket.client()
    listed = client.list_objects_v2(Bucket=s3_bucket.documents, Prefix="audit-archives/")
    keys_found = {item["Key"] for item in listed.get("Contents", [])}
    assert keys_found == {
        f"audit-archives/agency-{agency.pk}/{month:%Y-%m}.jsonl.enc",
        f"audit-archives/agency-{agency.pk}/{month:%Y-%m}.manifest.json",
    }
    body = client.get_object(Bucket=s3_bucket.documents, Key="audit-archives/" + row.blob_name)
    assert MARKER.encode() not in body["Body"].read()

    call_command("audit_restore_archive", agency=agency.slug, month=f"{month:%Y-%m}")
    call_command("audit_restore_archive", agency=agency.slug, month=f"{month:%Y-%m}", drop=True)
    with agency_context(agency):
        keys.destroy_agency_keys(agency.pk)
    with pytest.raises(CommandError, match="key is gone"):
        call_command("audit_restore_archive", agency=agency.slug, month=f"{month:%Y-%m}")
