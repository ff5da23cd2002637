"""A real ClamAV daemon (Debian's /usr/sbin/clamd, package clamav-daemon) for the scanner's
tests.

`start_clamd(workdir)` writes a signature database of the tests' own and a clamd.conf into
`workdir`, starts clamd in the foreground listening on a Unix socket in that folder and on
127.0.0.1:<free port>, waits until both answer PING with PONG, and returns a `ClamdServer`
(`.stop()` ends it; `.pause()` / `.resume()` stop and continue the process, leaving a daemon
whose sockets accept connections that are never answered).

No virus database is downloaded (freshclam needs the internet). ClamAV 1.4 has no EICAR
detection of its own (with only the marker signature below loaded, it answers ``stream: OK``
to the EICAR file): the EICAR signature comes from ClamAV's databases, so the one here is
written by the tests:

    portal-test.hsb   Portal.Test.EICAR    SHA-256 and size of the 68-byte EICAR test file
    portal-test.ndb   Portal.Test.Marker   MARKER anywhere in a file, or in anything clamd
                                           unpacks from it (archive members, ...)

clamd names a signature that is not from ClamAV's own databases with ``.UNOFFICIAL`` after
it: it answers ``stream: Portal.Test.Marker.UNOFFICIAL FOUND``.

Settings that matter to the tests: StreamMaxLength is STREAM_MAX_LENGTH (1 MiB, so the size
limit is reached with small files), ReadTimeout is 10 s (a client that never ends its stream
gets clamd's ``COMMAND READ TIMED OUT`` then, not minutes later), the scan cache is off (every
stream is really scanned), logs go to the process's output files in `workdir` (nothing to
syslog or /var/log), no privilege drop (no ``User``), no pid file. Started as a child of the
test process (tests/idp/_process.py), so an interrupted run leaves no daemon behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.documents import samples
from tests.idp._process import (
    ServerProcess,
    ServerStartError,
    ServiceUnavailable,
    free_port,
    port_in_use_failure,
    require_executable,
)

READY_TIMEOUT = 30.0
STREAM_MAX_LENGTH = 1024 * 1024
# A file containing this is malware to the test daemon, and nothing to the portal's own
# checks: a document blocked for it proves clamd was asked.
MARKER = b"RECORDS-PORTAL-CLAMD-TEST-MARKER-7f3a"
EICAR_SIGNATURE = "Portal.Test.EICAR.UNOFFICIAL"
MARKER_SIGNATURE = "Portal.Test.Marker.UNOFFICIAL"
_SUN_PATH_MAX = 100  # a Unix socket path must fit in sockaddr_un (108 bytes on Linux)


def clamd_unavailable_reason() -> str | None:
    """Why clamd cannot be started here, or None when it can."""
    try:
        require_executable("clamd", "/usr/sbin/clamd")
    except ServiceUnavailable as error:
        return f"{error} (install Debian's `clamav-daemon` package)"
    return None


def write_database(folder: Path) -> None:
    """The tests' own signatures (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    eicar = samples.eicar()
    (folder / "portal-test.hsb").write_text(
        f"{hashlib.sha256(eicar).hexdigest()}:{len(eicar)}:Portal.Test.EICAR\n"
    )
    # Name:TargetType:Offset:HexSignature (target 0: any file; offset *: anywhere).
    (folder / "portal-test.ndb").write_text(f"Portal.Test.Marker:0:*:{MARKER.hex()}\n")


def _clamd_conf(rundir: Path, socket_path: str, port: int) -> str:
    return f"""\
Foreground yes
LocalSocket {socket_path}
LocalSocketMode 600
FixStaleSocket yes
TCPSocket {port}
TCPAddr 127.0.0.1
DatabaseDirectory {rundir / "db"}
TemporaryDirectory {rundir / "tmp"}
StreamMaxLength {STREAM_MAX_LENGTH}
ReadTimeout 10
DisableCache yes
MaxThreads 4
SelfCheck 3600
LogSyslog no
LogTime yes
"""


def ping(address: str, timeout: float = 2.0) -> bool:
    """Whether clamd at `address` (``host:port`` or a socket path) answers PING with PONG."""
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        target: object = address
    else:
        host, _, port = address.rpartition(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        target = (host, int(port))
    with sock:
        sock.connect(target)
        sock.sendall(b"zPING\x00")
        reply = b""
        while not reply.endswith(b"\x00"):
            piece = sock.recv(64)
            if not piece:
                break
            reply += piece
    return reply == b"PONG\x00"


@dataclass
class ClamdServer:
    tcp_address: str  # 127.0.0.1:<port>
    socket_path: str
    workdir: Path
    startup_seconds: float
    process: ServerProcess = field(repr=False)
    _socket_dir: str | None = field(default=None, repr=False)

    def pause(self) -> None:
        """SIGSTOP: the kernel still accepts connections; nothing answers them."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.running():
            self.resume()  # a stopped process would hold SIGTERM until continued
        self.process.stop()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def __enter__(self) -> ClamdServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_clamd(workdir: Path, *, attempts: int = 3) -> ClamdServer:
    """Start clamd under `workdir`. Raises ServiceUnavailable when clamd is missing,
    ServerStartError when it does not come up."""
    reason = clamd_unavailable_reason()
    if reason:
        raise ServiceUnavailable(reason)
    clamd = require_executable("clamd", "/usr/sbin/clamd")
    workdir = Path(workdir)
    for attempt in range(attempts):
        rundir = workdir / f"clamd-{attempt}"
        (rundir / "tmp").mkdir(parents=True)
        write_database(rundir / "db")
        socket_dir = None
        socket_path = str(rundir / "clamd.sock")
        if len(socket_path) > _SUN_PATH_MAX:  # a long TMPDIR
            socket_dir = tempfile.mkdtemp(prefix="clamd-")
            socket_path = os.path.join(socket_dir, "clamd.sock")
        port = free_port()
        conf = rundir / "clamd.conf"
        conf.write_text(_clamd_conf(rundir, socket_path, port))
        started = time.monotonic()
        process = ServerProcess("clamd", [clamd, f"--config-file={conf}"], rundir)
        server = ClamdServer(
            tcp_address=f"127.0.0.1:{port}",
            socket_path=socket_path,
            workdir=rundir,
            startup_seconds=0.0,
            process=process,
            _socket_dir=socket_dir,
        )
        try:
            process.wait_until(
                lambda s=server: ping(s.socket_path) and ping(s.tcp_address),
                what="PONG on its Unix socket and TCP port",
                timeout=READY_TIMEOUT,
            )
        except ServerStartError as error:
            server.stop()
            if port_in_use_failure(error) and attempt + 1 < attempts:
                continue
            raise
        server.startup_seconds = time.monotonic() - started
        return server
    raise AssertionError("unreachable")  # pragma: no cover
