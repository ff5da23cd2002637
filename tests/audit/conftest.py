"""Fixtures of the audit tests: a real S3 gateway (Ceph's RADOS Gateway, as the document
tests use) with a fresh Object Lock bucket for the seals."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from audit.seals import store
from tests.documents.s3_server import S3Gateway, start_s3_gateway
from tests.idp._process import ServerStartError, ServiceUnavailable
from tests.idp.fixtures import service_unavailable


@pytest.fixture(scope="session")
def seal_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Gateway]:
    """Ceph's RADOS Gateway on a one-node cluster, started once per test session. Its
    objects live in memory and die with it: locked seals need no clean-up."""
    gateway = problem = None
    try:
        gateway = start_s3_gateway(tmp_path_factory.mktemp("seal-gateway"))
    except (ServiceUnavailable, ServerStartError) as error:
        problem = error
    if gateway is None:
        service_unavailable(f"the S3 gateway (Ceph RADOS Gateway) cannot run: {problem}")
    try:
        yield gateway
    finally:
        gateway.stop()


@dataclass
class SealBucket:
    gateway: S3Gateway
    name: str

    def client(self):
        return self.gateway.client()


@pytest.fixture
def seal_bucket(seal_gateway: S3Gateway, settings) -> Iterator[SealBucket]:
    """The portal's seal store pointed at a fresh bucket created with Object Lock."""
    name = f"seals-{secrets.token_hex(6)}"
    seal_gateway.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    settings.AUDIT_SEAL_S3_BUCKET = name
    settings.DOCUMENTS_S3_ENDPOINT_URL = seal_gateway.endpoint
    settings.DOCUMENTS_S3_ADDRESSING_STYLE = "path"
    settings.DOCUMENTS_S3_REGION = seal_gateway.region
    settings.DOCUMENTS_S3_ACCESS_KEY_ID = seal_gateway.access_key
    settings.DOCUMENTS_S3_SECRET_ACCESS_KEY = seal_gateway.secret_key
    store.reset_cache()
    yield SealBucket(seal_gateway, name)
    store.reset_cache()
