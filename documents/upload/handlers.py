"""An upload handler for the form without JavaScript: files are encrypted as they arrive.

Django's own handlers keep an upload in memory and then spool it to a temporary file in
plaintext. ``EncryptingUploadHandler`` (installed only by the upload views, before the body
is read) seals each file with a random key that lives only as long as the request
(``vault.crypto.Encryptor``) into a ``SpooledTemporaryFile``: whatever rolls over to disk
is ciphertext. The file it hands to the view decrypts as it is read (``chunks()``), so the
view passes it on to ``documents.upload.services.upload_whole`` like any uploaded
file.

The agency's size limit is enforced while reading: a file that grows past it is dropped at
once (nothing of it is kept, nothing reaches storage) and remembered as refused, and the
other files of the same form keep going.
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from vault import crypto

READ_SIZE = 1024 * 1024


def spool_memory() -> int:
    """How much ciphertext a file keeps in memory before it rolls over to a temporary file."""
    return settings.FILE_UPLOAD_MAX_MEMORY_SIZE


def new_spool(max_size: int) -> tempfile.SpooledTemporaryFile:
    return tempfile.SpooledTemporaryFile(max_size=max_size, dir=settings.FILE_UPLOAD_TEMP_DIR)


class EncryptedUploadedFile(UploadedFile):
    """An uploaded file held encrypted; ``chunks()`` gives the plaintext back, segment by
    segment (the key is this request's, in memory only). Reading the raw file would give
    ciphertext, so ``read`` is refused."""

    def __init__(self, spool, *, key: bytes, aad: bytes, name: str, content_type: str, size: int):
        super().__init__(spool, name=name, content_type=content_type, size=size)
        self._key = key
        self._aad = aad

    def _ciphertext(self) -> Iterator[bytes]:
        self.file.seek(0)
        while block := self.file.read(READ_SIZE):
            yield block

    def chunks(self, chunk_size=None) -> Iterator[bytes]:
        yield from crypto.decrypt(self._key, self._aad, self._ciphertext())

    def multiple_chunks(self, chunk_size=None) -> bool:
        return True

    def read(self, *args, **kwargs):
        raise io.UnsupportedOperation("read an encrypted upload with chunks()")

    def __iter__(self):
        raise io.UnsupportedOperation("read an encrypted upload with chunks()")


MAX_FILES = 20  # files one form post may store; the rest are reported, not read
TOO_MANY = "too many files"


@dataclass
class Refused:
    """A file dropped while it was read: ``received`` bytes had arrived when it was."""

    name: str
    received: int
    reason: str = "too large"


class EncryptingUploadHandler(FileUploadHandler):
    """Encrypt every file of the form's ``field`` into a spooled temporary file; drop a file
    as soon as it passes ``limit`` bytes. ``outcomes`` lists, in the order they came, the files
    received (EncryptedUploadedFile) and the ones refused (Refused)."""

    def __init__(
        self, request=None, *, limit: int, field: str = "files", max_files: int = MAX_FILES
    ):
        super().__init__(request)
        self.limit = limit
        self.field = field
        self.max_files = max_files
        self._key = crypto.new_data_key()  # this request's only: never stored anywhere
        self._spool = None
        self._encryptor = None
        self._aad = b""
        self._received = 0
        self.outcomes: list[EncryptedUploadedFile | Refused] = []

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        self._received = 0
        if field_name != self.field:
            raise SkipFile  # only the form's file field is read
        if len(self.outcomes) >= self.max_files:
            self.outcomes.append(Refused(file_name, 0, reason=TOO_MANY))
            raise SkipFile  # not read, not spooled
        if content_length is not None and content_length > self.limit:
            self.outcomes.append(Refused(file_name, content_length))
            raise SkipFile
        self._aad = f"records-portal/upload-spool|{uuid.uuid4()}".encode()
        self._encryptor = crypto.Encryptor(self._key, self._aad)
        self._spool = new_spool(spool_memory())

    def receive_data_chunk(self, raw_data, start):
        self._received += len(raw_data)
        if self._received > self.limit:
            self.outcomes.append(Refused(self.file_name, self._received))
            self._discard()
            raise SkipFile
        self._spool.write(self._encryptor.feed(raw_data))
        return None  # the plaintext goes no further

    def file_complete(self, file_size):
        if self._spool is None:
            return None
        self._spool.write(self._encryptor.finish())
        self._spool.seek(0)
        uploaded = EncryptedUploadedFile(
            self._spool,
            key=self._key,
            aad=self._aad,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
        )
        self._spool = self._encryptor = None
        self.outcomes.append(uploaded)
        return uploaded

    def upload_interrupted(self):
        self._discard()

    def _discard(self) -> None:
        if self._spool is not None:
            self._spool.close()
        self._spool = self._encryptor = None

    @property
    def files(self) -> list[EncryptedUploadedFile]:
        return [o for o in self.outcomes if isinstance(o, EncryptedUploadedFile)]
