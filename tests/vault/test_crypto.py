"""The streaming AEAD: round trips of every shape, and loud failure on any change."""

from __future__ import annotations

import os

import pytest

from vault import crypto

SEG = 1024  # small segments keep the tests fast; the format is the same
AAD = crypto.associated_data(agency_id=7, document_id="doc-1", version=1)


def encrypt_all(key: bytes, data: bytes, aad: bytes = AAD, *, pieces: int = 3) -> bytes:
    step = max(1, len(data) // pieces)
    chunks = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
    return b"".join(crypto.encrypt(key, aad, chunks, segment_size=SEG))


def decrypt_all(key: bytes, blob: bytes, aad: bytes = AAD, *, read: int = 777) -> bytes:
    chunks = [blob[i : i + read] for i in range(0, len(blob), read)]
    return b"".join(crypto.decrypt(key, aad, chunks))


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 17])
def test_round_trip_for_every_boundary(size):
    key = crypto.new_data_key()
    data = os.urandom(size)
    blob = encrypt_all(key, data)
    assert len(blob) == crypto.ciphertext_size(size, SEG)
    assert decrypt_all(key, blob) == data
    if size >= 16:
        assert data[:16] not in blob


def test_the_stored_bytes_never_contain_the_plaintext():
    key = crypto.new_data_key()
    data = b"SSN 123-45-6789 " * 500
    assert b"123-45-6789" not in encrypt_all(key, data)


@pytest.mark.parametrize("position", ["header", "first segment", "last tag"])
def test_a_changed_byte_fails_loudly(position):
    key = crypto.new_data_key()
    blob = bytearray(encrypt_all(key, os.urandom(3 * SEG + 5)))
    index = {"header": 10, "first segment": crypto.HEADER_SIZE + 5, "last tag": len(blob) - 1}
    blob[index[position]] ^= 0x01
    with pytest.raises(crypto.DecryptionError):
        decrypt_all(key, bytes(blob))


def test_no_plaintext_comes_out_of_a_corrupted_segment_or_after_it():
    key = crypto.new_data_key()
    data = os.urandom(4 * SEG)
    blob = bytearray(encrypt_all(key, data))
    second = crypto.HEADER_SIZE + (SEG + crypto.TAG_SIZE) + 3
    blob[second] ^= 0xFF
    received = []
    with pytest.raises(crypto.DecryptionError, match="segment 1"):
        for piece in crypto.decrypt(key, AAD, [bytes(blob)]):
            received.append(piece)
    assert b"".join(received) == data[:SEG]  # only the segment that authenticated


def test_a_stream_cut_at_a_segment_boundary_is_refused():
    key = crypto.new_data_key()
    blob = encrypt_all(key, os.urandom(3 * SEG + 100))
    cut = crypto.HEADER_SIZE + 2 * (SEG + crypto.TAG_SIZE)
    with pytest.raises(crypto.DecryptionError):
        decrypt_all(key, blob[:cut])


def test_swapped_segments_are_refused():
    key = crypto.new_data_key()
    blob = encrypt_all(key, os.urandom(3 * SEG + 100))
    seg = SEG + crypto.TAG_SIZE
    h = crypto.HEADER_SIZE
    swapped = blob[:h] + blob[h + seg : h + 2 * seg] + blob[h : h + seg] + blob[h + 2 * seg :]
    with pytest.raises(crypto.DecryptionError):
        decrypt_all(key, swapped)


def test_ciphertext_of_another_document_agency_or_version_does_not_open():
    key = crypto.new_data_key()
    blob = encrypt_all(key, b"council minutes")
    for other in (
        crypto.associated_data(agency_id=8, document_id="doc-1", version=1),
        crypto.associated_data(agency_id=7, document_id="doc-2", version=1),
        crypto.associated_data(agency_id=7, document_id="doc-1", version=2),
    ):
        with pytest.raises(crypto.DecryptionError):
            decrypt_all(key, blob, other)
    with pytest.raises(crypto.DecryptionError):
        decrypt_all(crypto.new_data_key(), blob)


def test_chunks_sealed_separately_join_into_the_same_stream_format():
    key = crypto.new_data_key()
    header = crypto.StreamHeader.new(SEG)
    data = os.urandom(5 * SEG + 300)
    chunk = 2 * SEG
    parts = []
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        parts.append(
            crypto.encrypt_range(
                key,
                header,
                AAD,
                piece,
                first_segment=start // SEG,
                final=start + chunk >= len(data),
            )
        )
    assert decrypt_all(key, b"".join(parts)) == data
    # A part left out, or the last one missing, is refused.
    with pytest.raises(crypto.DecryptionError):
        decrypt_all(key, parts[0] + parts[2])
    with pytest.raises(crypto.DecryptionError):
        decrypt_all(key, parts[0] + parts[1])


def test_a_chunk_before_the_last_must_be_whole_segments():
    header = crypto.StreamHeader.new(SEG)
    with pytest.raises(ValueError):
        crypto.encrypt_range(
            crypto.new_data_key(), header, AAD, b"x" * (SEG + 1), first_segment=0, final=False
        )


def test_wrapped_keys_are_bound_to_their_purpose():
    kek, dek = crypto.new_data_key(), crypto.new_data_key()
    wrapped = crypto.wrap(kek, dek, aad=b"a")
    assert crypto.unwrap(kek, wrapped, aad=b"a") == dek
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap(kek, wrapped, aad=b"b")
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap(crypto.new_data_key(), wrapped, aad=b"a")


def test_not_a_stream_is_refused():
    with pytest.raises(crypto.DecryptionError):
        decrypt_all(crypto.new_data_key(), b"%PDF-1.7 plain text, not ciphertext")
