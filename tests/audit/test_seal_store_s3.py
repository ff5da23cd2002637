"""Seals in S3 with Object Lock, against a real gateway (Ceph's RADOS Gateway, Pacific).

What the gateway does: buckets created with Object Lock, COMPLIANCE retention on each PUT,
refusing to delete a locked version or to shorten its retention. What it does not: honour
``If-None-Match: *`` on PUT (AWS does), so a second PUT on a seal's name adds a version; the
store reads the first version of every name, and audit_verify reports the later ones (and
delete markers) as tampering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from audit.seals import format as seal_format
from audit.seals import services
from audit.seals.store import S3SealStore, SealExists, seal_store
from tests.audit.helpers import add_committed_events, committed_agency, seal_committed
from tests.idp._process import free_port

pytestmark = pytest.mark.django_db


def _check_of(result, agency):
    [check] = [c for c in result.chains if c.agency_id == agency.pk]
    return check


def test_seals_are_written_with_a_compliance_lock_of_more_than_a_year(seal_bucket):
    agency = committed_agency("s3-sealed", events=2)
    run = seal_committed()
    name = seal_format.seal_name(seal_format.chain_name(agency.pk), 1)
    assert name in run.sealed
    client = seal_bucket.client()
    retention = client.get_object_retention(Bucket=seal_bucket.name, Key=name)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    assert retention["RetainUntilDate"] > datetime.now(UTC) + timedelta(days=365)
    version = client.head_object(Bucket=seal_bucket.name, Key=name)["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=seal_bucket.name, Key=name, VersionId=version)
    with pytest.raises(ClientError, match="AccessDenied"):
        client.put_object_retention(
            Bucket=seal_bucket.name,
            Key=name,
            VersionId=version,
            Retention={
                "Mode": "COMPLIANCE",
                "RetainUntilDate": datetime.now(UTC) + timedelta(days=1),
            },
        )
    seal = seal_format.parse(client.get_object(Bucket=seal_bucket.name, Key=name)["Body"].read())
    assert (seal.agency_id, seal.events) == (agency.pk, 2)


def test_an_overwritten_or_deleted_seal_keeps_its_locked_first_version(seal_bucket):
    agency = committed_agency("s3-tampered", events=2)
    seal_committed()
    add_committed_events(agency, 1)
    seal_committed()
    client = seal_bucket.client()
    first = seal_format.seal_name(seal_format.chain_name(agency.pk), 1)
    second = seal_format.seal_name(seal_format.chain_name(agency.pk), 2)
    client.put_object(Bucket=seal_bucket.name, Key=first, Body=b'{"forged": true}')
    client.delete_object(Bucket=seal_bucket.name, Key=second)  # a delete marker
    check = _check_of(services.verify_chains(), agency)
    assert check.first_bad_position is None  # the sealed positions still check out
    assert check.seals == 2
    assert any(f"{first} was written over 1 time(s)" in p for p in check.problems)
    assert any(f"{second} was deleted" in p for p in check.problems)


def test_the_store_refuses_to_write_a_name_twice(seal_bucket):
    store = seal_store()
    assert isinstance(store, S3SealStore)
    store.put("seals/agency-999999/0000000001.json", b"{}")
    with pytest.raises(SealExists):
        store.put("seals/agency-999999/0000000001.json", b"{}")


def test_a_gateway_that_is_down_leaves_the_seals_to_retry(seal_bucket, settings):
    committed_agency("s3-down", events=1)
    settings.DOCUMENTS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    from audit.seals import store

    store.reset_cache()
    run = seal_committed()
    assert run.failed and not run.sealed
