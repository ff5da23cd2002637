"""Streaming authenticated encryption of document content (AES-256-GCM over segments).

The construction follows Tink's streaming AEAD (AES-GCM-HKDF): no primitive is written
here, only the framing around ``cryptography``'s AESGCM and HKDF.

    header   = b"RPD" | version (1) | segment size (4, big-endian) | salt (16) | prefix (7)
    key      = HKDF-SHA256(data key, salt, info = associated data)
    segment i: AES-256-GCM(key, nonce = prefix | i (4, big-endian) | last (1), plaintext_i,
               associated data)

- Every segment holds ``segment_size`` bytes of plaintext except the last, which holds 0 to
  ``segment_size`` bytes and is sealed with the last flag. Dropping, reordering or truncating
  segments fails authentication: a stream cut at a segment boundary ends on a segment that
  was not sealed as last.
- The associated data binds agency, document and version: ciphertext copied onto another
  document, agency or version does not decrypt.
- Memory stays at one segment whatever the size of the file.
- ``encrypt_range`` seals any run of whole segments on its own, so a resumable upload can
  seal each chunk as it arrives (on any web process) and store it as one part of an S3
  multipart upload; the parts concatenated are exactly the stream ``encrypt`` would write.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"RPD"
FORMAT_VERSION = 1
SEGMENT_SIZE = 64 * 1024
TAG_SIZE = 16
SALT_SIZE = 16
PREFIX_SIZE = 7
HEADER_SIZE = len(MAGIC) + 1 + 4 + SALT_SIZE + PREFIX_SIZE  # 31 bytes
MAX_SEGMENTS = 2**32

# What AESGCM accepts and the streams hand over: slices of the caller's buffers stay views.
BytesLike = bytes | bytearray | memoryview


class DecryptionError(Exception):
    """The ciphertext is not what was sealed (changed, cut, reordered) or not for this key
    and document. Never answered with partial plaintext."""


def associated_data(*, agency_id: int, document_id: str, version: int) -> bytes:
    return (
        f"records-portal/document/v1|agency={agency_id}|document={document_id}|version={version}"
    ).encode()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


@dataclass(frozen=True)
class StreamHeader:
    segment_size: int
    salt: bytes
    prefix: bytes

    @classmethod
    def new(cls, segment_size: int = SEGMENT_SIZE) -> StreamHeader:
        return cls(segment_size, os.urandom(SALT_SIZE), os.urandom(PREFIX_SIZE))

    def to_bytes(self) -> bytes:
        return (
            MAGIC
            + bytes([FORMAT_VERSION])
            + struct.pack(">I", self.segment_size)
            + self.salt
            + self.prefix
        )

    @classmethod
    def parse(cls, data: bytes) -> StreamHeader:
        if len(data) < HEADER_SIZE or data[:3] != MAGIC or data[3] != FORMAT_VERSION:
            raise DecryptionError("not an encrypted document stream")
        (segment_size,) = struct.unpack(">I", data[4:8])
        if not 1024 <= segment_size <= 16 * 1024 * 1024:
            raise DecryptionError("implausible segment size")
        return cls(segment_size, data[8 : 8 + SALT_SIZE], data[8 + SALT_SIZE : HEADER_SIZE])


def _segment_cipher(data_key: bytes, header: StreamHeader, aad: bytes) -> AESGCM:
    if len(data_key) != 32:
        raise ValueError("data keys are 256 bits")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=header.salt, info=aad).derive(data_key)
    return AESGCM(key)


def _nonce(header: StreamHeader, index: int, last: bool) -> bytes:
    if not 0 <= index < MAX_SEGMENTS:
        raise ValueError("too many segments")
    return header.prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def ciphertext_size(plaintext_size: int, segment_size: int = SEGMENT_SIZE) -> int:
    segments = max(1, -(-plaintext_size // segment_size))
    return HEADER_SIZE + plaintext_size + segments * TAG_SIZE


def encrypt_range(
    data_key: bytes,
    header: StreamHeader,
    aad: bytes,
    plaintext: bytes,
    *,
    first_segment: int,
    final: bool,
) -> bytes:
    """Seal whole segments starting at ``first_segment`` (the header comes first when it is
    0). Unless ``final``, the plaintext must be a whole number of segments; when ``final``,
    its last segment is sealed as the stream's last."""
    size = header.segment_size
    if not final and (len(plaintext) == 0 or len(plaintext) % size):
        raise ValueError("a chunk before the last must be a whole number of segments")
    cipher = _segment_cipher(data_key, header, aad)
    out = [header.to_bytes()] if first_segment == 0 else []
    count = max(1, -(-len(plaintext) // size))
    view = memoryview(plaintext)
    for n in range(count):
        piece = bytes(view[n * size : (n + 1) * size])
        last = final and n == count - 1
        out.append(cipher.encrypt(_nonce(header, first_segment + n, last), piece, aad))
    return b"".join(out)


class Encryptor:
    """Encrypt a stream incrementally: ``feed`` bytes as they come, collect ciphertext."""

    def __init__(self, data_key: bytes, aad: bytes, segment_size: int = SEGMENT_SIZE) -> None:
        self.header = StreamHeader.new(segment_size)
        self._cipher = _segment_cipher(data_key, self.header, aad)
        self._aad = aad
        self._buffer = bytearray()
        self._index = 0
        self._started = False
        self.plaintext_size = 0

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return self.header.to_bytes()

    def feed(self, data: bytes) -> bytes:
        """Ciphertext for every full segment now available (a segment is held back until
        more data arrives, because only then is it known not to be the last)."""
        return b"".join(self.feed_parts(data))

    def feed_parts(self, data: bytes) -> list[bytes]:
        """Like ``feed``, one piece per segment. Whole segments are sealed straight from the
        caller's buffer: no large copies, so memory and page faults stay flat."""
        self.plaintext_size += len(data)
        out = [self._start()] if not self._started else []
        size = self.header.segment_size
        view = memoryview(data)
        position = 0
        if self._buffer:
            take = min(size - len(self._buffer), len(view))
            self._buffer += view[:take]
            position = take
            if len(self._buffer) == size and position < len(view):
                out.append(self._seal(self._buffer, last=False))
                self._buffer = bytearray()
        if not self._buffer:
            # Keep at least one byte back: only the next call says which segment is last.
            whole = (len(view) - position - 1) // size if len(view) > position else 0
            for _ in range(whole):
                out.append(self._seal(view[position : position + size], last=False))
                position += size
            self._buffer = bytearray(view[position:])
        return out

    def _seal(self, plaintext: BytesLike, *, last: bool) -> bytes:
        sealed = self._cipher.encrypt(_nonce(self.header, self._index, last), plaintext, self._aad)
        self._index += 1
        return sealed

    def finish(self) -> bytes:
        out = [self._start()]
        out.append(
            self._cipher.encrypt(
                _nonce(self.header, self._index, True), bytes(self._buffer), self._aad
            )
        )
        self._buffer.clear()
        return b"".join(out)


def encrypt(
    data_key: bytes, aad: bytes, chunks: Iterable[bytes], segment_size: int = SEGMENT_SIZE
) -> Iterator[bytes]:
    encryptor = Encryptor(data_key, aad, segment_size)
    for chunk in chunks:
        if chunk:
            yield from encryptor.feed_parts(chunk)
    yield encryptor.finish()


def decrypt(data_key: bytes, aad: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Plaintext segment by segment. Raises DecryptionError at the first segment that does
    not authenticate, and at the end if the stream stops before its last segment; bytes are
    yielded only after their own segment authenticated. Segments are opened straight from
    the storage's buffers (only a segment split across two reads is copied)."""
    header: StreamHeader | None = None
    cipher: AESGCM | None = None  # set together with header
    encrypted_size = 0
    index = 0
    carry = bytearray()  # an incomplete segment (or header) from the previous read
    for chunk in chunks:
        view = memoryview(chunk)
        position = 0
        if header is None or cipher is None:
            take = min(HEADER_SIZE - len(carry), len(view))
            carry += view[:take]
            position = take
            if len(carry) < HEADER_SIZE:
                continue
            header = StreamHeader.parse(bytes(carry))
            cipher = _segment_cipher(data_key, header, aad)
            encrypted_size = header.segment_size + TAG_SIZE
            carry = bytearray()
        if carry:
            take = min(encrypted_size - len(carry), len(view) - position)
            carry += view[position : position + take]
            position += take
            if len(carry) == encrypted_size and position < len(view):
                yield _open(cipher, header, index, False, carry, aad)
                index += 1
                carry = bytearray()
        if not carry:
            # Open every whole segment that certainly is not the last (bytes follow it).
            whole = (len(view) - position - 1) // encrypted_size if len(view) > position else 0
            for _ in range(whole):
                piece = view[position : position + encrypted_size]
                yield _open(cipher, header, index, False, piece, aad)
                index += 1
                position += encrypted_size
            carry = bytearray(view[position:])
    if header is None or cipher is None:
        raise DecryptionError("not an encrypted document stream")
    if len(carry) < TAG_SIZE:
        raise DecryptionError("the stream is cut short")
    yield _open(cipher, header, index, True, carry, aad)


def _open(
    cipher: AESGCM, header: StreamHeader, index: int, last: bool, piece: BytesLike, aad: bytes
) -> bytes:
    try:
        return cipher.decrypt(_nonce(header, index, last), piece, aad)
    except InvalidTag:
        raise DecryptionError(f"segment {index} does not authenticate") from None


# --- Small values: wrapping keys with keys -------------------------------------------------------


def wrap(key: bytes, secret: bytes, *, aad: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, secret, aad)


def unwrap(key: bytes, wrapped: bytes, *, aad: bytes) -> bytes:
    wrapped = bytes(wrapped)
    try:
        return AESGCM(key).decrypt(wrapped[:12], wrapped[12:], aad)
    except (InvalidTag, ValueError):
        raise DecryptionError("a wrapped key does not open with this key") from None
