"""A real S3 server for the document tests: Ceph's RADOS Gateway on a throw-away one-node
cluster, brought up by scripts/s3-test-server in a temp folder (see that script).

The script runs in a process group of its own, so stopping it kills the whole group (the
monitor, the OSD and the gateway with it); it also dies with the test process (parent-death
signal), and its daemons die with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.idp._process import (
    ServerStartError,
    ServiceUnavailable,
    _die_with_parent,
    port_in_use_failure,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "s3-test-server"
BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "monmaptool", "ceph-authtool", "ceph", "rados")
START_TIMEOUT = 90.0


def s3_gateway_unavailable_reason() -> str | None:
    """Why the gateway cannot run here (a missing Debian package), or None."""
    missing = [name for name in (*BINARIES, "radosgw-admin") if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not found (Debian: apt-get install ceph-mon ceph-osd radosgw)"
    return None


@dataclass
class S3Gateway:
    endpoint: str
    access_key: str
    secret_key: str
    region: str
    kms_key_id: str
    folder: Path
    startup_seconds: float
    process: subprocess.Popen = field(repr=False)

    def client(self, endpoint: str | None = None):
        """A boto3 S3 client as the gateway's test user (path-style, SigV4)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def new_bucket(self, purpose: str) -> str:
        name = f"{purpose}-{secrets.token_hex(6)}"  # 3-63 characters, lower case
        self.client().create_bucket(Bucket=name)
        return name

    def remove_bucket(self, name: str) -> None:
        """Abort its multipart uploads, delete its objects and the bucket itself (the
        objects live in the OSD's memory for the whole session otherwise)."""
        client = self.client()
        for upload in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=name, Key=item["Key"])
        client.delete_bucket(Bucket=name)

    def raw_rados_object(self, key: str) -> bytes:
        """The bytes RADOS holds for an S3 object's head, beneath the gateway: what is on the
        cluster's disks, after the gateway's own (SSE) encryption, if any."""
        conf = str(self.folder / "ceph.conf")
        pool = "default.rgw.buckets.data"
        names = subprocess.run(  # noqa: S603 - fixed argv
            ["rados", "-c", conf, "-p", pool, "ls"],  # noqa: S607
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode()
        matches = [name for name in names.split() if name.endswith("_" + key)]
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} RADOS objects for {key!r}")
        return subprocess.run(  # noqa: S603 - fixed argv
            ["rados", "-c", conf, "-p", pool, "get", matches[0], "-"],  # noqa: S607
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        # Whatever is left of the group (nothing, normally): killed outright.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _start_once(folder: Path) -> S3Gateway:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "s3-test-server.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the project's own script
            [sys.executable, str(SCRIPT), "run", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: stopped together
            preexec_fn=_die_with_parent,  # and with the test process
        )
    info_path = folder / "endpoint.json"
    deadline = started + START_TIMEOUT
    while not info_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            status = process.returncode
            raise ServerStartError(
                f"scripts/s3-test-server did not come up (status {status}) in {folder}:\n"
                + log.read_text(errors="replace")[-6000:]
            )
        time.sleep(0.1)
    info = json.loads(info_path.read_text())
    return S3Gateway(
        endpoint=info["endpoint"],
        access_key=info["access_key"],
        secret_key=info["secret_key"],
        region=info["region"],
        kms_key_id=info["kms_key_id"],
        folder=folder,
        startup_seconds=round(time.monotonic() - started, 1),
        process=process,
    )


def start_s3_gateway(folder: Path) -> S3Gateway:
    """Start the gateway (one more try if another process took one of its ports)."""
    reason = s3_gateway_unavailable_reason()
    if reason:
        raise ServiceUnavailable(reason)
    try:
        return _start_once(folder / "try-1")
    except ServerStartError as error:
        if not port_in_use_failure(error):
            raise
    return _start_once(folder / "try-2")
