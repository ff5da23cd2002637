"""The master keyring seals small secrets at rest with AES-256-GCM, bound to their owner."""

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from vault import keyring


def _key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def keys(settings):
    current, older = _key(), _key()
    settings.PORTAL_MASTER_KEYS = [current, older]
    return current, older


def test_sealed_value_opens_with_the_same_owner_and_hides_the_plaintext(keys):
    blob = keyring.seal(b"client-secret-123", aad="identity-provider:1:abc")
    assert b"client-secret-123" not in blob
    assert keyring.open_sealed(blob, aad="identity-provider:1:abc") == b"client-secret-123"


def test_sealing_twice_gives_different_bytes(keys):
    assert keyring.seal(b"same", aad="x") != keyring.seal(b"same", aad="x")


def test_a_sealed_value_copied_to_another_owner_does_not_open(keys):
    blob = keyring.seal(b"secret", aad="identity-provider:1:abc")
    with pytest.raises(keyring.SealError):
        keyring.open_sealed(blob, aad="identity-provider:2:abc")


@pytest.mark.parametrize("position", [2, 10, 20, -1])
def test_a_changed_byte_anywhere_is_refused(keys, position):
    blob = bytearray(keyring.seal(b"secret", aad="a"))
    blob[position] ^= 0x01
    with pytest.raises(keyring.SealError):
        keyring.open_sealed(bytes(blob), aad="a")


def test_older_keys_still_open_and_the_first_key_seals(keys, settings):
    current, older = keys
    settings.PORTAL_MASTER_KEYS = [older]
    old_blob = keyring.seal(b"before rotation", aad="a")
    settings.PORTAL_MASTER_KEYS = [current, older]
    assert keyring.open_sealed(old_blob, aad="a") == b"before rotation"
    assert not keyring.sealed_with_current_key(old_blob)
    assert keyring.sealed_with_current_key(keyring.seal(b"new", aad="a"))


def test_a_value_sealed_with_a_removed_key_is_refused_loudly(keys, settings):
    blob = keyring.seal(b"secret", aad="a")
    settings.PORTAL_MASTER_KEYS = [_key()]
    with pytest.raises(keyring.SealError, match="no longer configured"):
        keyring.open_sealed(blob, aad="a")


def test_master_keys_must_be_32_bytes_of_base64():
    good = base64.urlsafe_b64encode(_key()).decode()
    assert len(keyring.parse_master_keys(f"{good}, {good}")) == 2
    as_hex = _key().hex()
    assert keyring.parse_master_keys(as_hex) == [bytes.fromhex(as_hex)]
    with pytest.raises(ImproperlyConfigured, match="entry 2"):
        keyring.parse_master_keys(f"{good},{base64.urlsafe_b64encode(b'short').decode()}")
    with pytest.raises(ImproperlyConfigured):
        keyring.parse_master_keys(" , ")
