"""Zip archives opened safely: the limits (member count, sizes, compression ratios, nesting),
names that would escape the folder they are extracted to, links, encrypted members and
overlapping entries are checked before anything is decompressed; then every member is read
as a stream with a hard cap, so a header that lies about its size is caught without the
bytes ever being held. Used for zip uploads and for the zip inside every Word, Excel,
PowerPoint and OpenDocument file."""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 10_000  # files in all the archives of one upload together
    max_total: int = 1024 * MIB  # uncompressed bytes of all of them together
    max_member: int = 512 * MIB  # uncompressed bytes of any one file
    max_ratio: int = 100  # uncompressed / compressed, per file and overall
    ratio_floor: int = 1 * MIB  # ratios are judged from this uncompressed size up
    max_depth: int = 2  # a zip in a zip is fine; a zip in a zip in a zip is not
    max_nesting: int = 6  # containers of any kind (zip, email, PDF attachments) in each other
    keep_in_memory: int = 200 * MIB  # members larger than this are checked streaming only


LIMITS = ArchiveLimits()


class ArchiveRefused(Exception):
    """The archive breaks a limit; the message says which, in plain words."""


@dataclass
class Budget:
    """What all the archives of one upload have used so far."""

    members: int = 0
    total: int = 0


_DRIVE = re.compile(r"^[A-Za-z]:")
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_READ = 64 * KIB


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class SafeZip:
    """A zip archive checked against the limits before anything is decompressed, whose
    members are then read as capped streams (``stream``/``read``)."""

    def __init__(
        self, data: bytes, *, limits: ArchiveLimits = LIMITS, budget: Budget | None = None
    ):
        self.data = data
        self.limits = limits
        self.budget = budget if budget is not None else Budget()
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
            raise ArchiveRefused("The archive is damaged and can't be opened.") from None
        self.budget.members += len(infos)
        if self.budget.members > limits.max_members:
            raise ArchiveRefused(
                f"The archive holds more than {_plural(limits.max_members, 'file')}."
            )
        declared = 0
        for info in infos:
            self._check_entry(info)
            declared += info.file_size
        if declared > limits.max_total or self.budget.total + declared > limits.max_total:
            raise ArchiveRefused(
                f"The archive would expand to more than {limits.max_total // MIB:,} MB."
            )
        if declared >= limits.ratio_floor and declared > limits.max_ratio * max(1, len(data)):
            raise ArchiveRefused(
                f"The archive expands more than {limits.max_ratio} times its size (a zip bomb)."
            )
        self._check_layout(infos)
        self.infos = [info for info in infos if not info.is_dir()]

    def _check_entry(self, info: zipfile.ZipInfo) -> None:
        name = info.orig_filename
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts or "\x00" in name:
            raise ArchiveRefused(
                "The archive has a file whose name would place it outside the folder it is "
                "extracted to."
            )
        if info.flag_bits & 0x1:
            raise ArchiveRefused(
                "The archive has password-protected files, which can't be checked."
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused("The archive has links to other files, which aren't allowed.")
        if info.file_size >= self.limits.ratio_floor and info.file_size > (
            self.limits.max_ratio * max(1, info.compress_size)
        ):
            raise ArchiveRefused(
                f"A file in the archive expands more than {self.limits.max_ratio} times its "
                "compressed size (a zip bomb)."
            )
        if info.file_size > self.limits.max_member:
            raise ArchiveRefused(
                f"A file in the archive is larger than {self.limits.max_member // MIB:,} MB."
            )

    def _local_header(self, info: zipfile.ZipInfo) -> tuple[int, bytes]:
        """Where the member's data starts, and the name its local header gives."""
        start = info.header_offset
        header = self.data[start : start + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size:
            raise ArchiveRefused("The archive is damaged and can't be opened.")
        fields = _LOCAL_HEADER.unpack(header)
        if fields[0] != b"PK\x03\x04":
            raise ArchiveRefused("The archive is damaged and can't be opened.")
        name_length, extra_length = fields[9], fields[10]
        name_start = start + _LOCAL_HEADER.size
        name = self.data[name_start : name_start + name_length]
        return name_start + name_length + extra_length, name

    def _check_layout(self, infos: list[zipfile.ZipInfo]) -> None:
        """Entries may not share bytes (the overlapping-file zip bomb) and must name the
        same file in the central directory and in their local header."""
        end = 0
        for info in sorted(infos, key=lambda i: i.header_offset):
            if info.header_offset < end:
                raise ArchiveRefused("The archive's files overlap each other (a zip bomb).")
            data_start, local_name = self._local_header(info)
            encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
            if local_name != info.orig_filename.encode(encoding, "replace"):
                raise ArchiveRefused("The archive is damaged: its file names don't agree.")
            end = data_start + info.compress_size
            if end > len(self.data):
                raise ArchiveRefused("The archive is damaged and can't be opened.")

    def _account(self, info: zipfile.ZipInfo, produced: int) -> None:
        if produced > info.file_size:
            raise ArchiveRefused(
                "A file in the archive expands beyond the size its header declares (a zip bomb)."
            )
        if produced > self.limits.max_member:
            raise ArchiveRefused(
                f"A file in the archive is larger than {self.limits.max_member // MIB:,} MB."
            )

    def stream(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The member's bytes, chunk by chunk, never more than it declares (nor the limits
        allow); its CRC is checked at the end."""
        produced = 0
        crc = 0
        for chunk in self._raw_stream(info):
            produced += len(chunk)
            self._account(info, produced)
            self.budget.total += len(chunk)
            if self.budget.total > self.limits.max_total:
                raise ArchiveRefused(
                    f"The archive expands to more than {self.limits.max_total // MIB:,} MB."
                )
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if produced != info.file_size or crc != info.CRC:
            raise ArchiveRefused("The archive is damaged: a file in it doesn't match its header.")

    def _raw_stream(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        data_start, _ = self._local_header(info)
        compressed = memoryview(self.data)[data_start : data_start + info.compress_size]
        # One byte beyond the declared size is enough to prove the header lies.
        cap = min(info.file_size, self.limits.max_member) + 1
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise ArchiveRefused(
                    "The archive is damaged: a file in it doesn't match its header."
                )
            for offset in range(0, len(compressed), _READ):
                yield bytes(compressed[offset : offset + _READ])
            return
        if info.compress_type == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
            produced = 0
            try:
                for offset in range(0, len(compressed), _READ):
                    pending = compressed[offset : offset + _READ]
                    while pending:
                        out = inflater.decompress(pending, _READ)
                        produced += len(out)
                        if out:
                            yield out
                        if produced >= cap:
                            return
                        pending = inflater.unconsumed_tail
                    if inflater.eof:
                        return
                while not inflater.eof and produced < cap:
                    out = inflater.decompress(b"", _READ)
                    if not out:
                        break
                    produced += len(out)
                    yield out
            except zlib.error:
                raise ArchiveRefused(
                    "The archive is damaged: a file in it can't be decompressed."
                ) from None
            return
        # Other methods (bzip2, LZMA): zipfile stops at the declared size itself.
        try:
            with self.zip.open(info) as handle:
                while chunk := handle.read(_READ):
                    yield chunk
        # NotImplementedError is zipfile's answer to a compression method it lacks (Deflate64,
        # PPMd...): not a stub here, a file we cannot check and so refuse
        # (test_an_archive_compressed_in_a_way_zipfile_cannot_read_is_refused).
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError):
            raise ArchiveRefused(
                "The archive is damaged, or compressed in a way the scanner can't read."
            ) from None

    def read(self, info: zipfile.ZipInfo, *, keep: int | None = None) -> tuple[bytes, bool]:
        """(bytes, whole): the member in memory when it is at most ``keep`` bytes (the
        default: the limits' keep_in_memory), else only its first 8 KiB; the whole member is
        decompressed and checked either way."""
        keep = self.limits.keep_in_memory if keep is None else keep
        whole = info.file_size <= keep
        buffer = bytearray()
        for chunk in self.stream(info):
            if whole or len(buffer) < 8 * KIB:
                buffer += chunk
        return (bytes(buffer) if whole else bytes(buffer[: 8 * KIB])), whole
