"""Taking a backup: pg_dump's custom format, streamed through the backup key's streaming AEAD
into the backup store, then its manifest; and the rotation.

Streaming end to end: pg_dump writes to a pipe, this process reads it a megabyte at a time,
seals segments and hands them to the store (S3: an 8 MiB multipart part at a time; a folder:
a temporary file renamed when whole). Memory stays flat whatever the database's size, and no
plaintext touches a disk.

The dump and the counts in the manifest come from one snapshot: a REPEATABLE READ transaction
exports it, pg_dump imports it (``--snapshot``), and the rows and chain heads are counted in
the exporting transaction while the dump runs.

A backup is complete only once its manifest is written, last. One backup runs at a time (a
session advisory lock; a killed process's connection drops and frees it). A process killed
mid-backup (SIGKILL) leaves at most:
- in S3, an unfinished multipart upload, which is never visible as an object;
- in a folder, a temporary file (``.<name>.tmp``), never the dump's name;
- a whole dump without a manifest, if it died between the two writes.
None is listed as a backup; the next run, holding the lock, deletes all three before it
starts (an S3 lifecycle rule aborting multipart uploads after a day is a second net).
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import psycopg
from django.conf import settings

from audit.seals import format as seals
from audit.seals.store import StoredSeal, seal_store
from ops import pg
from ops.manifest import (
    KINDS,
    Manifest,
    ManifestError,
    associated_data,
    current_key,
    key_id,
    valid_id,
)
from vault import crypto
from vault.storage import BlobMissing, LocalBlobStore, S3BlobStore, StorageError, backup_store

log = logging.getLogger("ops.backups")

READ_CHUNK = 1024 * 1024  # bytes read from pg_dump's pipe at a time
SEGMENT_SIZE = 256 * 1024  # plaintext per AES-GCM segment
_LOCK = (0x42414B55, 1)  # "BAKU": one backup at a time, per database server
Store = LocalBlobStore | S3BlobStore


class BackupError(Exception):
    """The backup did not happen; nothing was marked complete. The message names why."""


def kind_for(day: datetime) -> str:
    """Beat's daily run: monthly on the 1st, weekly on Mondays, daily otherwise."""
    if day.day == 1:
        return "monthly"
    return "weekly" if day.weekday() == 0 else "daily"


def new_id(now: datetime) -> str:
    """The start time to the microsecond (UTC): ids sort as the backups were taken."""
    return f"{now.astimezone(UTC):%Y%m%d-%H%M%S-%f}"


def open_store() -> Store:
    return backup_store()


def _where(store: Store) -> str:
    if isinstance(store, S3BlobStore):
        return f"bucket {store.bucket!r}"
    return f"folder {str(store.root)!r}"


# --- What is stored ----------------------------------------------------------------------------


@dataclass
class Listed:
    manifest: Manifest | None
    name: str
    problem: str = ""


def list_backups(store: Store | None = None) -> list[Listed]:
    """Every complete backup (one with a manifest), newest first; a manifest that cannot be
    read or authenticated is listed with its problem."""
    store = store or open_store()
    found: list[Listed] = []
    for kind in KINDS:
        try:
            names = store.names(f"{kind}/")
        except StorageError as error:
            raise BackupError(
                f"the backup store ({_where(store)}) cannot be listed: {error}"
            ) from None
        for name in names:
            if not name.endswith(".json"):
                continue
            try:
                data = b"".join(store.read(name))
                manifest, _key = Manifest.authenticate(data, name=name)
                found.append(Listed(manifest, name))
            except (ManifestError, StorageError) as error:
                found.append(Listed(None, name, str(error)))
    return sorted(found, key=lambda b: b.name.rsplit("/", 1)[-1], reverse=True)


def find_backup(backup_id: str | None) -> tuple[Manifest, bytes]:
    """A complete backup's manifest and key: the one named, or the newest one. The errors
    name the problem (unknown id, wrong key, changed manifest)."""
    store = open_store()
    if backup_id is None:
        listed = list_backups(store)
        if not listed:
            raise BackupError(f"there is no complete backup in the {_where(store)}")
        name = listed[0].name
    else:
        if not valid_id(backup_id):
            raise BackupError(
                f"{backup_id!r} is not a backup id (YYYYMMDD-HHMMSS-microseconds; see backup_list)"
            )
        names = [f"{kind}/{backup_id}.json" for kind in KINDS]
        name = next((n for n in names if store.exists(n)), "")
        if not name:
            raise BackupError(f"no complete backup has the id {backup_id!r} (see backup_list)")
    try:
        data = b"".join(store.read(name))
        return Manifest.authenticate(data, name=name)
    except ManifestError as error:
        raise BackupError(str(error)) from None
    except StorageError as error:
        raise BackupError(f"the manifest {name} cannot be read: {error}") from None


