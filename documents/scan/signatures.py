"""What gives a file away as a program (or a test virus) by its bytes or its name: the EICAR
test string, executable signatures (Windows PE/MZ, ELF, Mach-O, Java class, ``#!`` scripts,
Windows shortcuts), the markers of Windows Installer packages and of VBA macros in old Office
files, and file names with a program's extension."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024


def eicar() -> bytes:
    """The EICAR antivirus test string. Built from two halves so that this source file is not
    itself reported by antivirus software on developers' machines."""
    return b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


_EICAR = eicar()


@dataclass(frozen=True)
class Threat:
    location: str  # "file", "archive > folder/report.pdf", "attachment invoice.exe"
    description: str  # plain words for staff


# --- Signatures ------------------------------------------------------------------------------

_LNK = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Windows Installer package, patch and transform: the class ids of their root storage.
MSI_CLASS_IDS = tuple(
    bytes([low, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46])
    for low in (0x84, 0x86, 0x82)
)
VBA_PROJECT = "_VBA_PROJECT".encode("utf-16-le")
_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")

_RISKY = (
    "exe dll com scr pif cpl msi msp mst bat cmd ps1 psm1 psd1 vbs vbe js jse mjs wsf wsh wsc "
    "hta jar class apk app dmg pkg lnk url scf sh bash zsh csh ksh command run elf so "
    "dylib reg inf iso img vhd vhdx appx msix appxbundle msixbundle gadget chm"
)
RISKY_EXTENSIONS = frozenset(_RISKY.split(" "))


def executable_kind(head: bytes) -> str | None:
    """What kind of program the bytes start with, or None."""
    if head[:2] == b"MZ":
        if len(head) >= 0x40:
            offset = int.from_bytes(head[0x3C:0x40], "little")
            if head[offset : offset + 4] == b"PE\x00\x00":
                return "a Windows program (PE)"
        if b"\x00" in head[2:64]:
            return "a DOS or Windows program (MZ)"
    if head[:4] == b"\x7fELF":
        return "a Linux program (ELF)"
    if head[:4] in _MACHO:
        return "a macOS program (Mach-O)"
    if head[:4] == b"\xca\xfe\xba\xbe":
        return "a Java class or macOS universal program"
    if head.lstrip(b"\xef\xbb\xbf")[:2] == b"#!":
        return "a script (#!)"
    if head[:20] == _LNK:
        return "a Windows shortcut (.lnk)"
    return None


def _extension(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def risky_name(name: str) -> bool:
    return _extension(name.strip().rstrip(".")) in RISKY_EXTENSIONS


def has_eicar(data: bytes) -> bool:
    return _EICAR in data[: KIB + len(_EICAR)]


def check_head(head: bytes, *, location: str = "file") -> list[Threat]:
    """The checks that need only the first bytes: what is done for a file too large to
    open in memory (clamd, when configured, still sees all of it)."""
    found = []
    if has_eicar(head):
        found.append(Threat(location, "The EICAR antivirus test file."))
    kind = executable_kind(head)
    if kind:
        found.append(Threat(location, f"This is {kind}, not a document."))
    return found
