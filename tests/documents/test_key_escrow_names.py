"""Escrow keys are written under a name per attempt (documents/keys.py), so a write that a
stalled key store carries out after its attempt gave up cannot land over the escrow of the
retry that succeeded; keys made before that (one name per agency and version) still open,
and shredding deletes every escrow under the agency's prefix, orphans included."""

from __future__ import annotations

import pytest

from accounts.tenancy import agency_context
from documents import keys
from tests.documents.key_helpers import new_version, read
from vault import locations, storage

pytestmark = pytest.mark.django_db


def test_a_late_write_of_a_refused_attempt_leaves_the_retrys_key_readable(tenant, monkeypatch):
    held: list[tuple[str, list[bytes]]] = []
    real_write = storage.LocalBlobStore.write

    def stalls_once(self, name, chunks):
        if not held:  # the store hangs: the attempt times out, the store keeps the write
            held.append((name, list(chunks)))
            raise storage.StorageError("the key store did not answer in time")
        return real_write(self, name, chunks)

    monkeypatch.setattr(storage.LocalBlobStore, "write", stalls_once)
    with agency_context(tenant.agency):
        with pytest.raises(storage.StorageError):
            new_version(tenant.agency)
        version = new_version(tenant.agency)  # the retry makes key version 1 again
        # The store wakes and carries out the write it held, after the retry's own.
        late_name, late_chunks = held[0]
        real_write(locations.key_store("default"), late_name, late_chunks)
        keys.forget_cached_keys()

        assert read(version).startswith(b"Personnel file")
        names = keys.escrow_names(tenant.agency.pk)
        assert late_name in names and len(names) == 2  # the orphan is listed for shredding

        keys.destroy_agency_keys(tenant.agency.pk)
    assert keys.escrow_names(tenant.agency.pk) == []


def test_a_key_whose_escrow_has_the_old_shared_name_still_opens_and_is_shredded(tenant):
    store = locations.key_store("default")
    with agency_context(tenant.agency):
        version = new_version(tenant.agency)
        (name,) = keys.escrow_names(tenant.agency.pk)
        escrow = b"".join(store.read(name))
        legacy = f"agency-{tenant.agency.pk}/key-1"
        store.write(legacy, [escrow])
        store.delete(name)
        keys.forget_cached_keys()

        assert read(version).startswith(b"Personnel file")

        keys.destroy_agency_keys(tenant.agency.pk)
        assert not store.exists(legacy)
        keys.forget_cached_keys()
        with pytest.raises(keys.KeyUnavailable):
            read(version)


def test_escrow_names_of_one_agency_never_include_another_whose_id_shares_its_digits(
    tenant, other_tenant
):
    store = locations.key_store("default")
    with agency_context(tenant.agency):
        new_version(tenant.agency)
    (own,) = keys.escrow_names(tenant.agency.pk)
    lookalike = f"agency-{tenant.agency.pk}0/key-1-{'0' * 24}"  # agency 10 beside agency 1
    store.write(lookalike, [b"\x00" * 32])
    try:
        assert keys.escrow_names(tenant.agency.pk) == [own]
    finally:
        store.delete(lookalike)
