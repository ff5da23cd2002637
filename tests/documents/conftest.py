"""Fixtures of the document tests: stores in per-test folders (never the developer's
.local), a real S3 gateway for the session (tests/documents/s3_server.py) with fresh buckets
per test, and a records request to attach documents to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from documents import keys
from tests.documents.s3_server import S3Gateway, start_s3_gateway
from tests.idp._process import ServerStartError, ServiceUnavailable
from tests.idp.fixtures import service_unavailable
from vault import storage


def _forget_stores() -> None:
    storage.reset_cache()
    keys.forget_cached_keys()


@pytest.fixture(autouse=True)
def isolated_stores(settings, tmp_path) -> Iterator[None]:
    """Both local stores in this test's temp folder, and no S3 unless a test asks for it
    (a DOCUMENTS_S3_BUCKET in the developer's environment is never written to)."""
    settings.DOCUMENTS_LOCAL_ROOT = tmp_path / "documents"
    settings.KEYSTORE_LOCAL_ROOT = tmp_path / "keystore"
    settings.DOCUMENTS_S3_BUCKET = ""
    settings.KEYSTORE_S3_BUCKET = ""
    settings.DOCUMENTS_S3_SSE = ""
    settings.DOCUMENTS_KMS_KEY_ID = ""
    _forget_stores()
    yield
    _forget_stores()


@pytest.fixture(scope="session")
def s3_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Gateway]:
    """Ceph's RADOS Gateway on a one-node cluster, started once per test session."""
    gateway = problem = None
    try:
        gateway = start_s3_gateway(tmp_path_factory.mktemp("s3-gateway"))
    except (ServiceUnavailable, ServerStartError) as error:
        problem = error
    if gateway is None:
        service_unavailable(f"the S3 gateway (Ceph RADOS Gateway) cannot run: {problem}")
    try:
        # The first bucket makes the gateway create its data pools: done here, not in the
        # first test's time.
        gateway.remove_bucket(gateway.new_bucket("warm-up"))
        yield gateway
    finally:
        gateway.stop()


@dataclass
class S3Buckets:
    gateway: S3Gateway
    documents: str
    keystore: str

    def client(self):
        return self.gateway.client()

    def document_key(self, storage_name: str) -> str:
        return "documents/" + storage_name

    def fetch(self, storage_name: str) -> bytes:
        """The object behind a document version, fetched around the portal."""
        response = self.client().get_object(
            Bucket=self.documents, Key=self.document_key(storage_name)
        )
        return response["Body"].read()


@pytest.fixture
def s3_bucket(s3_gateway: S3Gateway, settings, isolated_stores) -> Iterator[S3Buckets]:
    """The portal pointed at two fresh buckets of the gateway: documents and the key store
    (removed with their objects after the test)."""
    buckets = S3Buckets(
        gateway=s3_gateway,
        documents=s3_gateway.new_bucket("documents"),
        keystore=s3_gateway.new_bucket("keystore"),
    )
    settings.DOCUMENTS_S3_BUCKET = buckets.documents
    settings.KEYSTORE_S3_BUCKET = buckets.keystore
    settings.DOCUMENTS_S3_ENDPOINT_URL = s3_gateway.endpoint
    settings.DOCUMENTS_S3_ADDRESSING_STYLE = "path"
    settings.DOCUMENTS_S3_REGION = s3_gateway.region
    settings.DOCUMENTS_S3_ACCESS_KEY_ID = s3_gateway.access_key
    settings.DOCUMENTS_S3_SECRET_ACCESS_KEY = s3_gateway.secret_key
    _forget_stores()
    try:
        yield buckets
    finally:
        _forget_stores()
        for name in (buckets.documents, buckets.keystore):
            s3_gateway.remove_bucket(name)


@pytest.fixture
def records_request(tenant):
    """A request of agency A (the `tenant` fixture) to attach documents to."""
    from accounts.tenancy import agency_context
    from requests_portal.services import submission

    with agency_context(tenant.agency):
        return submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Budget spreadsheets",
            description="The 2025 budget working files.",
            contact=submission.Contact(name="Document Requester"),
            channel="web",
        )
