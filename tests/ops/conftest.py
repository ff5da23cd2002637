"""Fixtures of the backup tests: the backups in this test's folder under a key of its own,
dumped by the embedded server's superuser from the test database; a real S3 gateway for the
session (tests/documents/s3_server.py) when a test asks for a bucket."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.documents.s3_server import S3Gateway, start_s3_gateway
from tests.idp._process import ServerStartError, ServiceUnavailable
from tests.idp.fixtures import service_unavailable
from tests.ops.helpers import BackupSetup, copy_of_test_database, drop_database
from vault import storage


@pytest.fixture(scope="session")
def backed_up_database(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The database the backups are taken of (tests/ops/helpers.py), for the session."""
    with django_db_blocker.unblock():
        name = copy_of_test_database(connection.settings_dict["NAME"])
    yield name
    with django_db_blocker.unblock():
        drop_database(name)


@pytest.fixture
def backups(backed_up_database, settings, tmp_path, db) -> Iterator[BackupSetup]:
    key = os.urandom(32)
    database = dict(settings.BACKUPS.database, NAME=backed_up_database)
    settings.BACKUPS = settings.BACKUPS._replace(
        key=key, old_keys=[], s3_bucket="", local_root=tmp_path / "backups", database=database
    )
    storage.reset_cache()
    yield BackupSetup(settings, tmp_path / "backups", key, backed_up_database)
    storage.reset_cache()


@pytest.fixture(scope="session")
def s3_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Gateway]:
    gateway = problem = None
    try:
        gateway = start_s3_gateway(tmp_path_factory.mktemp("s3-gateway"))
    except (ServiceUnavailable, ServerStartError) as error:
        problem = error
    if gateway is None:
        service_unavailable(f"the S3 gateway (Ceph RADOS Gateway) cannot run: {problem}")
    try:
        gateway.remove_bucket(gateway.new_bucket("warm-up"))
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def backup_bucket(backups, s3_gateway, settings) -> Iterator[str]:
    """The backups in a fresh bucket of the gateway (removed afterwards)."""
    bucket = s3_gateway.new_bucket("backups")
    settings.BACKUPS = settings.BACKUPS._replace(s3_bucket=bucket)
    settings.DOCUMENTS_S3_ENDPOINT_URL = s3_gateway.endpoint
    settings.DOCUMENTS_S3_ADDRESSING_STYLE = "path"
    settings.DOCUMENTS_S3_REGION = s3_gateway.region
    settings.DOCUMENTS_S3_ACCESS_KEY_ID = s3_gateway.access_key
    settings.DOCUMENTS_S3_SECRET_ACCESS_KEY = s3_gateway.secret_key
    storage.reset_cache()
    try:
        yield bucket
    finally:
        storage.reset_cache()
        s3_gateway.remove_bucket(bucket)
