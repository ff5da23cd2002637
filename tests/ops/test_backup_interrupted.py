"""A backup killed mid-stream (SIGKILL, as a worker dies) leaves no backup marked complete and
no object anyone could mistake for one; the next run removes what it left and succeeds. Also:
the backups in a real S3 bucket (Ceph's RADOS Gateway), and a missing bucket."""

from __future__ import annotations

import time

import pytest
from django.core.management import CommandError, call_command

from ops import backups as ops_backups
from ops.restore import verify_backup
from tests.ops.helpers import backup_process, filler, kill_when, worker_process
from vault import storage


def test_a_backup_killed_mid_stream_in_a_folder_leaves_nothing_complete(backups):
    def writing() -> bool:
        return any(_size(p) > 1024 * 1024 for p in _temporary(backups))

    with filler(backups.database, 16):
        kill_when(backup_process(backups, {}), writing)
        left = backups.files()
        # Only the unfinished temporary file: never the dump's name, never a manifest.
        assert len(left) == 1 and left[0].startswith("daily/.") and left[0].endswith(".tmp")
        assert ops_backups.list_backups() == []

        # A worker running the beat task, killed: the backup's own process dies with it. (Its
        # run first removed the leftover above: one backup at a time, under a lock.)
        first = _temporary(backups)

        def writing_anew() -> bool:
            return any(_size(p) > 1024 * 1024 for p in _temporary(backups) if p not in first)

        kill_when(worker_process(backups), writing_anew)
        assert len(_temporary(backups)) == 1 and _temporary(backups) != first
        sizes = {p: _size(p) for p in _temporary(backups)}
        time.sleep(1.5)
        assert {p: _size(p) for p in _temporary(backups)} == sizes  # nobody writes
        assert ops_backups.list_backups() == []

    manifest = ops_backups.take_backup("daily")
    assert backups.files() == [manifest.dump, manifest.name]  # both leftovers removed
    assert [b.manifest.id for b in ops_backups.list_backups()] == [manifest.id]


def _size(path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # renamed or removed between the listing and now
        return 0


def _temporary(backups) -> list:
    return [p for p in backups.root.glob("daily/.*.tmp") if p.is_file()]


def _objects(client, bucket: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix="backups/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _uploads(client, bucket: str) -> list[dict]:
    return client.list_multipart_uploads(Bucket=bucket, Prefix="backups/").get("Uploads", [])


def test_in_a_bucket_killed_mid_upload_then_the_next_run_succeeds_and_verifies(
    backups, backup_bucket, s3_gateway, settings
):
    client = s3_gateway.client()
    with filler(backups.database, 16):
        process = backup_process(
            backups,
            {
                "BACKUP_S3_BUCKET": backup_bucket,
                "DOCUMENTS_S3_ENDPOINT_URL": s3_gateway.endpoint,
                "DOCUMENTS_S3_ADDRESSING_STYLE": "path",
                "DOCUMENTS_S3_REGION": s3_gateway.region,
                "DOCUMENTS_S3_ACCESS_KEY_ID": s3_gateway.access_key,
                "DOCUMENTS_S3_SECRET_ACCESS_KEY": s3_gateway.secret_key,
            },
        )

        def a_part_is_stored() -> bool:
            for upload in _uploads(client, backup_bucket):
                parts = client.list_parts(
                    Bucket=backup_bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                if parts.get("Parts"):
                    return True
            return False

        kill_when(process, a_part_is_stored)
    # An unfinished multipart upload: no object under any name, so no backup.
    assert _objects(client, backup_bucket) == []
    assert len(_uploads(client, backup_bucket)) == 1
    assert ops_backups.list_backups() == []

    manifest = ops_backups.take_backup("daily")
    assert _uploads(client, backup_bucket) == []  # aborted by the next run: parts deleted
    assert _objects(client, backup_bucket) == [
        f"backups/{manifest.dump}",
        f"backups/{manifest.name}",
    ]
    assert verify_backup().ok

    settings.BACKUPS = settings.BACKUPS._replace(s3_bucket="no-such-bucket-for-backups")
    storage.reset_cache()
    with pytest.raises(CommandError, match=r"the backup store \(bucket .*NoSuchBucket"):
        call_command("backup_now")
