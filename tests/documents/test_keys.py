"""The key hierarchy: agency keys made once, re-sealed and rotated without touching content,
destroyed for good (crypto-shredding), kept apart from the database, bound to their agency;
AWS KMS as the outer layer; and the rotate_keys command."""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from accounts.models import Agency
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents import keys
from documents.models import AgencyKey, DocumentVersion, Upload
from documents.upload import services as upload_services
from requests_portal.services import agency_settings as request_agency_settings
from tests.db_helpers import run_in_committed_thread
from tests.documents.key_helpers import MARKER, new_master_key, new_version, read
from vault import crypto, keyring, locations


def stored_ciphertext(version: DocumentVersion) -> bytes:
    return b"".join(locations.documents_store("default").read(version.storage_name))


def only_escrow_name(agency_id: int) -> str:
    (name,) = keys.escrow_names(agency_id)
    return name


def escrow_files() -> dict[str, bytes]:
    root = Path(django_settings.KEYSTORE_LOCAL_ROOT)
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


# --- Making the first key ----------------------------------------------------------------------


def committed_agency(prefix: str) -> Agency:
    """An agency of this test's own, committed (rows committed by threads outlive the test)."""
    slug = f"{prefix}-{uuid.uuid4().hex[:10]}"

    def create():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        with agency_context(agency):
            request_agency_settings.agency_setup_defaults(agency=agency, state="CA")
        return agency

    return run_in_committed_thread(create)


def shred_committed(agency: Agency) -> None:
    """What a test left committed is made unreadable for good (and skipped by rotate_keys)."""

    def destroy():
        with agency_context(agency):
            keys.destroy_agency_keys(agency.pk)

    run_in_committed_thread(destroy)


def race(*functions) -> list:
    """Run each function in its own committed thread, all released at the same moment."""
    barrier = threading.Barrier(len(functions))
    outcomes: list = [None] * len(functions)

    def worker(index, fn):
        def released():
            barrier.wait(timeout=60)
            return fn()

        try:
            outcomes[index] = run_in_committed_thread(released)
        except BaseException as exc:  # noqa: BLE001 (asserted by the test)
            outcomes[index] = exc

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_the_first_uploads_racing_make_agency_key_v1_exactly_once(db, monkeypatch):
    agency = committed_agency("first-key")
    real_create = keys.create_agency_key

    def slow_create(agency_id):  # widens the window in which both see no key yet
        threading.Event().wait(0.3)
        return real_create(agency_id)

    monkeypatch.setattr(keys, "create_agency_key", slow_create)
    document_ids = [str(uuid.uuid4()), str(uuid.uuid4())]

    def upload(document_id):
        def start():
            with agency_context(agency):
                return keys.new_wrapped_data_key(agency.pk, document_id, 1)

        return start

    try:
        outcomes = race(*(upload(document_id) for document_id in document_ids))

        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        assert {kek_version for _, kek_version, _ in outcomes} == {1}
        with agency_context(agency):
            assert list(AgencyKey.objects.filter(agency=agency).values_list("version")) == [(1,)]
            for document_id, (data_key, _, wrapped) in zip(document_ids, outcomes, strict=True):
                keys.forget_cached_keys()
                assert keys.data_key(agency.pk, document_id, 1, 1, wrapped) == data_key
        (only,) = escrow_files()
        assert [only] == keys.escrow_names(agency.pk)
        assert re.fullmatch(rf"agency-{agency.pk}/key-1-[0-9a-f]{{24}}", only)
    finally:
        shred_committed(agency)


def test_two_rotations_racing_leave_every_document_readable(db):
    agency = committed_agency("rotate-race")

    def setup():
        with agency_context(agency):
            return new_version(agency).pk

    version_pk = run_in_committed_thread(setup)

    def rotate():
        with agency_context(agency):
            return keys.rotate(agency.pk)

    try:
        outcomes = race(rotate, rotate)

        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        assert sorted(version for version, _ in outcomes) == [2, 3]
        keys.forget_cached_keys()
        with agency_context(agency):
            version = DocumentVersion.objects.get(pk=version_pk)
            assert version.kek_version == 3
            assert read(version) == MARKER * 3000
            for number in (1, 2, 3):  # every escrow key still there, each with its row
                assert len(keys.agency_key(agency.pk, number)) == 32
    finally:
        shred_committed(agency)


# --- Master key rotation (re-seal) and agency key rotation ------------------------------------


