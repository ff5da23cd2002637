"""Restoring a backup, and trying one: ``backup_verify`` restores into a scratch database,
compares every table's rows with the manifest and re-verifies the audit chains against the
seals (audit's own checker, in the restored database); ``backup_restore`` restores into a
database you name.

Before anything is restored: the manifest must authenticate with a configured backup key (a
wrong key and a changed manifest are told apart) and the stored dump must have the size the
manifest says (a truncated or extended dump is named as such). While restoring, each segment
authenticates before its bytes reach pg_restore, and pg_restore runs in one transaction
(``--single-transaction``): a segment that does not authenticate (a tampered dump) stops it,
and the target is left exactly as it was. A target that holds anything is refused unless
``force`` (then pg_restore ``--clean``s the objects the dump holds, in that same transaction).
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from django.db import connections
from psycopg import sql

from audit.seals import format as seals
from audit.seals import services as seal_services
from audit.seals.store import seal_store
from ops import pg
from ops.backups import BackupError, Store, find_backup, open_store
from ops.manifest import Manifest, associated_data
from vault import crypto
from vault.storage import BlobMissing, StorageError


def _check_size(store: Store, manifest: Manifest) -> None:
    try:
        size = store.size(manifest.dump)
    except BlobMissing:
        raise BackupError(f"backup {manifest.id}: its dump {manifest.dump} is missing") from None
    except StorageError as error:
        raise BackupError(f"backup {manifest.id}: the store cannot be read: {error}") from None
    if size < manifest.size:
        raise BackupError(
            f"backup {manifest.id} is truncated: its dump holds {size} of the {manifest.size} "
            "bytes the manifest records"
        )
    if size > manifest.size:
        raise BackupError(
            f"backup {manifest.id} was tampered with: its dump holds {size} bytes, the manifest "
            f"records {manifest.size}"
        )


def restore_into(
    target: pg.Database, manifest: Manifest, key: bytes, *, force: bool = False
) -> None:
    """Stream the backup, decrypted, into pg_restore on ``target`` (one transaction)."""
    store = open_store()
    _check_size(store, manifest)
    with target.connect(autocommit=True) as conn:
        objects = pg.object_count(conn)
        major = pg.server_major(target)
    if objects and not force:
        raise BackupError(
            f"{target} is not empty ({objects} tables, sequences or functions): nothing was "
            "restored; restore into an empty database, or add --force to replace what the "
            "backup holds"
        )
    digest = hashlib.sha256()
    with tempfile.TemporaryFile() as errors:
        process, loader = _start_restore(target, major, errors, force=force)
        stdin = process.stdin
        if stdin is None:  # pragma: no cover (always a pipe)
            raise BackupError("pg_restore has no input pipe")
        problem = ""

        def ciphertext() -> Iterator[bytes]:
            for chunk in store.read(manifest.dump):
                digest.update(chunk)
                yield chunk

        try:
            for plaintext in crypto.decrypt(key, associated_data(manifest.id), ciphertext()):
                stdin.write(plaintext)
        except crypto.DecryptionError as error:
            problem = f"backup {manifest.id} was tampered with or truncated ({error})"
        except StorageError as error:
            problem = f"backup {manifest.id}: reading its dump failed: {error}"
        except BrokenPipeError:
            problem = "pg_restore stopped"
        if problem or digest.hexdigest() != manifest.sha256:
            for running in (process, loader):  # the transaction rolls back: target unchanged
                if running is not None:
                    running.kill()
                    running.wait()
            if not problem:
                problem = f"backup {manifest.id}: the dump's SHA-256 differs from the manifest's"
            raise BackupError(problem + "; nothing was restored")
        with contextlib.suppress(BrokenPipeError):
            stdin.close()
        status = process.wait()
        if loader is not None:
            status = loader.wait() or status
        if status != 0:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            raise BackupError(
                f"the restore failed (exit {status}), nothing was restored: {' '.join(lines[-3:])}"
            )


def _schemas(target: pg.Database) -> list[str]:
    with target.connect(autocommit=True) as conn:
        # nosemgrep: portal-raw-sql -- catalog listing of schemas; constant text
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%%' "
            "AND nspname <> 'information_schema' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def _start_restore(
    target: pg.Database, major: int, errors: IO[bytes], *, force: bool
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes] | None]:
    """pg_restore reading the dump on its stdin, in one transaction. Into an empty database
    it connects itself; with ``force`` it writes SQL that psql runs after dropping every
    schema of the target, the drop and the restore in one transaction (pg_restore's own
    --clean cannot drop the indexes of partitioned tables, the audit log's)."""
    common = ["--no-owner", "--no-privileges", "--no-password"]
    if not force:
        command = [pg.tool("pg_restore", major), "--single-transaction", "--exit-on-error"]
        process = subprocess.Popen(  # noqa: S603  # nosec B603  # fixed PostgreSQL tool or our own module, no shell
            [*command, *common, f"--dbname={target.name}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=target.environment(),
        )
        return process, None
    drop = ", ".join(sql.Identifier(s).as_string(None) for s in _schemas(target))
    prelude = (f"DROP SCHEMA IF EXISTS {drop} CASCADE; " if drop else "") + "CREATE SCHEMA public;"
    process = subprocess.Popen(  # noqa: S603  # nosec B603  # fixed PostgreSQL tool or our own module, no shell
        [pg.tool("pg_restore", major), *common, "--file=-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        env=target.environment(),
    )
    loader = subprocess.Popen(  # noqa: S603  # nosec B603  # fixed PostgreSQL tool or our own module, no shell
        [
            pg.tool("psql", major),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--command={prelude}",
            "--file=-",
        ],
        stdin=process.stdout,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        env=target.environment(),
    )
    if process.stdout is not None:
        process.stdout.close()  # psql holds it now
    return process, loader


def restore_backup(backup_id: str, into_url: str, *, force: bool = False) -> Manifest:
    manifest, key = find_backup(backup_id)
    try:
        target = pg.Database.from_url(into_url)
    except pg.ToolError as error:
        raise BackupError(str(error)) from None
    try:
        restore_into(target, manifest, key, force=force)
    except pg.ToolError as error:
        raise BackupError(str(error)) from None
    return manifest


# --- Trying a backup ---------------------------------------------------------------------------


@dataclass
class VerifyReport:
    manifest: Manifest
    tables: int = 0
    rows: int = 0
    chains: list[str] = field(default_factory=list)  # one line per chain checked
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _compare_counts(report: VerifyReport, restored: dict[str, int]) -> None:
    expected = report.manifest.tables
    for table in sorted(set(expected) | set(restored)):
        want, got = expected.get(table), restored.get(table)
        if want != got:
            report.problems.append(
                f"table {table}: {got if got is not None else 'missing'} rows restored, "
                f"{want if want is not None else 'not in'} the manifest"
            )
    report.tables, report.rows = len(restored), sum(restored.values())


def _check_chains(report: VerifyReport, scratch: pg.Database) -> None:
    """audit's chain checker (audit.seals.services.check_chain) on the restored database, on
    a thread whose default connection is the scratch database; seals made after the backup
    are left out (the restored chains end where the backup did)."""
    try:
        listing = seal_services.seals_by_chain(seal_store())
    except StorageError as error:
        report.problems.append(f"the seal store could not be read: {error}")
        listing = {}
    keys = seals.verification_keys()
    default = connections["default"]
    values = dict(default.settings_dict)
    values.update(
        NAME=scratch.name,
        USER=scratch.user,
        PASSWORD=scratch.password,
        HOST=scratch.host,
        PORT=scratch.port,
    )
    failure: list[BaseException] = []

    def run() -> None:
        wrapper = type(default)(values, "default")
        connections["default"] = wrapper  # this thread only
        try:
            for chain in report.manifest.chains:
                agency_id, slug = chain["agency_id"], chain["slug"]
                check = seal_services.check_chain(
                    seal_store(), listing, keys, agency_id, slug, upto=chain["events"]
                )
                problems = list(check.problems)
                if check.broken_at is not None:
                    problems.insert(0, f"BROKEN at event {check.broken_at} ({check.broken_reason})")
                if check.store_problem:
                    problems.append(check.store_problem)
                report.problems += [f"audit chain of {check.label}: {p}" for p in problems]
                report.chains.append(
                    f"{check.label}: {check.events} events"
                    + (f", matches its {check.seals} seal(s)" if check.seals else ", no seal yet")
                    + ("" if not problems else " -- FAILED")
                )
        except BaseException as error:  # noqa: BLE001 (handed to the caller)
            failure.append(error)
        finally:
            wrapper.close()

    thread = threading.Thread(target=run, name="backup-verify-chains")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def verify_backup(backup_id: str | None = None) -> VerifyReport:
    """Restore the backup (the newest when no id) into a scratch database on the backup
    role's server, compare, re-verify the audit chains, drop the scratch database."""
    manifest, key = find_backup(backup_id)
    report = VerifyReport(manifest)
    server = pg.Database.backed_up()
    try:
        with pg.scratch_database(server) as scratch:
            restore_into(scratch, manifest, key)
            with scratch.connect(reading_all=True) as conn:
                _compare_counts(report, pg.row_counts(conn))
                heads = {c["agency_id"]: c for c in pg.chain_heads(conn)}
            for chain in manifest.chains:
                found = heads.get(chain["agency_id"])
                if not found or (found["head_id"], found["head_hash"], found["events"]) != (
                    chain["head_id"],
                    chain["head_hash"],
                    chain["events"],
                ):
                    report.problems.append(
                        f"audit chain of agency {chain['agency_id'] or 'platform'}: the restored "
                        "head differs from the manifest's"
                    )
            _check_chains(report, scratch)
    except pg.ToolError as error:
        raise BackupError(str(error)) from None
    return report
