"""Seals outside the database: each chain head is signed (Ed25519) and written to a write-once
store, seals form a chain of their own, and audit_verify checks every chain against every seal,
so even a database superuser's rewrite, truncation or deletion is named, at the first sealed
position that no longer matches."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from audit.seals import format as seal_format
from audit.seals.store import LocalSealStore, SealExists, StoredSeal
from tests.audit.helpers import (
    add_committed_events,
    chain_events,
    committed_agency,
    delete_chain,
    delete_newest,
    rewrite_and_rehash,
    seal_committed,
)
from vault import signing

pytestmark = pytest.mark.django_db


def _seal_path(agency, seq: int) -> Path:
    root = Path(django_settings.AUDIT_SEAL_LOCAL_ROOT)
    return root / seal_format.seal_name(seal_format.chain_name(agency.pk), seq)


def _read_seal(agency, seq: int) -> seal_format.Seal:
    return seal_format.parse(_seal_path(agency, seq).read_bytes())


def _sealed_three_times(prefix: str):
    """An agency sealed at positions 3, 6 and 9."""
    agency = committed_agency(prefix, events=3)
    seal_committed()
    add_committed_events(agency, 3)
    seal_committed()
    add_committed_events(agency, 3)
    seal_committed()
    return agency


def _verify(capsys, *args, **options) -> str:
    with pytest.raises(CommandError):
        call_command("audit_verify", *args, **options)
    return capsys.readouterr().out


def _lines_of(agency, output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"agency {agency.pk} (")]


def test_a_seal_signs_the_chain_head_its_count_and_the_previous_seal():
    agency = committed_agency("sealed", events=3)
    run = seal_committed()
    events = chain_events(agency)
    first = _read_seal(agency, 1)
    assert f"seals/agency-{agency.pk}/0000000001.json" in run.sealed
    assert (first.agency_id, first.agency_slug) == (agency.pk, agency.slug)
    assert (first.head_id, first.head_hash, first.events) == (events[-1].pk, events[-1].hash, 3)
    assert first.prev_seal == seal_format.GENESIS_SEAL
    public = seal_format.public_key()
    assert signing.signature_valid(public, first.payload(), first.signature)
    assert first.key_id == signing.key_id(public)

    # Nothing moved: no new seal for the agency. Then two events: seal 2, chained to seal 1.
    seal_committed()
    assert not _seal_path(agency, 2).exists()
    add_committed_events(agency, 2)
    seal_committed()
    second = _read_seal(agency, 2)
    assert (second.seq, second.events, second.prev_seal) == (2, 5, first.digest)
    # Each run is a platform audit event.
    with agency_context(None, platform=True):
        runs = AuditEvent.objects.filter(agency__isnull=True, action="audit.chains_sealed")
        assert runs.count() >= 3


def test_intact_sealed_chains_pass(capsys):
    agency = _sealed_three_times("intact-sealed")
    with pytest.raises(CommandError) if _others_fail(capsys) else _nothing():
        call_command("audit_verify")
    lines = _lines_of(agency, capsys.readouterr().out)
    assert lines == [
        f"agency {agency.pk} ({agency.slug}): 9 events, chain intact, matches its 3 seal(s)"
    ]


def test_superuser_rewrite_with_recomputed_hashes_is_found_at_the_first_later_seal(capsys):
    agency = _sealed_three_times("rewritten")
    rewrite_and_rehash(agency, 5, {"n": "nothing to see here"})
    lines = _lines_of(agency, _verify(capsys))
    # The chain checks out on its own (every hash was recomputed): only the seals can tell.
    assert not any("BROKEN" in line for line in lines)
    assert any(
        "first sealed position that no longer matches: position 6" in line
        and "hash differs" in line
        and "1 later seal(s) fail with it" in line
        for line in lines
    ), lines


def test_superuser_truncating_the_tail_is_found(capsys):
    agency = _sealed_three_times("truncated")
    delete_newest(agency, 2)
    lines = _lines_of(agency, _verify(capsys))
    assert any(
        "first sealed position that no longer matches: position 9" in line
        and "missing: the chain now ends after 7 events" in line
        for line in lines
    ), lines


def test_superuser_deleting_a_whole_chain_is_found(capsys):
    agency = _sealed_three_times("erased")
    delete_chain(agency)
    lines = _lines_of(agency, _verify(capsys))
    assert any(
        "first sealed position that no longer matches: position 3" in line
        and "the chain now ends after 0 events" in line
        and "2 later seal(s)" in line
        for line in lines
    ), lines


def test_a_removed_seal_breaks_the_seal_chain(capsys):
    agency = _sealed_three_times("seal-removed")
    _seal_path(agency, 2).unlink()
    lines = _lines_of(agency, _verify(capsys))
    assert any("seal 2 missing from the store: the seal chain is broken" in line for line in lines)


def test_a_forged_seal_is_refused(capsys):
    agency = _sealed_three_times("seal-forged")
    genuine = _read_seal(agency, 2)
    # Someone without the key claims a shorter chain was sealed.
    forged = seal_format.Seal(**{**genuine.body(), "events": 4}, signature=genuine.signature)
    path = _seal_path(agency, 2)
    os.chmod(path, 0o600)
    path.write_bytes(forged.to_bytes())
    lines = _lines_of(agency, _verify(capsys))
    assert any("0000000002.json: its signature is not valid" in line for line in lines), lines
    # Signed with a key of its own: not a key the portal verifies with.
    stranger = Ed25519PrivateKey.generate()
    body = {**genuine.body(), "key_id": signing.key_id(stranger.public_key())}
    unsigned = seal_format.Seal(**body)
    resigned = seal_format.Seal(**body, signature=signing.sign(stranger, unsigned.payload()))
    path.write_bytes(resigned.to_bytes())
    lines = _lines_of(agency, _verify(capsys))
    assert any("is not a known verification key" in line for line in lines), lines


def test_verifying_with_the_wrong_public_key_fails_every_seal(capsys):
    agency = _sealed_three_times("wrong-key")
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    lines = _lines_of(agency, _verify(capsys, public_keys=[base64.b64encode(other).decode()]))
    assert sum("is not a known verification key" in line for line in lines) == 3
    # With the published key it passes.
    published = signing.public_key_text(seal_format.public_key())
    with pytest.raises(CommandError) if _others_fail(capsys) else _nothing():
        call_command("audit_verify", public_keys=[published])
    assert "matches its 3 seal(s)" in _lines_of(agency, capsys.readouterr().out)[0]


def test_the_local_store_never_overwrites_a_seal(tmp_path):
    store = LocalSealStore(tmp_path)
    store.put("seals/agency-1/0000000001.json", b"first")
    with pytest.raises(SealExists):
        store.put("seals/agency-1/0000000001.json", b"second")
    assert store.get(StoredSeal("seals/agency-1/0000000001.json")) == b"first"
    assert not os.access(tmp_path / "seals/agency-1/0000000001.json", os.W_OK) or os.geteuid() == 0
    with pytest.raises(ValueError):
        store.put("seals/../escape.json", b"x")


def test_a_chain_whose_sealed_past_changed_is_not_sealed_again_and_alerts(caplog):
    agency = _sealed_three_times("reseal-refused")
    rewrite_and_rehash(agency, 8, {"n": "changed"})
    add_committed_events(agency, 1)
    run = seal_committed()
    assert any(f"agency {agency.pk}" in p and "gone or changed" in p for p in run.problems)
    assert not _seal_path(agency, 4).exists()
    assert "Audit chains were not sealed" in caplog.text


def _others_fail(capsys) -> bool:
    """Other tests leave deliberately broken chains behind in the session's database."""
    failed = False
    try:
        call_command("audit_verify")
    except CommandError:
        failed = True
    capsys.readouterr()
    return failed


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_audit_seal_prints_what_it_sealed_and_the_public_key(capsys):
    agency = committed_agency("command-sealed", events=1)
    call_command("audit_seal")
    output = capsys.readouterr().out
    assert f"sealed: seals/agency-{agency.pk}/0000000001.json" in output
    assert signing.public_key_text(seal_format.public_key()) in output


def test_audit_seal_keygen_makes_a_matching_pair(capsys):
    call_command("audit_seal_keygen")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "=" in line)
    private = signing.parse_private_key(lines["AUDIT_SEAL_PRIVATE_KEY"])
    public = signing.parse_public_key(lines["AUDIT_SEAL_PUBLIC_KEY"])
    assert signing.public_bytes(private.public_key()) == signing.public_bytes(public)
    assert lines["AUDIT_SEAL_PRIVATE_KEY"] != django_settings.AUDIT_SEAL_PRIVATE_KEY