def test_reseal_moves_agency_keys_to_the_new_master_key_so_the_old_one_can_go(tenant, settings):
    old = list(settings.PORTAL_MASTER_KEYS)
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        row = AgencyKey.objects.get(agency=tenant.agency, version=1)
        settings.PORTAL_MASTER_KEYS = [new_master_key(), *old]

        assert keys.reseal(tenant.agency.pk) == 1
        assert keys.reseal(tenant.agency.pk) == 0  # nothing left on an old key

        resealed = AgencyKey.objects.get(pk=row.pk)
        assert bytes(resealed.wrapped) != bytes(row.wrapped)
        assert keyring.sealed_with_current_key(resealed.wrapped)
        settings.PORTAL_MASTER_KEYS = settings.PORTAL_MASTER_KEYS[:1]  # the old key is gone
        keys.forget_cached_keys()
        assert read(version) == MARKER * 3000


def test_without_reseal_removing_the_old_master_key_makes_the_key_unavailable(tenant, settings):
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        settings.PORTAL_MASTER_KEYS = [new_master_key()]
        keys.forget_cached_keys()

        with pytest.raises(keys.KeyUnavailable, match="no longer configured"):
            read(version)


def test_rotate_rewraps_every_data_key_with_v2_and_leaves_the_content_untouched(
    tenant, records_request
):
    with agency_context(tenant.agency):
        versions = [new_version(tenant.agency, MARKER * n, records_request) for n in (1, 900)]
        upload = upload_services.upload_start(
            records_request=records_request, filename="later.txt", size=10, actor=tenant.staff
        )
        before = {v.pk: (bytes(v.wrapped_key), stored_ciphertext(v)) for v in versions}

        new_kek_version, rewrapped = keys.rotate(tenant.agency.pk)

        assert (new_kek_version, rewrapped) == (2, 3)  # two versions and the open upload
        for version in versions:
            version.refresh_from_db()
            assert version.kek_version == 2
            assert bytes(version.wrapped_key) != before[version.pk][0]
            assert stored_ciphertext(version) == before[version.pk][1]  # byte for byte
        assert [read(v) for v in versions] == [MARKER, MARKER * 900]
        upload = Upload.objects.get(pk=upload.pk)
        assert upload.kek_version == 2
        upload = upload_services.upload_chunk(upload=upload, index=0, data=b"0123456789")
        document = upload_services.upload_complete(upload=upload, actor=tenant.staff)
        assert read(DocumentVersion.objects.get(document=document)) == b"0123456789"
        assert sorted(AgencyKey.objects.filter(agency=tenant.agency).values_list("version")) == [
            (1,),
            (2,),
        ]


# --- Crypto-shredding --------------------------------------------------------------------------


def test_destroyed_keys_leave_documents_unreadable_even_with_the_row_restored_from_a_backup(
    tenant,
):
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        backup = {
            row.pk: (bytes(row.wrapped), row.backend)
            for row in AgencyKey.objects.filter(agency=tenant.agency)
        }

        assert keys.destroy_agency_keys(tenant.agency.pk) == 1

        with pytest.raises(keys.KeyUnavailable):
            read(version)
        assert escrow_files() == {}
        row = AgencyKey.objects.get(agency=tenant.agency)
        assert bytes(row.wrapped) == b"\x00" * len(backup[row.pk][0])
        # The database restored from last night's backup: the row as it was.
        AgencyKey.objects.filter(pk=row.pk).update(
            wrapped=backup[row.pk][0], backend=backup[row.pk][1], destroyed_at=None
        )
        keys.forget_cached_keys()
        with pytest.raises(keys.KeyUnavailable, match="escrow"):
            read(version)


def test_an_agency_whose_keys_were_destroyed_gets_no_new_key(tenant, records_request):
    with agency_context(tenant.agency):
        new_version(tenant.agency, records_request=records_request)
        keys.destroy_agency_keys(tenant.agency.pk)

        with pytest.raises(keys.KeyUnavailable):
            new_version(tenant.agency, records_request=records_request)
        with pytest.raises(keys.KeyUnavailable):
            upload_services.upload_start(
                records_request=records_request, filename="x.txt", size=10, actor=tenant.staff
            )
        with pytest.raises(keys.KeyUnavailable):
            keys.rotate(tenant.agency.pk)
        assert not AgencyKey.objects.filter(
            agency=tenant.agency, destroyed_at__isnull=True
        ).exists()
        assert escrow_files() == {}


# --- Where keys are kept -----------------------------------------------------------------------