# --- Taking one -------------------------------------------------------------------------------


@dataclass
class _Tally:
    size: int = 0
    sha256: Any = field(default_factory=hashlib.sha256)
    plaintext: int = 0


def _encrypted(
    dump: subprocess.Popen[bytes], errors: IO[bytes], key: bytes, aad: bytes, tally: _Tally
) -> Iterator[bytes]:
    """pg_dump's output sealed segment by segment. Raises (so the store abandons the write)
    if pg_dump fails, before the last byte is handed over."""
    encryptor = crypto.Encryptor(key, aad, SEGMENT_SIZE)
    if dump.stdout is None:  # pragma: no cover (always a pipe)
        raise BackupError("pg_dump has no output pipe")
    read = dump.stdout.read
    while chunk := read(READ_CHUNK):
        tally.plaintext += len(chunk)
        for piece in encryptor.feed_parts(chunk):
            tally.size += len(piece)
            tally.sha256.update(piece)
            yield piece
    status = dump.wait()
    if status != 0:
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip().splitlines()
        raise BackupError(f"pg_dump failed (exit {status}): {' '.join(message[-3:])}")
    last = encryptor.finish()
    tally.size += len(last)
    tally.sha256.update(last)
    yield last


def clean_up(store: Store) -> list[str]:
    """Delete what killed runs left: unfinished writes, and dumps that never got their
    manifest. Only under the backup lock (no backup is being written)."""
    removed = []
    for kind in KINDS:
        prefix = f"{kind}/"
        count = store.discard_incomplete(prefix)
        if count:
            removed.append(f"{count} unfinished write(s) under {prefix}")
        names = set(store.names(prefix))
        for name in sorted(names):
            if name.endswith(".dump") and name[: -len(".dump")] + ".json" not in names:
                store.delete(name)
                removed.append(name)
    for line in removed:
        log.warning("backup clean-up: removed %s (left by an interrupted backup)", line)
    return removed


def rotate(store: Store) -> list[str]:
    """Keep the newest BACKUP_KEEP_<KIND> complete backups of each kind (7 daily, 4 weekly,
    12 monthly); delete the rest, manifest first (so a backup stops being complete before
    its dump goes)."""
    removed = []
    for kind in KINDS:
        manifests = sorted(
            (n for n in store.names(f"{kind}/") if n.endswith(".json")), reverse=True
        )
        for name in manifests[settings.BACKUPS.keep[kind] :]:
            store.delete(name)
            store.delete(name[: -len(".json")] + ".dump")
            removed.append(name[: -len(".json")])
    return removed


def _newest_seals() -> dict[str, Any]:
    """The newest seal of each chain, or why the seal store could not say."""
    try:
        names = sorted(seal_store().listing().items())
    except StorageError as error:
        return {"unavailable": f"the seal store could not be read: {error}"}
    listing: dict[str, list[StoredSeal]] = {}
    for name, stored_seal in names:  # seals/<chain>/<number>.json, oldest first
        listing.setdefault(name.split("/")[1], []).append(stored_seal)
    newest: dict[str, Any] = {}
    for chain, stored in listing.items():
        try:
            seal = seals.parse(seal_store().get(stored[-1]))
        except (StorageError, seals.SealFormatError) as error:
            newest[chain] = {"name": stored[-1].name, "problem": str(error)}
            continue
        newest[chain] = {
            "name": stored[-1].name,
            "seq": seal.seq,
            "events": seal.events,
            "head_id": seal.head_id,
            "head_hash": seal.head_hash,
            "sealed_at": seal.sealed_at,
        }
    return newest


def _start_dump(
    database: pg.Database, snapshot: str, errors: IO[bytes], reading_all: bool
) -> subprocess.Popen[bytes]:
    major = pg.server_major(database)
    command = [
        pg.tool("pg_dump", major),
        "--format=custom",
        f"--snapshot={snapshot}",
        "--no-password",
    ]
    if reading_all:  # through the owner's backup policies (pg.open_to_the_owner)
        command.append("--enable-row-security")
    return subprocess.Popen(  # noqa: S603  # nosec B603  # fixed PostgreSQL tool or our own module, no shell
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=errors,
        env=database.environment(reading_all=reading_all),
    )


