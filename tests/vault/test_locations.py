"""Storage locations (data sovereignty): what the deployment's settings make of them, and the
start-up check that refuses a wrong configuration with every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from vault import locations, storage
from vault.checks import location_problems


@pytest.fixture
def in_s3(settings, tmp_path):
    settings.DOCUMENTS_LOCAL_ROOT = tmp_path / "documents"
    settings.KEYSTORE_LOCAL_ROOT = tmp_path / "keystore"
    settings.DOCUMENTS_S3_BUCKET = "docs-oregon"
    settings.KEYSTORE_S3_BUCKET = "keys-oregon"
    settings.DOCUMENTS_S3_REGION = "us-west-2"
    settings.DOCUMENTS_S3_SSE = ""
    settings.DOCUMENTS_S3_KMS_KEY_ID = ""
    storage.reset_cache()
    yield settings
    storage.reset_cache()


def test_the_default_location_is_the_documents_settings_and_always_there(in_s3):
    in_s3.STORAGE_LOCATIONS = {}
    found = locations.locations()
    assert list(found) == ["default"]
    default = found["default"]
    assert (default.bucket, default.key_bucket, default.region) == (
        "docs-oregon",
        "keys-oregon",
        "us-west-2",
    )
    assert location_problems() == []


def test_a_location_has_its_own_bucket_region_and_kms_key(in_s3):
    in_s3.STORAGE_LOCATIONS = {
        "default": {"label": "Oregon (us-west-2)"},
        "eu-central": {
            "label": "Frankfurt (eu-central-1)",
            "bucket": "docs-frankfurt",
            "region": "eu-central-1",
            "kms_key_id": "arn:aws:kms:eu-central-1:1:key/abc",
        },
    }
    assert location_problems() == []
    assert locations.location_choices() == [
        ("default", "Oregon (us-west-2)"),
        ("eu-central", "Frankfurt (eu-central-1)"),
    ]
    frankfurt = locations.location("eu-central")
    assert frankfurt.key_bucket == "docs-frankfurt"  # the escrow keys: its own bucket too
    assert (frankfurt.sse, frankfurt.kms_key_id) == (
        "aws:kms",
        "arn:aws:kms:eu-central-1:1:key/abc",
    )
    store = locations.documents_store("eu-central")
    assert isinstance(store, storage.S3BlobStore)
    assert store.bucket == "docs-frankfurt"
    assert store.extra == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "arn:aws:kms:eu-central-1:1:key/abc",
    }
    assert store.client.meta.region_name == "eu-central-1"
    keys = locations.key_store("eu-central")
    assert isinstance(keys, storage.S3BlobStore)
    assert (keys.bucket, keys.prefix) == ("docs-frankfurt", "keystore/")
    oregon = locations.documents_store("default")
    assert isinstance(oregon, storage.S3BlobStore)
    assert oregon.bucket == "docs-oregon" and oregon.extra == {}
    with pytest.raises(locations.UnknownLocation):
        locations.documents_store("mars")


def test_without_s3_each_location_is_a_folder_and_the_default_keeps_its_own(settings, tmp_path):
    settings.DOCUMENTS_LOCAL_ROOT = tmp_path / "documents"
    settings.KEYSTORE_LOCAL_ROOT = tmp_path / "keystore"
    settings.DOCUMENTS_S3_BUCKET = ""
    settings.KEYSTORE_S3_BUCKET = ""
    settings.STORAGE_LOCATIONS = {"sydney": {"label": "Sydney"}}
    storage.reset_cache()
    assert location_problems() == []  # no bucket needed: no location is in S3
    default = locations.documents_store("default")
    sydney = locations.documents_store("sydney")
    assert isinstance(default, storage.LocalBlobStore)
    assert isinstance(sydney, storage.LocalBlobStore)
    assert default.root == Path(tmp_path / "documents")  # existing documents stay readable
    assert sydney.root == tmp_path / "locations" / "sydney" / "documents"
    sydney.write("agency-7/a", [b"x"])
    assert not default.exists("agency-7/a")
    assert locations.agency_has_blobs("sydney", 7)
    assert not locations.agency_has_blobs("default", 7)
    storage.reset_cache()


def test_the_check_names_every_problem(in_s3):
    in_s3.DOCUMENTS_S3_KMS_KEY_ID = "key-without-sse"
    in_s3.STORAGE_LOCATIONS = {
        "default": {"label": "Oregon", "bucket": "elsewhere"},
        "Bad Name": {"bucket": "b"},
        "sydney": {"region": "ap-southeast-2", "colour": "blue"},
        "paris": {"bucket": "p", "kms_key_id": "k", "sse": "AES256"},
        "lyon": {"bucket": "p"},
        "rome": {"bucket": "r", "sse": "rot13"},
        "oslo": "s3://oslo",
    }
    problems = "\n".join(location_problems())
    assert "DOCUMENTS_S3_KMS_KEY_ID is set but DOCUMENTS_S3_SSE is not aws:kms" in problems
    assert "'default' has unknown settings bucket" in problems
    assert "'Bad Name' is not a location name" in problems
    assert "'sydney' has unknown settings colour" in problems
    assert "'sydney' has no bucket" in problems
    assert "'paris' has a kms_key_id but sse is not aws:kms" in problems
    assert "'lyon' uses the bucket 'p' of location 'paris'" in problems
    assert "'rome' sse must be AES256 or aws:kms" in problems
    assert "'oslo' must be a JSON object" in problems
    with pytest.raises(SystemCheckError, match=r"vault\.E001"):
        call_command("check")


def test_the_settings_refuse_what_is_not_a_json_object(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.storage_settings import storage_locations

    monkeypatch.setenv("STORAGE_LOCATIONS", "[1, 2]")
    with pytest.raises(ImproperlyConfigured, match="must be a JSON object"):
        storage_locations()
    monkeypatch.setenv("STORAGE_LOCATIONS", "{nope")
    with pytest.raises(ImproperlyConfigured, match="not valid JSON"):
        storage_locations()
    monkeypatch.setenv("STORAGE_LOCATIONS", '{"eu": {"bucket": "b"}}')
    assert storage_locations() == {"eu": {"bucket": "b"}}


@pytest.mark.django_db
def test_the_release_check_names_a_location_agencies_still_use_but_the_settings_dropped(settings):
    from accounts.checks import check_agency_locations
    from tests.factories import AgencyFactory

    settings.STORAGE_LOCATIONS = {"eu": {"label": "Frankfurt"}}
    AgencyFactory(slug="in-eu", storage_location="eu")
    assert check_agency_locations(None, databases=["default"]) == []
    settings.STORAGE_LOCATIONS = {}
    (error,) = check_agency_locations(None, databases=["default"])
    assert error.id == "accounts.E003" and "'eu'" in error.msg
