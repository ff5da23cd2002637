"""Master-key rotation reaches the platform audit log's archives: their data key is sealed
with the master keyring (agency archives use agency keys), so ``reseal_secrets`` seals it
again with the new key (AuditArchive.resealed_key) without rewriting the signed manifest;
after that the old key can go and the archive still reads and verifies."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from audit import archive, retention
from audit.archive_keys import ArchiveKeyUnavailable
from audit.chain import GENESIS_HASH, event_hash, set_chain_context
from audit.models import AuditArchive, AuditEvent
from vault import keyring
from vault.locations import archive_store

pytestmark = pytest.mark.django_db


def platform_archive(month) -> AuditArchive:
    """A platform archive of three chained events of ``month``, as retention writes one."""
    events, prev_hash = [], GENESIS_HASH
    for n in range(3):
        event = AuditEvent(
            id=n + 1,
            agency_id=None,
            action="platform.thing_happened",
            target_type="accounts.agency",
            target_id=str(n),
            created_at=datetime(month.year, month.month, 2, tzinfo=UTC) + timedelta(hours=n),
            details={"n": n},
            prev_hash=prev_hash,
        )
        event.hash = event_hash(event, prev_hash)
        events.append(event)
        prev_hash = event.hash
    manifest = archive.write(None, month, events, archive_store("default"))
    with transaction.atomic():
        set_chain_context(None)
        return AuditArchive.objects.create(
            agency=None,
            month=month,
            events=3,
            first_id=1,
            last_id=3,
            first_prev_hash=GENESIS_HASH,
            last_hash=prev_hash,
            blob_name=manifest["blob"],
            manifest=manifest,
            manifest_sha256=archive.manifest_digest(manifest),
        )


def reseal_secrets() -> str:
    """The command's errors. Rows that other tests committed (threads' rows outlive their
    test) may be sealed with keys that are gone by now: the command then fails for them,
    which is not what these tests are about, so they look at their archive's row instead."""
    err = StringIO()
    with contextlib.suppress(CommandError):
        call_command("reseal_secrets", stdout=StringIO(), stderr=err)
    assert "platform audit archive" not in err.getvalue()
    return err.getvalue()


def current(row: AuditArchive) -> AuditArchive:
    with transaction.atomic():
        set_chain_context(None)
        return AuditArchive.objects.get(agency__isnull=True, pk=row.pk)


def read(row: AuditArchive) -> list[AuditEvent]:
    with transaction.atomic():
        set_chain_context(None)
        row = AuditArchive.objects.get(agency__isnull=True, month=row.month)
        return archive.read_verified(row, archive_store("default"))


def test_reseal_secrets_lets_the_old_master_key_go_without_losing_the_platform_archives(
    settings,
):
    old_key = settings.PORTAL_MASTER_KEYS[0]
    row = platform_archive(retention.add_months(retention.current_month(), -14))
    manifest_before = row.manifest_sha256
    new_key = os.urandom(32)

    settings.PORTAL_MASTER_KEYS = [new_key]  # dropped too early: unreadable
    with pytest.raises(ArchiveKeyUnavailable):
        read(row)

    settings.PORTAL_MASTER_KEYS = [new_key, old_key]
    reseal_secrets()
    with transaction.atomic():
        set_chain_context(None)
        recorded = AuditEvent.objects.filter(
            agency__isnull=True, action="audit.archives_resealed"
        ).latest("id")
    assert f"{row.month:%Y-%m}" in recorded.details["months"]

    settings.PORTAL_MASTER_KEYS = [new_key]  # now the old key can go
    assert [event.details["n"] for event in read(row)] == [0, 1, 2]
    resealed = current(row)
    assert keyring.sealed_with_current_key(bytes(resealed.resealed_key))
    assert resealed.manifest_sha256 == manifest_before  # the signed manifest is never rewritten

    reseal_secrets()  # nothing left to do for it: not sealed again
    assert bytes(current(row).resealed_key) == bytes(resealed.resealed_key)


def test_a_platform_archive_no_key_opens_is_named_and_the_command_fails(settings):
    month = retention.add_months(retention.current_month(), -15)
    platform_archive(month)
    settings.PORTAL_MASTER_KEYS = [os.urandom(32)]
    err = StringIO()

    with pytest.raises(CommandError, match=r"secret\(s\) could not be opened"):
        call_command("reseal_secrets", stdout=StringIO(), stderr=err)

    assert f"platform audit archive {month:%Y-%m}" in err.getvalue()


def test_a_resealed_key_copied_to_another_month_does_not_open_it(settings):
    first = platform_archive(retention.add_months(retention.current_month(), -14))
    second = platform_archive(retention.add_months(retention.current_month(), -15))
    old_key, new_key = settings.PORTAL_MASTER_KEYS[0], os.urandom(32)
    settings.PORTAL_MASTER_KEYS = [new_key, old_key]
    reseal_secrets()
    settings.PORTAL_MASTER_KEYS = [new_key]
    with transaction.atomic():
        set_chain_context(None)
        first.refresh_from_db()
        AuditArchive.objects.filter(pk=second.pk).update(resealed_key=first.resealed_key)

    with pytest.raises(ArchiveKeyUnavailable):
        read(second)