def take_backup(kind: str = "daily", *, now: datetime | None = None) -> Manifest:
    """Dump, encrypt and store the portal's database; write its manifest last; rotate."""
    if kind not in KINDS:
        raise BackupError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    try:
        key = current_key()
    except ManifestError as error:
        raise BackupError(str(error)) from None
    started = now or datetime.now(UTC)
    backup_id = new_id(started)
    database = pg.Database.backed_up()
    store = open_store()
    try:
        conn = database.connect(autocommit=True)
    except pg.ToolError as error:
        raise BackupError(str(error)) from None
    with conn:
        # A superuser or BYPASSRLS role reads every row as it is; the tables' owner (Heroku's
        # default credential) through its backup policies, in sessions that set app.backup.
        reading_all = not pg.can_read_every_row(conn)
        if reading_all:
            try:
                pg.open_to_the_owner(conn)
            except (pg.ToolError, psycopg.Error) as error:
                raise BackupError(f"the backup role cannot read every row: {error}") from None
            # nosemgrep: portal-raw-sql -- session flag for the owner's backup policies
            conn.execute(f"SET {pg.BACKUP_SETTING} = 'on'")
        # nosemgrep: portal-raw-sql -- advisory lock so one backup runs at a time; bound parameters
        locked = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", _LOCK).fetchone()
        if not locked or not locked[0]:
            raise BackupError("another backup of this database is running; try again later")
        try:
            try:
                clean_up(store)
            except (StorageError, OSError) as error:
                raise BackupError(
                    f"the backup store ({_where(store)}) cannot be used: {error}"
                ) from None
            manifest = _dump(conn, database, store, key, kind, backup_id, started, reading_all)
            try:
                rotate(store)
            except StorageError as error:  # the backup itself is complete; rotation retries
                log.error("backup rotation failed (the next run retries): %s", error)
        finally:
            # Released now, not when the server notices the closed connection.
            conn.rollback()
            conn.autocommit = True
            # nosemgrep: portal-raw-sql -- advisory unlock; bound parameters
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", _LOCK)
    return manifest


def _dump(
    conn: Any,
    database: pg.Database,
    store: Store,
    key: bytes,
    kind: str,
    backup_id: str,
    started: datetime,
    reading_all: bool,
) -> Manifest:
    conn.autocommit = False
    # nosemgrep: portal-raw-sql -- snapshot transaction for pg_dump; constant text
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    # nosemgrep: portal-raw-sql -- exports the snapshot pg_dump reads; constant text
    snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
    counted: dict[str, Any] = {}

    def count() -> None:  # in the exported snapshot, while pg_dump runs
        try:
            counted["tables"] = pg.row_counts(conn)
            counted["chains"] = pg.chain_heads(conn)
        except Exception as error:  # noqa: BLE001 (handed to the caller)
            counted["error"] = error

    tally = _Tally()
    dump_name = f"{kind}/{backup_id}.dump"
    with tempfile.TemporaryFile() as errors:
        try:
            dump = _start_dump(database, snapshot, errors, reading_all)
        except (pg.ToolError, OSError) as error:
            conn.rollback()
            raise BackupError(str(error)) from None
        counter = threading.Thread(target=count, name="backup-count")
        counter.start()
        try:
            store.write(dump_name, _encrypted(dump, errors, key, associated_data(backup_id), tally))
        except (StorageError, OSError) as error:
            raise BackupError(
                f"the backup store ({_where(store)}) refused the dump: {error}"
            ) from None
        finally:
            if dump.poll() is None:
                dump.kill()
            dump.wait()
            counter.join()
            conn.rollback()
    if "error" in counted:
        store.delete(dump_name)
        raise BackupError(f"counting the rows failed: {counted['error']}")
    manifest = Manifest(
        id=backup_id,
        kind=kind,
        started=started.isoformat(timespec="seconds"),
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        database=database.name,
        server_version=pg.server_major(database),
        dump=dump_name,
        size=tally.size,
        sha256=tally.sha256.hexdigest(),
        plaintext_size=tally.plaintext,
        key_id=key_id(key),
        tables=counted["tables"],
        chains=counted["chains"],
        seals=_newest_seals(),
    )
    try:
        store.write(manifest.name, [manifest.to_bytes(key)])
    except (StorageError, OSError) as error:
        raise BackupError(f"the manifest could not be written (not complete): {error}") from None
    log.info("backup %s (%s) complete: %d bytes", backup_id, kind, tally.size)
    return manifest


def missing_dump(manifest: Manifest, store: Store | None = None) -> bool:
    try:
        (store or open_store()).size(manifest.dump)
    except BlobMissing:
        return True
    return False