def test_the_key_store_holds_only_escrow_keys_and_the_database_no_escrow_key(tenant):
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        kek = keys.agency_key(tenant.agency.pk, 1)
        data_key = keys.version_data_key(version)
        row = AgencyKey.objects.get(agency=tenant.agency)

    files = escrow_files()
    (name,) = keys.escrow_names(tenant.agency.pk)
    assert list(files) == [name] and name.startswith(f"agency-{tenant.agency.pk}/key-1-")
    escrow = files[name]
    assert len(escrow) == 32
    assert escrow not in (kek, data_key)  # the key store: escrow keys, nothing else
    database = bytes(row.wrapped) + bytes(version.wrapped_key)
    for secret in (escrow, kek, data_key):  # the database: only wrapped keys
        assert secret not in database
    assert kek not in stored_ciphertext(version) and data_key not in stored_ciphertext(version)


def test_one_agencys_key_cannot_open_another_agencys_data_keys(tenant, other_tenant):
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        document_id = str(version.document.public_id)
        wrapped = bytes(version.wrapped_key)
    with agency_context(other_tenant.agency):
        new_version(other_tenant.agency)
        other_kek = keys.agency_key(other_tenant.agency.pk, 1)

        with pytest.raises(keys.KeyUnavailable):
            keys.data_key(other_tenant.agency.pk, document_id, 1, 1, wrapped)
    # Not only the associated data: B's key itself does not open A's data key.
    aad = f"documents/data-key|agency={tenant.agency.pk}|document={document_id}|version=1"
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap(other_kek, wrapped, aad=aad.encode())


def test_the_s3_key_store_holds_the_escrow_key_and_shredding_deletes_it(s3_bucket, tenant):
    client = s3_bucket.client()
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        name = "keystore/" + only_escrow_name(tenant.agency.pk)
        escrow = client.get_object(Bucket=s3_bucket.keystore, Key=name)["Body"].read()
        assert len(escrow) == 32
        assert escrow not in bytes(version.wrapped_key)
        listed = client.list_objects_v2(Bucket=s3_bucket.documents)["Contents"]
        assert [item["Key"] for item in listed] == ["documents/" + version.storage_name]

        keys.destroy_agency_keys(tenant.agency.pk)

        assert client.list_objects_v2(Bucket=s3_bucket.keystore).get("KeyCount") == 0
        with pytest.raises(keys.KeyUnavailable):
            read(version)


# --- AWS KMS as the outer layer ------------------------------------------------------------------


@pytest.fixture(scope="module")
def kms_endpoint():
    """moto's KMS on a free loopback port (the real boto3 client talks to it over HTTP)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def kms(kms_endpoint, settings, monkeypatch):
    """The portal configured for AWS KMS with a new key; returns a KMS client."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    client = boto3.client("kms", region_name="us-east-1", endpoint_url=kms_endpoint)
    settings.DOCUMENTS_KMS_KEY_ID = client.create_key(Description="portal tests")["KeyMetadata"][
        "KeyId"
    ]
    settings.DOCUMENTS_KMS_REGION = "us-east-1"
    settings.DOCUMENTS_KMS_ENDPOINT_URL = kms_endpoint
    return client


def test_with_aws_kms_agency_keys_are_sealed_by_kms_and_documents_round_trip(tenant, kms):
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        row = AgencyKey.objects.get(agency=tenant.agency)

        assert row.backend == AgencyKey.Backend.KMS
        assert not bytes(row.wrapped).startswith(b"s1")  # not the master keyring's format
        keys.forget_cached_keys()
        assert read(version) == MARKER * 3000


def test_kms_refuses_an_agency_key_presented_for_another_agency(tenant, other_tenant, kms):
    with agency_context(tenant.agency):
        new_version(tenant.agency)
        stolen = AgencyKey.objects.get(agency=tenant.agency)
        stolen_escrow = b"".join(
            locations.key_store("default").read(only_escrow_name(tenant.agency.pk))
        )
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(
            CiphertextBlob=bytes(stolen.wrapped),
            EncryptionContext={"agency": str(other_tenant.agency.pk), "version": "1"},
        )
    with agency_context(other_tenant.agency):
        version = new_version(other_tenant.agency)
        # Agency A's sealed key and escrow copied over B's: KMS itself refuses to open it.
        AgencyKey.objects.filter(agency=other_tenant.agency, version=1).update(
            wrapped=bytes(stolen.wrapped)
        )
        locations.key_store("default").write(
            only_escrow_name(other_tenant.agency.pk), [stolen_escrow]
        )
        keys.forget_cached_keys()

        with pytest.raises(keys.KeyUnavailable, match="KMS refused") as raised:
            read(version)
        assert raised.value.__cause__.response["Error"]["Code"] == "InvalidCiphertextException"


def test_reseal_moves_master_sealed_agency_keys_to_kms(tenant, kms, settings):
    kms_key_id = settings.DOCUMENTS_KMS_KEY_ID
    settings.DOCUMENTS_KMS_KEY_ID = ""
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        assert AgencyKey.objects.get(agency=tenant.agency).backend == AgencyKey.Backend.MASTER
        settings.DOCUMENTS_KMS_KEY_ID = kms_key_id

        assert keys.reseal(tenant.agency.pk) == 1

        assert AgencyKey.objects.get(agency=tenant.agency).backend == AgencyKey.Backend.KMS
        settings.PORTAL_MASTER_KEYS = [new_master_key()]  # the master key no longer matters
        keys.forget_cached_keys()
        assert read(version) == MARKER * 3000


# --- manage.py rotate_keys ----------------------------------------------------------------------


def rotate_keys(*args) -> tuple[str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def line_of(output: str, slug: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(slug + ":"))


def test_rotate_keys_reseals_every_agency_with_the_new_master_key(tenant, other_tenant, settings):
    old = list(settings.PORTAL_MASTER_KEYS)
    versions = {}
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            versions[each.agency.slug] = new_version(each.agency)
    settings.PORTAL_MASTER_KEYS = [new_master_key(), *old]

    out, _ = rotate_keys()

    assert line_of(out, tenant.agency.slug) == f"{tenant.agency.slug}: re-sealed 1 key version(s)"
    assert "re-sealed 1 key version(s)" in line_of(out, other_tenant.agency.slug)
    settings.PORTAL_MASTER_KEYS = settings.PORTAL_MASTER_KEYS[:1]
    keys.forget_cached_keys()
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            assert read(versions[each.agency.slug]) == MARKER * 3000
            assert not AuditEvent.objects.filter(
                agency=each.agency, action="document.keys_rotated"
            ).exists()


def test_rotate_keys_with_a_new_agency_key_rotates_and_records_the_audit_event(tenant):
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        before = stored_ciphertext(version)

    out, _ = rotate_keys("--agency", tenant.agency.slug, "--new-agency-key")

    assert out.strip() == (
        f"{tenant.agency.slug}: re-sealed 0 key version(s), new agency key v2, "
        "re-wrapped 1 data key(s)"
    )
    with agency_context(tenant.agency):
        event = AuditEvent.objects.get(agency=tenant.agency, action="document.keys_rotated")
        assert event.details["version"] == 2
        version.refresh_from_db()
        assert version.kek_version == 2
        assert stored_ciphertext(version) == before
        assert read(version) == MARKER * 3000


def test_rotate_keys_names_the_agency_whose_key_cannot_be_opened_and_fails(
    tenant, other_tenant, settings
):
    with agency_context(tenant.agency):
        new_version(tenant.agency)
    settings.PORTAL_MASTER_KEYS = [new_master_key()]  # the key that sealed it is gone
    with agency_context(other_tenant.agency):
        new_version(other_tenant.agency)  # sealed with the new key: fine

    for args in ((), ("--new-agency-key",)):
        with pytest.raises(CommandError, match=tenant.agency.slug):
            rotate_keys(*args)
    with pytest.raises(CommandError, match=tenant.agency.slug):
        rotate_keys("--agency", tenant.agency.slug)
    with agency_context(tenant.agency):
        assert AgencyKey.objects.filter(agency=tenant.agency).count() == 1  # left as it was


def test_rotate_keys_fails_when_an_escrow_key_is_missing(tenant):
    with agency_context(tenant.agency):
        new_version(tenant.agency)
    locations.key_store("default").delete(only_escrow_name(tenant.agency.pk))
    keys.forget_cached_keys()

    with pytest.raises(CommandError, match=tenant.agency.slug):
        rotate_keys("--agency", tenant.agency.slug)


def test_rotate_keys_skips_agencies_without_keys_and_with_destroyed_keys(tenant, other_tenant):
    with agency_context(other_tenant.agency):
        new_version(other_tenant.agency)
        keys.destroy_agency_keys(other_tenant.agency.pk)

    out, _ = rotate_keys("--new-agency-key")

    assert line_of(out, tenant.agency.slug).endswith("no keys yet (made on the first upload)")
    assert line_of(out, other_tenant.agency.slug).endswith("keys destroyed, nothing to do")
    with agency_context(tenant.agency):
        assert not AgencyKey.objects.filter(agency=tenant.agency).exists()


def test_rotate_keys_refuses_an_unknown_agency(db):
    with pytest.raises(CommandError, match="no-such-agency"):
        rotate_keys("--agency", "no-such-agency")
